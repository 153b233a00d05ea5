#pragma once

#include <opencv2/core.hpp>

namespace impasto::test {

// A diagonally striped "painting", CV_32FC3 RGB [0, 1]: strong, simple
// texture that a style transfer visibly picks up.
cv::Mat stripedPainting(int width = 32, int height = 32);

}  // namespace impasto::test
