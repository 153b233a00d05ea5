#pragma once

#include <map>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "core/engine/feature_extractor.h"
#include "core/models/model.h"
#include "core/engine/render.h"

namespace impasto {

// The value of J(G) and its parts, for reporting.
struct CostTerms {
  torch::Tensor total;  // differentiable w.r.t. G
  double content = 0.0;
  double style = 0.0;  // Σ_l λ_l J_style^l
  std::map<std::string, double> stylePerLayer;
  double tv = 0.0;
};

// J(G) = α·J_content(C, G) + β·Σ_l λ_l·J_style^l(S, G) + tv·J_tv(G) for one
// content image and one or more blended style images. Targets (content
// activations, style Grams) are computed once, without grad; new weights that
// name new layers add their targets on demand.
class CostFunction {
 public:
  CostFunction(ModelPtr model, torch::Tensor content, std::vector<torch::Tensor> styles,
               std::vector<double> blend, std::string contentLayer, LossWeights weights,
               torch::Device device, torch::Dtype dtype = torch::kFloat32);

  CostTerms evaluate(const torch::Tensor& generated);
  void setWeights(const LossWeights& weights);
  const LossWeights& weights() const { return weights_; }

 private:
  void buildExtractor();
  void computeMissingTargets();

  ModelPtr model_;
  torch::Tensor content_;
  std::vector<torch::Tensor> styles_;
  std::vector<double> blend_;  // normalised to sum 1
  std::string contentLayer_;
  LossWeights weights_;
  torch::Device device_;
  torch::Dtype dtype_;

  FeatureExtractor extractor_{nullptr};
  std::vector<std::string> extractorLayers_;
  torch::Tensor contentTarget_;
  std::map<std::string, torch::Tensor> styleGrams_;  // already scaled to G's size
};

}  // namespace impasto
