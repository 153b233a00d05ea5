#pragma once

#include <opencv2/core.hpp>

namespace impasto::test {

// A diagonally striped "painting", CV_32FC3 RGB [0, 1]: strong, simple
// texture that a style transfer visibly picks up.
cv::Mat stripedPainting(int width = 32, int height = 32);

// A tight face crop (CV_32FC3, as face-api.js's 150 px examples) inside a
// blurred border of its own edges, its side each way: the detector needs the
// context a photo has to find the face.
cv::Mat faceWithContext(const cv::Mat& crop);

}  // namespace impasto::test
