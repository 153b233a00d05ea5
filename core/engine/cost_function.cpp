#include "core/engine/cost_function.h"

#include <ATen/ops/scalar_tensor.h>
#include <ATen/ops/zeros.h>
#include <ATen/ops/zeros_like.h>
#include <torch/csrc/autograd/autograd.h>

#include <algorithm>
#include <numeric>

#include "core/engine/losses.h"
#include "core/engine/tile_grid.h"
#include "core/util/error.h"

namespace impasto {

CostFunction::CostFunction(ModelPtr model, at::Tensor content, std::vector<at::Tensor> styles,
                           std::vector<double> blend, std::string contentLayer, LossWeights weights,
                           at::Device device, at::ScalarType dtype, CancelCheck cancelCheck, int tile)
    : model_(std::move(model)),
      content_(content.to(device, dtype)),
      contentLayer_(std::move(contentLayer)),
      weights_(std::move(weights)),
      device_(device),
      dtype_(dtype),
      tile_(std::max(0, tile)) {
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
  geometry_ = networkGeometry(*model_, deepestLayerIndex(*model_, layers));
}

std::pair<std::int64_t, std::int64_t> CostFunction::layerSize(const std::string& layer, std::int64_t height,
                                                              std::int64_t width) const {
  const std::size_t last = deepestLayerIndex(*model_, {layer});
  for (std::size_t i = 0; i <= last; ++i) {
    height = layerOutputSize(model_->layers()[i], height);
    width = layerOutputSize(model_->layers()[i], width);
  }
  return {height, width};
}

std::int64_t CostFunction::layerPositions(const std::string& layer, std::int64_t height,
                                          std::int64_t width) const {
  const auto [h, w] = layerSize(layer, height, width);
  return h * w;
}

int CostFunction::strideOf(const std::string& layer) const {
  return geometry_.layers.at(deepestLayerIndex(*model_, {layer})).stride;
}

void CostFunction::computeMissingTargets() {
  buildExtractor();
  std::vector<std::string> missing;
  for (const auto& [name, lambda] : weights_.styleLayers)
    if (!styleGrams_.count(name)) missing.push_back(name);
  if (contentTarget_.defined() && missing.empty()) return;

  at::NoGradGuard noGrad;
  if (!contentTarget_.defined()) contentTarget_ = activationOver(content_, contentLayer_);
  // Summed apart and kept only when complete: a check may throw between styles.
  std::map<std::string, at::Tensor> added;
  for (std::size_t i = 0; i < styles_.size() && !missing.empty(); ++i) {
    const at::Tensor& style = styles_[i];
    const auto grams = gramsOver(style, missing, targetsCheck_);
    for (const auto& name : missing) {
      // G has the content image's size: its positions fix the Gram's scale.
      const double styleSize = double(layerPositions(name, style.size(2), style.size(3)));
      const double generatedSize = double(layerPositions(name, content_.size(2), content_.size(3)));
      at::Tensor gram = rescaleGram(grams.at(name), styleSize, generatedSize).to(dtype_) * blend_[i];
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
  CostTerms terms;
  at::Tensor total;
  auto add = [&total](const at::Tensor& term) { total = total.defined() ? total + term : term; };
  // Each cost joins the graph right after its layer. Autograd runs the nodes
  // made last first, so a style layer's gradient (as big as the layer) is
  // made when the backward reaches that layer, not all of them at its start.
  extractor_->forwardEach(
      generated,
      [&](const std::string& name, const at::Tensor& activation) {
        if (name == contentLayer_) {
          at::Tensor contentTerm = contentCost(activation, contentTarget_);
          terms.content = contentTerm.item<double>();
          add(weights_.alpha * contentTerm);
        }
        const auto lambda = weights_.styleLayers.find(name);
        if (lambda == weights_.styleLayers.end() || lambda->second == 0.0) return;
        at::Tensor layerCost = styleLayerCost(activation, styleGrams_.at(name));
        const double value = layerCost.item<double>();
        terms.stylePerLayer[name] = value;
        terms.style += lambda->second * value;
        add((weights_.beta * lambda->second) * layerCost);
      },
      evaluateCheck_);
  if (weights_.tv > 0.0) {
    at::Tensor tvTerm = totalVariationCost(generated);
    terms.tv = tvTerm.item<double>();
    add(weights_.tv * tvTerm);
  }
  if (extraTermOn()) {
    at::Tensor extra = extraTerm_(generated);
    terms.identity = extra.item<double>();
    terms.identityEvaluated = true;
    add(weights_.identity * extra);
  }
  terms.total = total;
  return terms;
}

CostTerms CostFunction::valueAndGradient(const at::Tensor& generated, at::Tensor& gradient) {
  if (tile_ > 0) return tiledValueAndGradient(generated, gradient);
  at::Tensor x = generated.detach();
  x.set_requires_grad(true);
  CostTerms terms = evaluate(x);
  terms.total.backward();
  gradient = x.grad();
  terms.total = terms.total.detach();
  return terms;
}

// ---- Tiled evaluation -------------------------------------------------------
//
// J and ∇J are sums over positions once each style layer's Gram is known, so
// a step takes two passes over tiles (TileGrid: a core plus a halo of the
// network's reach). Pass 1, forward only, sums the Gram of G over the
// positions each tile owns (in float64). With D_l = (G_l − A_l) / norm_l
// fixed, ∂J/∂F_l = β·λ_l·4/norm_l · D_l·F_l is local, so pass 2 runs forward
// and backward per tile, seeded at the owned positions of the style and
// content layers, and adds the tile's input gradient into ∇J. Only one
// tile's activations are alive at a time.

namespace {

at::Tensor crop(const at::Tensor& image, const Tile& tile) {
  return image.slice(2, tile.cropY.begin, tile.cropY.end).slice(3, tile.cropX.begin, tile.cropX.end);
}

// The positions a tile owns in its layer output `a`, as a view.
at::Tensor owned(const at::Tensor& a, const Tile& tile, int stride) {
  const Span y = TileGrid::ownedY(tile, stride, a.size(2)), x = TileGrid::ownedX(tile, stride, a.size(3));
  return a.slice(2, y.begin, y.end).slice(3, x.begin, x.end);
}

// The same positions in a whole-image layer output `whole`.
at::Tensor ownedInWhole(const at::Tensor& whole, const Tile& tile, int stride, const at::Tensor& tileLayer) {
  const Span y = TileGrid::globalY(tile, stride, tileLayer.size(2));
  const Span x = TileGrid::globalX(tile, stride, tileLayer.size(3));
  return whole.slice(2, y.begin, y.end).slice(3, x.begin, x.end);
}

at::Tensor asMatrix(const at::Tensor& a) { return a.reshape({a.size(1), -1}); }

}  // namespace

TileGrid CostFunction::gridFor(const at::Tensor& image) const {
  // Untiled is one tile: the whole image, owning every position.
  const int core = tile_ > 0 ? tile_ : int(std::max(image.size(2), image.size(3)));
  return TileGrid(image.size(2), image.size(3), core, geometry_);
}

at::Tensor CostFunction::activationOver(const at::Tensor& image, const std::string& layer) const {
  at::NoGradGuard noGrad;
  const TileGrid grid = gridFor(image);
  const int stride = strideOf(layer);
  at::Tensor whole;
  for (const Tile& tile : grid.tiles())
    extractor_->forwardEach(
        crop(image, tile),
        [&](const std::string& name, const at::Tensor& a) {
          if (name != layer) return;
          if (!whole.defined()) {
            const auto [h, w] = layerSize(layer, image.size(2), image.size(3));
            whole = at::zeros({1, a.size(1), h, w}, a.options());
          }
          ownedInWhole(whole, tile, stride, a).copy_(owned(a, tile, stride));
        },
        targetsCheck_);
  return whole;
}

std::map<std::string, at::Tensor> CostFunction::gramsOver(const at::Tensor& image,
                                                          const std::vector<std::string>& layers,
                                                          const LayerCheck& check) const {
  at::NoGradGuard noGrad;
  const TileGrid grid = gridFor(image);
  std::map<std::string, at::Tensor> grams;
  for (const Tile& tile : grid.tiles())
    extractor_->forwardEach(
        crop(image, tile),
        [&](const std::string& name, const at::Tensor& a) {
          if (std::find(layers.begin(), layers.end(), name) == layers.end()) return;
          const at::Tensor f = asMatrix(owned(a, tile, strideOf(name)));
          at::Tensor part = f.mm(f.t()).to(at::kDouble);
          grams[name] = grams.count(name) ? grams[name] + part : part;
        },
        check);
  return grams;
}

CostTerms CostFunction::tiledValueAndGradient(const at::Tensor& generated, at::Tensor& gradient) {
  const at::Tensor image = generated.detach();
  const std::int64_t height = image.size(2), width = image.size(3);
  std::vector<std::string> styleLayers;
  for (const auto& [name, lambda] : weights_.styleLayers)
    if (lambda != 0.0) styleLayers.push_back(name);

  // Pass 1: the Grams of G, hence the style costs and each layer's seed factor.
  CostTerms terms;
  double total = 0.0;
  std::map<std::string, at::Tensor> seedFactor;  // β·λ·4/norm · D
  {
    const auto grams = gramsOver(image, styleLayers, evaluateCheck_);
    for (const auto& name : styleLayers) {
      const double lambda = weights_.styleLayers.at(name);
      const at::Tensor& gram = grams.at(name);
      const double norm = 2.0 * double(layerPositions(name, height, width)) * double(gram.size(0));
      const at::Tensor d = (gram - styleGrams_.at(name).to(at::kDouble)) / norm;
      const double value = d.pow(2).sum().item<double>();
      terms.stylePerLayer[name] = value;
      terms.style += lambda * value;
      total += weights_.beta * lambda * value;
      seedFactor[name] = (d * (weights_.beta * lambda * 4.0 / norm)).to(dtype_);
    }
  }

  // Pass 2: per tile, forward and backward from the owned positions.
  gradient = at::zeros_like(image);
  const double contentSize = double(contentTarget_.numel());
  double contentSum = 0.0;
  const TileGrid grid = gridFor(image);
  for (const Tile& tile : grid.tiles()) {
    at::Tensor x = crop(image, tile).clone();
    x.set_requires_grad(true);
    std::vector<at::Tensor> outputs, seeds;
    extractor_->forwardEach(
        x,
        [&](const std::string& name, const at::Tensor& a) {
          const int stride = strideOf(name);
          const at::Tensor mine = owned(a, tile, stride);
          if (name == contentLayer_) {
            const at::Tensor diff = mine.detach() - ownedInWhole(contentTarget_, tile, stride, a);
            contentSum += diff.pow(2).sum().item<double>();
            if (weights_.alpha != 0.0) {
              outputs.push_back(mine);
              seeds.push_back(diff * (weights_.alpha / contentSize));
            }
          }
          const auto factor = seedFactor.find(name);
          if (factor == seedFactor.end()) return;
          outputs.push_back(mine);
          seeds.push_back(factor->second.mm(asMatrix(mine.detach())).view_as(mine));
        },
        evaluateCheck_);
    if (!outputs.empty()) {
      torch::autograd::backward(outputs, seeds);
      crop(gradient, tile).add_(x.grad());
    }
  }
  terms.content = 0.5 * contentSum / contentSize;
  total += weights_.alpha * terms.content;

  // Terms on the image itself (smoothness, the portrait guard's identity)
  // are cheap at any size: one graph over the whole of G.
  if (weights_.tv > 0.0 || extraTermOn()) {
    at::Tensor x = image.clone();
    x.set_requires_grad(true);
    at::Tensor imageTerms = at::zeros({}, x.options());
    if (weights_.tv > 0.0) {
      at::Tensor tvTerm = totalVariationCost(x);
      terms.tv = tvTerm.item<double>();
      imageTerms = imageTerms + weights_.tv * tvTerm;
    }
    if (extraTermOn()) {
      at::Tensor extra = extraTerm_(x);
      terms.identity = extra.item<double>();
      terms.identityEvaluated = true;
      imageTerms = imageTerms + weights_.identity * extra;
    }
    imageTerms.backward();
    total += weights_.tv * terms.tv + weights_.identity * terms.identity;
    gradient.add_(x.grad());
  }
  terms.total = at::scalar_tensor(total, at::kDouble);
  return terms;
}

}  // namespace impasto
