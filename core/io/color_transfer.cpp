#include "core/io/color_transfer.h"

#include <algorithm>
#include <cmath>

#include "core/util/error.h"

namespace impasto {

namespace {

// Rows: Y, Cb, Cr from R, G, B, then the offset (cv::transform's 3x4 form).
const cv::Matx34f kToYCbCr(0.299f, 0.587f, 0.114f, 0.0f,        //
                           -0.168736f, -0.331264f, 0.5f, 0.5f,  //
                           0.5f, -0.418688f, -0.081312f, 0.5f);
const cv::Matx34f kToRgb(1.0f, 0.0f, 1.402f, -0.701f,              //
                         1.0f, -0.344136f, -0.714136f, 0.529136f,  //
                         1.0f, 1.772f, 0.0f, -0.886f);

void requireRgb(const cv::Mat& image, const char* what) {
  if (image.type() != CV_32FC3 || image.empty())
    throw Error(ErrorKind::Internal, std::string(what) + " must be a float RGB image");
}

cv::Mat clamped(cv::Mat image) {
  cv::min(image, 1.0, image);
  cv::max(image, 0.0, image);
  return image;
}

cv::Mat greyFrom(const cv::Mat& luma) {
  cv::Mat grey;
  cv::merge(std::vector<cv::Mat>{luma, luma, luma}, grey);
  return grey;
}

cv::Mat lumaOf(const cv::Mat& rgb) {
  cv::Mat luma;
  cv::transform(rgb, luma, cv::Matx13f(0.299f, 0.587f, 0.114f));
  return luma;
}

// The symmetric square root of a covariance, or of its inverse (power −½);
// eigenvalues below floor count as floor.
cv::Matx33d symmetricPower(const cv::Matx33d& covariance, double power, double floor) {
  cv::Mat values, vectors;  // vectors in rows
  cv::eigen(cv::Mat(covariance), values, vectors);
  cv::Matx33d v(vectors), d = cv::Matx33d::zeros();
  for (int i = 0; i < 3; ++i) d(i, i) = std::pow(std::max(values.at<double>(i), floor), power);
  return v.t() * d * v;
}

}  // namespace

cv::Mat rgbToYCbCr(const cv::Mat& rgb) {
  requireRgb(rgb, "The image");
  cv::Mat out;
  cv::transform(rgb, out, kToYCbCr);
  return out;
}

cv::Mat yCbCrToRgb(const cv::Mat& ycbcr) {
  requireRgb(ycbcr, "The image");
  cv::Mat out;
  cv::transform(ycbcr, out, kToRgb);
  return out;
}

cv::Mat lumaAsRgb(const cv::Mat& rgb) {
  requireRgb(rgb, "The image");
  return greyFrom(lumaOf(rgb));
}

cv::Mat matchedLumaAsRgb(const cv::Mat& image, const cv::Mat& reference) {
  requireRgb(image, "The image");
  requireRgb(reference, "The reference");
  cv::Mat luma = lumaOf(image);
  cv::Scalar mean, stddev, refMean, refStddev;
  cv::meanStdDev(luma, mean, stddev);
  cv::meanStdDev(lumaOf(reference), refMean, refStddev);
  // A flat image has no contrast to scale: it only moves to the reference's mean.
  const double scale = stddev[0] > 1e-6 ? refStddev[0] / stddev[0] : 1.0;
  luma.convertTo(luma, CV_32F, scale, refMean[0] - scale * mean[0]);
  return clamped(greyFrom(luma));
}

cv::Mat withChromaOf(const cv::Mat& lumaSource, const cv::Mat& chromaSource) {
  requireRgb(lumaSource, "The image");
  requireRgb(chromaSource, "The colour source");
  if (lumaSource.size() != chromaSource.size())
    throw Error(ErrorKind::Internal, "Luma and chroma images differ in size");
  std::vector<cv::Mat> channels;
  cv::split(rgbToYCbCr(chromaSource), channels);
  channels[0] = lumaOf(lumaSource);
  cv::Mat ycbcr;
  cv::merge(channels, ycbcr);
  return clamped(yCbCrToRgb(ycbcr));
}

ColorStatistics colorStatistics(const cv::Mat& rgb) {
  requireRgb(rgb, "The image");
  const cv::Mat samples = rgb.reshape(1, int(rgb.total()));  // one row per pixel
  cv::Mat covariance, mean;
  cv::calcCovarMatrix(samples, covariance, mean, cv::COVAR_NORMAL | cv::COVAR_ROWS | cv::COVAR_SCALE, CV_64F);
  ColorStatistics stats;
  for (int c = 0; c < 3; ++c) stats.mean[c] = mean.at<double>(0, c);
  stats.covariance = cv::Matx33d(covariance);
  return stats;
}

cv::Mat matchColorStatistics(const cv::Mat& image, const cv::Mat& reference) {
  const ColorStatistics from = colorStatistics(image);
  const ColorStatistics to = colorStatistics(reference);
  // Below about one 8-bit level of spread a direction holds quantisation noise, not colour.
  constexpr double kFloor = 1e-5;
  const cv::Matx33d a =
      symmetricPower(to.covariance, 0.5, 0.0) * symmetricPower(from.covariance, -0.5, kFloor);
  const cv::Vec3d offset = to.mean - a * from.mean;
  const cv::Matx34f affine(float(a(0, 0)), float(a(0, 1)), float(a(0, 2)), float(offset[0]),  //
                           float(a(1, 0)), float(a(1, 1)), float(a(1, 2)), float(offset[1]),  //
                           float(a(2, 0)), float(a(2, 1)), float(a(2, 2)), float(offset[2]));
  cv::Mat out;
  cv::transform(image, out, affine);
  return clamped(out);
}

}  // namespace impasto
