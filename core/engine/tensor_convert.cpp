#include "core/engine/tensor_convert.h"

#include <ATen/ops/from_blob.h>
#include <ATen/ops/upsample_bicubic2d.h>

#include "core/util/error.h"

namespace impasto {

at::Tensor imageToTensor(const cv::Mat& rgb) {
  if (rgb.type() != CV_32FC3) throw Error(ErrorKind::Internal, "imageToTensor expects CV_32FC3");
  cv::Mat contiguous = rgb.isContinuous() ? rgb : rgb.clone();
  // from_blob borrows the Mat's buffer: clone so the tensor owns its pixels.
  return at::from_blob(contiguous.data, {1, rgb.rows, rgb.cols, 3}, at::kFloat)
      .permute({0, 3, 1, 2})
      .contiguous()
      .clone();
}

cv::Mat tensorToImage(const at::Tensor& tensor) {
  at::Tensor hwc = tensor.detach().to(at::kCPU, at::kFloat).squeeze(0).permute({1, 2, 0}).contiguous();
  cv::Mat view(int(hwc.size(0)), int(hwc.size(1)), CV_32FC3, hwc.data_ptr<float>());
  return view.clone();
}

at::Tensor resizeImageTensor(const at::Tensor& image, int height, int width) {
  at::NoGradGuard noGrad;
  return at::upsample_bicubic2d(image.detach(), {height, width}, /*align_corners=*/false).clamp_(0.0, 1.0);
}

std::vector<float> floatValues(const at::Tensor& tensor) {
  if (!tensor.defined()) return {};
  const at::Tensor t = tensor.detach().to(at::kCPU, at::kFloat).contiguous();
  return std::vector<float>(t.data_ptr<float>(), t.data_ptr<float>() + t.numel());
}

at::Tensor floatTensor(const std::vector<float>& values) {
  if (values.empty()) return {};
  return at::from_blob(const_cast<float*>(values.data()), {std::int64_t(values.size())}, at::kFloat).clone();
}

at::Tensor weightTensor(const WeightArray& weights) {
  if (!weights.defined()) return {};
  // The deleter holds a copy of the array, so its shared values outlive the tensor.
  auto keepAlive = [weights](void*) {};
  return at::from_blob(const_cast<float*>(weights.data()), weights.shape(), keepAlive, at::kFloat);
}

WeightArray weightArray(const at::Tensor& tensor) {
  const at::Tensor t = tensor.detach().to(at::kCPU, at::kFloat).contiguous();
  const float* values = t.data_ptr<float>();
  return WeightArray(t.sizes().vec(), std::vector<float>(values, values + t.numel()));
}

}  // namespace impasto
