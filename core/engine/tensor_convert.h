#pragma once

#include <opencv2/core.hpp>
#include <vector>

#include "core/engine/aten.h"
#include "core/models/weights.h"

namespace impasto {

// The one place where data crosses into and out of LibTorch (conventions §1):
// images from OpenCV, weights from the (torch-free) model readers.

// CV_32FC3 RGB [0, 1], H x W  ->  float tensor [1, 3, H, W] on the CPU, owning its data.
at::Tensor imageToTensor(const cv::Mat& rgb);
// Tensor [1, 3, H, W] (any device, any float type)  ->  CV_32FC3 RGB, values as they are.
cv::Mat tensorToImage(const at::Tensor& tensor);
// An image tensor [1, 3, H, W] resized to height x width in float (bicubic,
// clamped to [0, 1]): a pyramid level hands G on without rounding to 8 bits.
at::Tensor resizeImageTensor(const at::Tensor& image, int height, int width);

// Flat float vectors to and from tensors (checkpoints); an undefined tensor is an empty vector.
std::vector<float> floatValues(const at::Tensor& tensor);
at::Tensor floatTensor(const std::vector<float>& values);

// A float tensor over the array's values, without a copy: it keeps them alive
// and must not be written to (weights never are: they are not optimised).
at::Tensor weightTensor(const WeightArray& weights);
// The other way, copying (tests and benchmarks that make weights themselves).
WeightArray weightArray(const at::Tensor& tensor);

}  // namespace impasto
