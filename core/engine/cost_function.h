#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/engine/aten.h"
#include "core/engine/feature_extractor.h"
#include "core/engine/network_geometry.h"
#include "core/engine/render.h"
#include "core/engine/tile_grid.h"
#include "core/models/model.h"

namespace impasto {

// The value of J(G) and its parts, for reporting.
struct CostTerms {
  at::Tensor total;  // differentiable w.r.t. G
  double content = 0.0;
  double style = 0.0;  // Σ_l λ_l J_style^l
  std::map<std::string, double> stylePerLayer;
  double tv = 0.0;
  // The extra term (the portrait guard's Σ_faces ‖Δf‖²), unweighted; only
  // evaluated where there is one and its weight γ is above 0.
  double identity = 0.0;
  bool identityEvaluated = false;
};

// J(G) = α·J_content(C, G) + β·Σ_l λ_l·J_style^l(S, G) + tv·J_tv(G)
// [+ γ·J_extra(G), see setExtraTerm] for one
// content image and one or more blended style images. Targets (content
// activations, style Grams) are computed once, without grad; new weights that
// name new layers add their targets on demand. cancelCheck, when given, is
// called between layers (Targets, Forward, Backward) and may throw to stop.
//
// With a tile size set, valueAndGradient evaluates exactly, tile by tile, in
// two passes (see cost_function.cpp), for images whose untiled step would not
// fit in memory; evaluate() is always untiled.
class CostFunction {
 public:
  using CancelCheck = std::function<void(RenderPhase)>;
  CostFunction(ModelPtr model, at::Tensor content, std::vector<at::Tensor> styles, std::vector<double> blend,
               std::string contentLayer, LossWeights weights, at::Device device,
               at::ScalarType dtype = at::kFloat, CancelCheck cancelCheck = {}, int tile = 0);

  // J(G) with its graph: terms.total.backward() gives ∇J.
  CostTerms evaluate(const at::Tensor& generated);
  // J(G) and ∇J (tiled when a tile size is set); terms.total has no graph.
  CostTerms valueAndGradient(const at::Tensor& generated, at::Tensor& gradient);
  void setWeights(const LossWeights& weights);
  const LossWeights& weights() const { return weights_; }
  // The tile core size in pixels (0: untiled); the targets are tiled too.
  int tile() const { return tile_; }
  // An extra term of J, weighted by weights().identity (γ, live like α and
  // β) and differentiable w.r.t. G: the portrait guard's identity term. None
  // by default; with γ = 0 it is not evaluated.
  void setExtraTerm(std::function<at::Tensor(const at::Tensor&)> term) { extraTerm_ = std::move(term); }
  bool hasExtraTerm() const { return bool(extraTerm_); }

 private:
  bool extraTermOn() const { return extraTerm_ && weights_.identity > 0.0; }
  void buildExtractor();
  void computeMissingTargets();
  // The tiles of an image: tile_ pixels, or the whole image as one.
  TileGrid gridFor(const at::Tensor& image) const;
  // Tile by tile, without a graph: the activations of `layer` over the whole
  // image, and the Gram (float64) of each layer over the image.
  at::Tensor activationOver(const at::Tensor& image, const std::string& layer) const;
  std::map<std::string, at::Tensor> gramsOver(const at::Tensor& image, const std::vector<std::string>& layers,
                                              const LayerCheck& check) const;
  CostTerms tiledValueAndGradient(const at::Tensor& generated, at::Tensor& gradient);
  std::pair<std::int64_t, std::int64_t> layerSize(const std::string& layer, std::int64_t height,
                                                  std::int64_t width) const;
  std::int64_t layerPositions(const std::string& layer, std::int64_t height, std::int64_t width) const;
  int strideOf(const std::string& layer) const;

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
  NetworkGeometry geometry_;  // up to the extractor's deepest layer
  int tile_ = 0;
  at::Tensor contentTarget_;
  std::map<std::string, at::Tensor> styleGrams_;  // already scaled to G's size
  std::function<at::Tensor(const at::Tensor&)> extraTerm_;
};

}  // namespace impasto
