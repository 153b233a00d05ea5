#pragma once

#include <opencv2/core.hpp>

namespace impasto {

// Colour preservation (Gatys et al. 2016, "Preserving color in neural artistic
// style transfer"). Images are CV_32FC3 RGB in [0, 1] throughout.

// Full-range BT.601 YCbCr (JPEG's): Y in [0, 1], Cb and Cr centred on 0.5.
cv::Mat rgbToYCbCr(const cv::Mat& rgb);
cv::Mat yCbCrToRgb(const cv::Mat& ycbcr);  // not clamped

// The luma of rgb, as a grey RGB image (Y in all three channels).
cv::Mat lumaAsRgb(const cv::Mat& rgb);

// The paper's luminance matching: image's luma, shifted and scaled to the
// mean and standard deviation of reference's luma, as a grey RGB image, so
// that a luma-only transfer does not also pull the photo's brightness and
// contrast towards the painting's.
cv::Mat matchedLumaAsRgb(const cv::Mat& image, const cv::Mat& reference);

// The luma of lumaSource with the chroma (Cb, Cr) of chromaSource, which must
// be of the same size; clamped to [0, 1].
cv::Mat withChromaOf(const cv::Mat& lumaSource, const cv::Mat& chromaSource);

struct ColorStatistics {
  cv::Vec3d mean;
  cv::Matx33d covariance;
};
ColorStatistics colorStatistics(const cv::Mat& rgb);

// image with the colour mean and covariance of reference: x' = A (x − μ) + μ_ref
// with A = Σ_ref^½ Σ^−½ (symmetric square roots), clamped to [0, 1]. A grey
// image's missing colour directions stay missing rather than being amplified.
cv::Mat matchColorStatistics(const cv::Mat& image, const cv::Mat& reference);

}  // namespace impasto
