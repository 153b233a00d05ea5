#include "tests/support/test_images.h"

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

}  // namespace impasto::test
