#include "core/engine/feature_extractor.h"

#include <algorithm>

#include "core/util/error.h"

namespace impasto {

namespace F = torch::nn::functional;

std::size_t deepestLayerIndex(const Model& model, const std::vector<std::string>& names) {
  const auto& layers = model.layers();
  std::size_t deepest = 0;
  for (const auto& name : names) {
    auto it = std::find_if(layers.begin(), layers.end(), [&](const LayerSpec& l) { return l.name == name; });
    if (it == layers.end()) {
      std::string valid;
      for (const auto& l : layers) valid += (valid.empty() ? "" : ", ") + l.name;
      throw Error(ErrorKind::Usage,
                  "Model '" + model.manifest().name + "' has no layer '" + name + "'. Its layers are: " + valid);
    }
    deepest = std::max(deepest, std::size_t(it - layers.begin()));
  }
  return deepest;
}

FeatureExtractorImpl::FeatureExtractorImpl(const Model& model, const std::vector<std::string>& outputs)
    : outputs_(outputs) {
  if (outputs.empty()) throw Error(ErrorKind::Usage, "No layers requested from the feature extractor");
  const std::size_t last = deepestLayerIndex(model, outputs);
  for (std::size_t i = 0; i <= last; ++i) {
    Stage stage{model.layers()[i], nullptr};
    const LayerSpec& spec = stage.spec;
    if (spec.kind == LayerKind::Conv) {
      const auto& w = spec.weight;
      auto options = torch::nn::Conv2dOptions(w.size(1), w.size(0), {w.size(2), w.size(3)})
                         .stride(spec.stride)
                         .padding(spec.padding)
                         .bias(spec.bias.defined());
      stage.conv = register_module("conv" + std::to_string(i), torch::nn::Conv2d(options));
      torch::NoGradGuard noGrad;
      stage.conv->weight.copy_(w);
      if (spec.bias.defined()) stage.conv->bias.copy_(spec.bias);
    }
    stages_.push_back(std::move(stage));
  }
  // Frozen: G is the only thing that learns.
  for (auto& p : parameters()) p.set_requires_grad(false);
  eval();

  const Preprocessing& pre = model.manifest().input;
  bgr_ = pre.bgr;
  std::vector<float> scale(3), shift(3);
  for (int c = 0; c < 3; ++c) {
    scale[c] = pre.scale / pre.std[c];
    shift[c] = -pre.mean[c] / pre.std[c];
  }
  scale_ = register_buffer("scale", torch::tensor(scale).view({1, 3, 1, 1}));
  shift_ = register_buffer("shift", torch::tensor(shift).view({1, 3, 1, 1}));
}

torch::Tensor FeatureExtractorImpl::preprocess(const torch::Tensor& rgb) const {
  torch::Tensor x = bgr_ ? rgb.flip({1}) : rgb;
  return x * scale_ + shift_;
}

torch::Tensor FeatureExtractorImpl::runStage(Stage& stage, const torch::Tensor& x) {
  const LayerSpec& spec = stage.spec;
  switch (spec.kind) {
    case LayerKind::Conv:
      return stage.conv->forward(x);
    case LayerKind::ReLU:
      return torch::relu(x);
    case LayerKind::LeakyReLU:
      return F::leaky_relu(x, F::LeakyReLUFuncOptions().negative_slope(spec.negativeSlope));
    case LayerKind::MaxPool:
    case LayerKind::AvgPool: {
      // TensorFlow's 'same' pooling pads only after; with kernel == stride that
      // is what ceil mode computes, and neither counts the padding.
      const bool ceil = spec.ceilMode || spec.padAfter > 0;
      if (spec.kind == LayerKind::MaxPool)
        return F::max_pool2d(x, F::MaxPool2dFuncOptions(spec.kernel).stride(spec.stride).padding(spec.padding).ceil_mode(ceil));
      return F::avg_pool2d(x, F::AvgPool2dFuncOptions(spec.kernel)
                                  .stride(spec.stride)
                                  .padding(spec.padding)
                                  .ceil_mode(ceil)
                                  .count_include_pad(false));
    }
  }
  return x;
}

std::map<std::string, torch::Tensor> FeatureExtractorImpl::forward(const torch::Tensor& rgb) {
  std::map<std::string, torch::Tensor> result;
  torch::Tensor x = preprocess(rgb);
  for (auto& stage : stages_) {
    x = runStage(stage, x);
    if (std::find(outputs_.begin(), outputs_.end(), stage.spec.name) != outputs_.end()) result[stage.spec.name] = x;
  }
  return result;
}

std::vector<std::string> FeatureExtractorImpl::layerNames() const {
  std::vector<std::string> names;
  for (const auto& stage : stages_) names.push_back(stage.spec.name);
  return names;
}

}  // namespace impasto
