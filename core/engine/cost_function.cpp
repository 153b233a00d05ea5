#include "core/engine/cost_function.h"

#include <algorithm>
#include <numeric>

#include "core/engine/losses.h"
#include "core/util/error.h"

namespace impasto {

CostFunction::CostFunction(ModelPtr model, at::Tensor content, std::vector<at::Tensor> styles,
                           std::vector<double> blend, std::string contentLayer, LossWeights weights,
                           at::Device device, at::ScalarType dtype, CancelCheck cancelCheck)
    : model_(std::move(model)),
      content_(content.to(device, dtype)),
      contentLayer_(std::move(contentLayer)),
      weights_(std::move(weights)),
      device_(device),
      dtype_(dtype) {
  if (cancelCheck) {
    targetsCheck_ = [cancelCheck](LayerPass) { cancelCheck(RenderPhase::Targets); };
    evaluateCheck_ = [cancelCheck](LayerPass pass) {
      cancelCheck(pass == LayerPass::Forward ? RenderPhase::Forward : RenderPhase::Backward);
    };
  }
  if (styles.empty()) throw Error(ErrorKind::Usage, "At least one style image is needed");
  if (blend.empty()) blend.assign(styles.size(), 1.0);
  if (blend.size() != styles.size())
    throw Error(ErrorKind::Usage, "Give one blend weight per style image (" + std::to_string(styles.size()) +
                                      " styles, " + std::to_string(blend.size()) + " weights)");
  const double sum = std::accumulate(blend.begin(), blend.end(), 0.0);
  if (!(sum > 0.0) || std::any_of(blend.begin(), blend.end(), [](double w) { return w < 0.0; }))
    throw Error(ErrorKind::Usage, "Style blend weights must be non-negative and not all zero");
  for (double w : blend) blend_.push_back(w / sum);
  for (auto& s : styles) styles_.push_back(s.to(device, dtype));
  computeMissingTargets();
}

void CostFunction::buildExtractor() {
  std::vector<std::string> layers{contentLayer_};
  for (const auto& [name, lambda] : weights_.styleLayers) layers.push_back(name);
  std::sort(layers.begin(), layers.end());
  layers.erase(std::unique(layers.begin(), layers.end()), layers.end());
  if (extractor_ && layers == extractorLayers_) return;
  extractor_.emplace(*model_, layers, device_, dtype_);
  extractorLayers_ = layers;
}

void CostFunction::computeMissingTargets() {
  buildExtractor();
  std::vector<std::string> missing;
  for (const auto& [name, lambda] : weights_.styleLayers)
    if (!styleGrams_.count(name)) missing.push_back(name);
  if (contentTarget_.defined() && missing.empty()) return;

  at::NoGradGuard noGrad;
  const auto contentActivations = extractor_->forward(content_, targetsCheck_);
  if (!contentTarget_.defined()) contentTarget_ = contentActivations.at(contentLayer_);
  // Summed apart and kept only when complete: a check may throw between styles.
  std::map<std::string, at::Tensor> added;
  for (std::size_t i = 0; i < styles_.size() && !missing.empty(); ++i) {
    auto activations = extractor_->forward(styles_[i], targetsCheck_);
    for (const auto& name : missing) {
      const auto& a = activations.at(name);
      // G has the content image's size; its activations fix the Gram's scale.
      const auto& g = contentActivations.at(name);
      at::Tensor gram =
          rescaleGram(gramMatrix(a), double(a.size(2) * a.size(3)), double(g.size(2) * g.size(3))) *
          blend_[i];
      added[name] = added.count(name) ? added[name] + gram : gram;
    }
  }
  styleGrams_.merge(added);
}

void CostFunction::setWeights(const LossWeights& weights) {
  for (const auto& [name, lambda] : weights.styleLayers)
    if (!model_->hasLayer(name)) throw Error(ErrorKind::Usage, "Unknown style layer '" + name + "'");
  weights_ = weights;
  computeMissingTargets();
}

CostTerms CostFunction::evaluate(const at::Tensor& generated) {
  auto activations = extractor_->forward(generated, evaluateCheck_);
  CostTerms terms;
  at::Tensor contentTerm = contentCost(activations.at(contentLayer_), contentTarget_);
  at::Tensor total = weights_.alpha * contentTerm;
  terms.content = contentTerm.item<double>();
  for (const auto& [name, lambda] : weights_.styleLayers) {
    if (lambda == 0.0) continue;
    at::Tensor layerCost = styleLayerCost(activations.at(name), styleGrams_.at(name));
    const double value = layerCost.item<double>();
    terms.stylePerLayer[name] = value;
    terms.style += lambda * value;
    total = total + (weights_.beta * lambda) * layerCost;
  }
  if (weights_.tv > 0.0) {
    at::Tensor tvTerm = totalVariationCost(generated);
    terms.tv = tvTerm.item<double>();
    total = total + weights_.tv * tvTerm;
  }
  if (extraTerm_) {
    at::Tensor extra = extraTerm_(generated);
    terms.identity = extra.item<double>();
    total = total + extra;
  }
  terms.total = total;
  return terms;
}

}  // namespace impasto
