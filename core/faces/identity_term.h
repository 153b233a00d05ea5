#pragma once

#include <vector>

#include "core/engine/aten.h"
#include "core/faces/face_analyzer.h"

namespace impasto {

// The portrait guard's term of J: γ · Σ_faces ‖f(C_face) − f(G_face)‖², f the
// 128-d FaceRecognitionNet encoding, differentiable with respect to G through
// the network (autograd). The face regions are fixed from C: the aligned
// boxes of its faces, in G's pixels. Each face's squared distance is the mean
// over the cuts of identityTermCuts() (C and G cut alike), so the term cannot
// be met by a pattern that fools the network at one exact crop. Includes
// torch: engine code only.
class IdentityTerm {
 public:
  // content: CV_32FC3 RGB [0, 1] at G's size; its faces are found here.
  IdentityTerm(const FaceModels& models, const cv::Mat& content);
  // Regions given (G's pixels); content: [1, 3, H, W] RGB [0, 1].
  IdentityTerm(const FaceModels& models, const at::Tensor& content, std::vector<FaceRect> regions);

  bool empty() const { return regions_.empty(); }
  const std::vector<FaceRect>& regions() const { return regions_; }
  // Per face, the cuts it is encoded through (G's pixels).
  const std::vector<std::vector<FaceRect>>& cuts() const { return cuts_; }
  // Σ_faces mean_cuts ‖f(C_cut) − f(G_cut)‖² (unweighted), a scalar tensor
  // with G's graph. generated: [1, 3, H, W] RGB [0, 1], C's size.
  at::Tensor evaluate(const at::Tensor& generated) const;
  // Per face, the root mean square over its cuts of ‖f(C_cut) − f(G_cut)‖,
  // without grad: evaluate() is the sum of their squares.
  std::vector<double> distances(const at::Tensor& generated) const;

 private:
  // [cuts, 128]: the face's cuts encoded in one batch.
  at::Tensor encode(const at::Tensor& image, const std::vector<FaceRect>& cuts) const;
  // Per face, mean_cuts ‖f(C_cut) − f(G_cut)‖², a [faces] tensor.
  at::Tensor squaredDistances(const at::Tensor& generated) const;

  const FaceModels& models_;
  std::vector<FaceRect> regions_;
  std::vector<std::vector<FaceRect>> cuts_;
  std::vector<at::Tensor> targets_;  // f(C_cut) per face, [cuts, 128], no grad
};

}  // namespace impasto
