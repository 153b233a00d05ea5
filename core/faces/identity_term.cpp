#include "core/faces/identity_term.h"

#include <ATen/ops/zeros_like.h>

#include <cmath>

#include "core/engine/tensor_convert.h"
#include "core/faces/face_networks.h"
#include "core/util/error.h"

namespace impasto {
namespace {

std::vector<FaceRect> alignedRegions(const FaceModels& models, const cv::Mat& content) {
  std::vector<FaceRect> regions;
  for (const FaceAnalysis& face : models.analyze(content))
    if (face.aligned.width >= 1 && face.aligned.height >= 1) regions.push_back(face.aligned);
  return regions;
}

}  // namespace

IdentityTerm::IdentityTerm(const FaceModels& models, const cv::Mat& content)
    : IdentityTerm(models, imageToTensor(content), alignedRegions(models, content)) {}

IdentityTerm::IdentityTerm(const FaceModels& models, const at::Tensor& content, std::vector<FaceRect> regions)
    : models_(models), regions_(std::move(regions)) {
  at::NoGradGuard noGrad;
  for (const FaceRect& region : regions_) {
    if (region.x < 0 || region.y < 0 || region.width < 1 || region.height < 1 ||
        region.right() > double(content.size(3)) || region.bottom() > double(content.size(2)))
      throw Error(ErrorKind::Internal, "IdentityTerm: a face region outside the image");
    targets_.push_back(encode(content.detach(), region));
  }
}

at::Tensor IdentityTerm::encode(const at::Tensor& image, const FaceRect& region) const {
  const auto x = static_cast<std::int64_t>(region.x);
  const auto y = static_cast<std::int64_t>(region.y);
  const at::Tensor crop = image.slice(2, y, y + static_cast<std::int64_t>(region.height))
                              .slice(3, x, x + static_cast<std::int64_t>(region.width));
  const at::Tensor input = squareNetworkInput(crop * 255.0, FaceRecognitionNet::kInputSize, true);
  return models_.networks().recognition.forward(input);
}

at::Tensor IdentityTerm::evaluate(const at::Tensor& generated) const {
  at::Tensor total;
  for (std::size_t i = 0; i < regions_.size(); ++i) {
    const at::Tensor diff =
        encode(generated, regions_[i]) - targets_[i].to(generated.device(), generated.scalar_type());
    const at::Tensor term = (diff * diff).sum();
    total = total.defined() ? total + term : term;
  }
  return total.defined() ? total : at::zeros_like(generated).sum();
}

std::vector<double> IdentityTerm::distances(const at::Tensor& generated) const {
  at::NoGradGuard noGrad;
  std::vector<double> result;
  for (std::size_t i = 0; i < regions_.size(); ++i)
    result.push_back(
        std::sqrt((encode(generated.detach(), regions_[i]) - targets_[i].to(generated.scalar_type()))
                      .pow(2)
                      .sum()
                      .item<double>()));
  return result;
}

}  // namespace impasto
