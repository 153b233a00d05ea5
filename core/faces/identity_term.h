#pragma once

#include <vector>

#include "core/engine/aten.h"
#include "core/faces/face_analyzer.h"

namespace impasto {

// The portrait guard's term of J: γ · Σ_faces ‖f(C_face) − f(G_face)‖², f the
// 128-d FaceRecognitionNet encoding, differentiable with respect to G through
// the network (autograd). The face regions are fixed from C: the aligned
// boxes of its faces, in G's pixels. Includes torch: engine code only.
class IdentityTerm {
 public:
  // content: CV_32FC3 RGB [0, 1] at G's size; its faces are found here.
  IdentityTerm(const FaceModels& models, const cv::Mat& content);
  // Regions given (G's pixels); content: [1, 3, H, W] RGB [0, 1].
  IdentityTerm(const FaceModels& models, const at::Tensor& content, std::vector<FaceRect> regions);

  bool empty() const { return regions_.empty(); }
  const std::vector<FaceRect>& regions() const { return regions_; }
  // Σ_faces ‖f(C_face) − f(G_face)‖² (unweighted), a scalar tensor with
  // G's graph. generated: [1, 3, H, W] RGB [0, 1], C's size.
  at::Tensor evaluate(const at::Tensor& generated) const;
  // ‖f(C_face) − f(G_face)‖ per face, without grad.
  std::vector<double> distances(const at::Tensor& generated) const;

 private:
  at::Tensor encode(const at::Tensor& image, const FaceRect& region) const;

  const FaceModels& models_;
  std::vector<FaceRect> regions_;
  std::vector<at::Tensor> targets_;  // f(C_face), [1, 128], no grad
};

}  // namespace impasto
