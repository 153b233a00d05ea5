#include "core/io/color_transfer.h"

#include <gtest/gtest.h>

#include <cmath>
#include <opencv2/core.hpp>

namespace impasto {
namespace {

// A colourful image with structure: a smooth gradient in each channel, seeded noise on top.
cv::Mat colourful(int rows, int cols, cv::Vec3f low, cv::Vec3f high, std::uint64_t seed) {
  cv::Mat image(rows, cols, CV_32FC3);
  cv::RNG rng(seed);
  for (int y = 0; y < rows; ++y)
    for (int x = 0; x < cols; ++x) {
      const float t = float(x + y) / float(rows + cols - 2);
      cv::Vec3f& p = image.at<cv::Vec3f>(y, x);
      for (int c = 0; c < 3; ++c)
        p[c] = std::clamp(low[c] + (high[c] - low[c]) * (c == 1 ? 1.0f - t : t) + float(rng.gaussian(0.03)),
                          0.0f, 1.0f);
    }
  return image;
}

double maxAbsDifference(const cv::Mat& a, const cv::Mat& b) { return cv::norm(a, b, cv::NORM_INF); }

TEST(ColorTransferTest, YCbCrRoundTripsAndMapsKnownColours) {
  const cv::Mat image = colourful(20, 30, {0.1f, 0.2f, 0.0f}, {0.9f, 0.7f, 1.0f}, 1);
  EXPECT_LT(maxAbsDifference(yCbCrToRgb(rgbToYCbCr(image)), image), 1e-5);
  // Grey has no chroma; pure red has Cr at its maximum (JPEG's full-range BT.601).
  cv::Mat two(1, 2, CV_32FC3);
  two.at<cv::Vec3f>(0, 0) = {0.4f, 0.4f, 0.4f};
  two.at<cv::Vec3f>(0, 1) = {1.0f, 0.0f, 0.0f};
  const cv::Mat ycc = rgbToYCbCr(two);
  EXPECT_NEAR(ycc.at<cv::Vec3f>(0, 0)[0], 0.4f, 1e-6);
  EXPECT_NEAR(ycc.at<cv::Vec3f>(0, 0)[1], 0.5f, 1e-6);
  EXPECT_NEAR(ycc.at<cv::Vec3f>(0, 0)[2], 0.5f, 1e-6);
  EXPECT_NEAR(ycc.at<cv::Vec3f>(0, 1)[0], 0.299f, 1e-6);
  EXPECT_NEAR(ycc.at<cv::Vec3f>(0, 1)[2], 1.0f, 1e-6);
}

TEST(ColorTransferTest, LumaAsRgbIsGreyWithTheSameLuma) {
  const cv::Mat image = colourful(16, 16, {0.8f, 0.1f, 0.3f}, {0.2f, 0.9f, 0.6f}, 2);
  const cv::Mat grey = rgbToYCbCr(lumaAsRgb(image));
  std::vector<cv::Mat> greyChannels, channels;
  cv::split(grey, greyChannels);
  cv::split(rgbToYCbCr(image), channels);
  EXPECT_LT(maxAbsDifference(greyChannels[0], channels[0]), 1e-5);
  EXPECT_LT(maxAbsDifference(greyChannels[1], cv::Mat(16, 16, CV_32F, cv::Scalar(0.5))), 1e-5);
  EXPECT_LT(maxAbsDifference(greyChannels[2], cv::Mat(16, 16, CV_32F, cv::Scalar(0.5))), 1e-5);
}

TEST(ColorTransferTest, WithChromaOfKeepsOneImagesLumaAndTheOthersChroma) {
  // Mid-range values, so that clamping to [0, 1] does not enter.
  const cv::Mat lumaSource = colourful(24, 24, {0.35f, 0.4f, 0.3f}, {0.6f, 0.55f, 0.65f}, 3);
  const cv::Mat chromaSource = colourful(24, 24, {0.45f, 0.5f, 0.4f}, {0.55f, 0.45f, 0.6f}, 4);
  std::vector<cv::Mat> result, luma, chroma;
  cv::split(rgbToYCbCr(withChromaOf(lumaSource, chromaSource)), result);
  cv::split(rgbToYCbCr(lumaSource), luma);
  cv::split(rgbToYCbCr(chromaSource), chroma);
  EXPECT_LT(maxAbsDifference(result[0], luma[0]), 1e-5);
  EXPECT_LT(maxAbsDifference(result[1], chroma[1]), 1e-5);
  EXPECT_LT(maxAbsDifference(result[2], chroma[2]), 1e-5);
  // And it is not simply one of the inputs.
  EXPECT_GT(maxAbsDifference(withChromaOf(lumaSource, chromaSource), lumaSource), 0.02);
  EXPECT_GT(maxAbsDifference(withChromaOf(lumaSource, chromaSource), chromaSource), 0.02);
}

TEST(ColorTransferTest, MatchedLumaTakesTheReferencesMeanAndContrast) {
  const cv::Mat dark = colourful(32, 32, {0.0f, 0.05f, 0.1f}, {0.3f, 0.2f, 0.35f}, 5);
  const cv::Mat bright = colourful(32, 32, {0.3f, 0.4f, 0.2f}, {1.0f, 0.9f, 0.95f}, 6);
  const cv::Mat matched = matchedLumaAsRgb(dark, bright);
  std::vector<cv::Mat> m, b;
  cv::split(rgbToYCbCr(matched), m);
  cv::split(rgbToYCbCr(bright), b);
  cv::Scalar mMean, mStd, bMean, bStd;
  cv::meanStdDev(m[0], mMean, mStd);
  cv::meanStdDev(b[0], bMean, bStd);
  EXPECT_NEAR(mMean[0], bMean[0], 0.01);
  EXPECT_NEAR(mStd[0], bStd[0], 0.01);
  EXPECT_LT(maxAbsDifference(m[1], cv::Mat(32, 32, CV_32F, cv::Scalar(0.5))), 1e-5);  // grey
}

TEST(ColorTransferTest, MatchColorStatisticsGivesTheReferencesMeanAndCovariance) {
  // Values well inside [0, 1] after the transform, so that clamping does not enter.
  const cv::Mat style = colourful(40, 40, {0.2f, 0.3f, 0.5f}, {0.5f, 0.45f, 0.7f}, 7);
  const cv::Mat photo = colourful(40, 40, {0.45f, 0.35f, 0.3f}, {0.7f, 0.55f, 0.4f}, 8);
  const ColorStatistics want = colorStatistics(photo);
  const ColorStatistics before = colorStatistics(style);
  const ColorStatistics got = colorStatistics(matchColorStatistics(style, photo));
  double meanGap = 0.0, covarianceGap = 0.0;
  for (int i = 0; i < 3; ++i) {
    EXPECT_NEAR(got.mean[i], want.mean[i], 1e-3);
    meanGap = std::max(meanGap, std::abs(before.mean[i] - want.mean[i]));
    for (int j = 0; j < 3; ++j) {
      EXPECT_NEAR(got.covariance(i, j), want.covariance(i, j), 1e-4);
      covarianceGap = std::max(covarianceGap, std::abs(before.covariance(i, j) - want.covariance(i, j)));
    }
  }
  EXPECT_GT(meanGap, 0.05);  // the transform had work to do
  EXPECT_GT(covarianceGap, 1e-3);
}

TEST(ColorTransferTest, MatchColorStatisticsDoesNotAmplifyAGreyImagesMissingColours) {
  // A grey painting has only one colour direction (its luma): the others hold
  // nothing, and must stay so rather than blow up its quantisation noise.
  const cv::Mat grey = lumaAsRgb(colourful(30, 30, {0.1f, 0.2f, 0.3f}, {0.9f, 0.8f, 0.7f}, 9));
  const cv::Mat photo = colourful(30, 30, {0.6f, 0.3f, 0.2f}, {0.9f, 0.5f, 0.3f}, 10);
  const cv::Mat matched = matchColorStatistics(grey, photo);
  ASSERT_TRUE(cv::checkRange(matched, true, nullptr, 0.0, 1.0 + 1e-6));
  const ColorStatistics got = colorStatistics(matched), photoStats = colorStatistics(photo);
  for (int c = 0; c < 3; ++c) {
    EXPECT_NEAR(got.mean[c], photoStats.mean[c], 0.01);
    EXPECT_LE(got.covariance(c, c), photoStats.covariance(c, c) + 1e-4);
  }
  EXPECT_GT(got.covariance(0, 0), 1e-3);  // the luma structure survives
}

}  // namespace
}  // namespace impasto
