#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/engine/aten.h"
#include "core/engine/feature_extractor.h"
#include "core/engine/render.h"
#include "core/models/model.h"

namespace impasto {

// The value of J(G) and its parts, for reporting.
struct CostTerms {
  at::Tensor total;  // differentiable w.r.t. G
  double content = 0.0;
  double style = 0.0;  // Σ_l λ_l J_style^l
  std::map<std::string, double> stylePerLayer;
  double tv = 0.0;
  double identity = 0.0;  // the extra term (--keep-identity), weighted
};

// J(G) = α·J_content(C, G) + β·Σ_l λ_l·J_style^l(S, G) + tv·J_tv(G) for one
// content image and one or more blended style images. Targets (content
// activations, style Grams) are computed once, without grad; new weights that
// name new layers add their targets on demand. cancelCheck, when given, is
// called between layers (Targets, Forward, Backward) and may throw to stop.
class CostFunction {
 public:
  using CancelCheck = std::function<void(RenderPhase)>;
  CostFunction(ModelPtr model, at::Tensor content, std::vector<at::Tensor> styles, std::vector<double> blend,
               std::string contentLayer, LossWeights weights, at::Device device,
               at::ScalarType dtype = at::kFloat, CancelCheck cancelCheck = {});

  CostTerms evaluate(const at::Tensor& generated);
  void setWeights(const LossWeights& weights);
  const LossWeights& weights() const { return weights_; }
  // An extra term added to J as it is (already weighted), differentiable
  // w.r.t. G: the portrait guard's identity term. None by default.
  void setExtraTerm(std::function<at::Tensor(const at::Tensor&)> term) { extraTerm_ = std::move(term); }

 private:
  void buildExtractor();
  void computeMissingTargets();

  ModelPtr model_;
  at::Tensor content_;
  std::vector<at::Tensor> styles_;
  std::vector<double> blend_;  // normalised to sum 1
  std::string contentLayer_;
  LossWeights weights_;
  at::Device device_;
  at::ScalarType dtype_;
  LayerCheck targetsCheck_;   // cancelCheck as Targets
  LayerCheck evaluateCheck_;  // cancelCheck as Forward and Backward

  std::optional<FeatureExtractor> extractor_;
  std::vector<std::string> extractorLayers_;
  at::Tensor contentTarget_;
  std::map<std::string, at::Tensor> styleGrams_;  // already scaled to G's size
  std::function<at::Tensor(const at::Tensor&)> extraTerm_;
};

}  // namespace impasto
