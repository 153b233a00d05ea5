#include "tests/support/test_images.h"

#include <algorithm>
#include <opencv2/imgproc.hpp>

namespace impasto::test {

cv::Mat stripedPainting(int width, int height) {
  cv::Mat image(height, width, CV_32FC3);
  for (int y = 0; y < height; ++y)
    for (int x = 0; x < width; ++x) {
      const float stripe = ((x + y) / 3) % 2 ? 0.9f : 0.1f;
      image.at<cv::Vec3f>(y, x) = {stripe, 1.0f - stripe, 0.3f};
    }
  return image;
}

cv::Mat faceWithContext(const cv::Mat& crop) {
  const int border = std::max(crop.cols, crop.rows);
  cv::Mat padded, blurred;
  cv::copyMakeBorder(crop, padded, border, border, border, border, cv::BORDER_REPLICATE);
  cv::GaussianBlur(padded, blurred, cv::Size(0, 0), border / 4.0);
  crop.copyTo(blurred(cv::Rect(border, border, crop.cols, crop.rows)));
  return blurred;
}

}  // namespace impasto::test
