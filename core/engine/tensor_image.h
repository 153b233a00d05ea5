#pragma once

#include <opencv2/core.hpp>
#include <torch/torch.h>

namespace impasto {

// The one place where images cross between OpenCV and LibTorch (conventions §1).

// CV_32FC3 RGB [0, 1], H x W  ->  float tensor [1, 3, H, W] on the CPU, owning its data.
torch::Tensor imageToTensor(const cv::Mat& rgb);

// Tensor [1, 3, H, W] (any device, any float type)  ->  CV_32FC3 RGB, values as they are.
cv::Mat tensorToImage(const torch::Tensor& tensor);

}  // namespace impasto
