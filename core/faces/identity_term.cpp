#include "core/faces/identity_term.h"

#include <ATen/ops/cat.h>
#include <ATen/ops/stack.h>
#include <ATen/ops/zeros_like.h>

#include <cmath>

#include "core/engine/tensor_convert.h"
#include "core/faces/face_geometry.h"
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
  const auto width = static_cast<int>(content.size(3));
  const auto height = static_cast<int>(content.size(2));
  for (const FaceRect& region : regions_) {
    if (region.x < 0 || region.y < 0 || region.width < 1 || region.height < 1 || region.right() > width ||
        region.bottom() > height)
      throw Error(ErrorKind::Internal, "IdentityTerm: a face region outside the image");
    std::vector<FaceRect> cuts = cutsOf(region, identityTermCuts(), width, height, 1.0);
    targets_.push_back(encode(content.detach(), cuts));
    cuts_.push_back(std::move(cuts));
  }
}

at::Tensor IdentityTerm::encode(const at::Tensor& image, const std::vector<FaceRect>& cuts) const {
  std::vector<at::Tensor> inputs;
  for (const FaceRect& cut : cuts) {
    const auto x = static_cast<std::int64_t>(cut.x);
    const auto y = static_cast<std::int64_t>(cut.y);
    const at::Tensor crop = image.slice(2, y, y + static_cast<std::int64_t>(cut.height))
                                .slice(3, x, x + static_cast<std::int64_t>(cut.width));
    inputs.push_back(squareNetworkInput(crop * 255.0, FaceRecognitionNet::kInputSize, true));
  }
  return models_.networks().recognition.forward(at::cat(inputs, 0));
}

at::Tensor IdentityTerm::squaredDistances(const at::Tensor& generated) const {
  std::vector<at::Tensor> perFace;
  for (std::size_t i = 0; i < regions_.size(); ++i) {
    const at::Tensor diff =
        encode(generated, cuts_[i]) - targets_[i].to(generated.device(), generated.scalar_type());
    perFace.push_back((diff * diff).sum(1).mean());
  }
  return at::stack(perFace);
}

at::Tensor IdentityTerm::evaluate(const at::Tensor& generated) const {
  if (regions_.empty()) return at::zeros_like(generated).sum();
  return squaredDistances(generated).sum();
}

std::vector<double> IdentityTerm::distances(const at::Tensor& generated) const {
  at::NoGradGuard noGrad;
  std::vector<double> result;
  if (regions_.empty()) return result;
  const at::Tensor squared = squaredDistances(generated.detach()).to(at::kDouble).contiguous();
  for (std::int64_t i = 0; i < squared.size(0); ++i) result.push_back(std::sqrt(squared[i].item<double>()));
  return result;
}

}  // namespace impasto
