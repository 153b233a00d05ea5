#include "core/engine/tensor_image.h"

#include "core/util/error.h"

namespace impasto {

torch::Tensor imageToTensor(const cv::Mat& rgb) {
  if (rgb.type() != CV_32FC3) throw Error(ErrorKind::Internal, "imageToTensor expects CV_32FC3");
  cv::Mat contiguous = rgb.isContinuous() ? rgb : rgb.clone();
  // from_blob borrows the Mat's buffer: clone so the tensor owns its pixels.
  return torch::from_blob(contiguous.data, {1, rgb.rows, rgb.cols, 3}, torch::kFloat32)
      .permute({0, 3, 1, 2})
      .contiguous()
      .clone();
}

cv::Mat tensorToImage(const torch::Tensor& tensor) {
  torch::Tensor hwc = tensor.detach().to(torch::kCPU, torch::kFloat32).squeeze(0).permute({1, 2, 0}).contiguous();
  cv::Mat view(int(hwc.size(0)), int(hwc.size(1)), CV_32FC3, hwc.data_ptr<float>());
  return view.clone();
}

}  // namespace impasto
