#include "core/engine/feature_extractor.h"

#include <ATen/ops/avg_pool2d.h>
#include <ATen/ops/conv2d.h>
#include <ATen/ops/leaky_relu.h>
#include <ATen/ops/max_pool2d.h>
#include <ATen/ops/max_pool2d_with_indices.h>
#include <ATen/ops/max_pool2d_with_indices_backward.h>
#include <ATen/ops/relu.h>
#include <ATen/ops/tensor.h>
#include <torch/csrc/autograd/custom_function.h>

#include <algorithm>

#include "core/engine/tensor_convert.h"
#include "core/util/error.h"
#include "core/util/text.h"

namespace impasto {

std::size_t deepestLayerIndex(const Model& model, const std::vector<std::string>& names) {
  const auto& layers = model.layers();
  std::size_t deepest = 0;
  for (const auto& name : names) {
    auto it = std::find_if(layers.begin(), layers.end(), [&](const LayerSpec& l) { return l.name == name; });
    if (it == layers.end())
      throw Error(ErrorKind::Usage, "Model '" + model.manifest().name + "' has no layer '" + name +
                                        "'. Its layers are: " + joined(model.layerNames()));
    deepest = std::max(deepest, std::size_t(it - layers.begin()));
  }
  return deepest;
}

FeatureExtractor::FeatureExtractor(const Model& model, const std::vector<std::string>& outputs,
                                   at::Device device, at::ScalarType dtype)
    : outputs_(outputs) {
  if (outputs.empty()) throw Error(ErrorKind::Usage, "No layers requested from the feature extractor");
  const std::size_t last = deepestLayerIndex(model, outputs);
  auto constant = [&](const WeightArray& w) {
    return w.defined() ? weightTensor(w).to(device, dtype) : at::Tensor();
  };
  for (std::size_t i = 0; i <= last; ++i) {
    const LayerSpec& spec = model.layers()[i];
    stages_.push_back({spec, constant(spec.weight), constant(spec.bias)});
  }

  const Preprocessing& pre = model.manifest().input;
  bgr_ = pre.bgr;
  std::vector<float> scale(3), shift(3);
  for (int c = 0; c < 3; ++c) {
    scale[c] = pre.scale / pre.std[c];
    shift[c] = -pre.mean[c] / pre.std[c];
  }
  scale_ = at::tensor(scale).view({1, 3, 1, 1}).to(device, dtype);
  shift_ = at::tensor(shift).view({1, 3, 1, 1}).to(device, dtype);
}

at::Tensor FeatureExtractor::preprocess(const at::Tensor& rgb) const {
  at::Tensor x = bgr_ ? rgb.flip({1}) : rgb;
  return x * scale_ + shift_;
}

namespace {

// Max pooling that keeps no indices for the backward: LibTorch's keeps an
// int64 index per output value, twice the output's bytes (100 MB after the
// first VGG block at 1024 px). The backward finds them again from the input,
// which the ReLU before it keeps anyway.
class LeanMaxPool : public torch::autograd::Function<LeanMaxPool> {
 public:
  static at::Tensor forward(torch::autograd::AutogradContext* ctx, const at::Tensor& x, int64_t kernel,
                            int64_t stride, int64_t padding, bool ceil) {
    ctx->save_for_backward({x});
    ctx->saved_data["kernel"] = kernel;
    ctx->saved_data["stride"] = stride;
    ctx->saved_data["padding"] = padding;
    ctx->saved_data["ceil"] = ceil;
    return at::max_pool2d(x, kernel, stride, padding, 1, ceil);
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list gradOutput) {
    const at::Tensor x = ctx->get_saved_variables()[0];
    const int64_t kernel = ctx->saved_data["kernel"].toInt(), stride = ctx->saved_data["stride"].toInt(),
                  padding = ctx->saved_data["padding"].toInt();
    const bool ceil = ctx->saved_data["ceil"].toBool();
    const auto indices = std::get<1>(at::max_pool2d_with_indices(x, kernel, stride, padding, 1, ceil));
    at::Tensor gradInput = at::max_pool2d_with_indices_backward(gradOutput[0].contiguous(), x, kernel, stride,
                                                                padding, 1, ceil, indices);
    return {gradInput, at::Tensor(), at::Tensor(), at::Tensor(), at::Tensor()};
  }
};

}  // namespace

at::Tensor FeatureExtractor::run(const Stage& stage, const at::Tensor& x) {
  const LayerSpec& spec = stage.spec;
  switch (spec.kind) {
    case LayerKind::Conv:
      return at::conv2d(x, stage.weight, stage.bias, spec.stride, spec.padding);
    case LayerKind::ReLU:
      return at::relu(x);
    case LayerKind::LeakyReLU:
      return at::leaky_relu(x, spec.negativeSlope);
    case LayerKind::MaxPool:
    case LayerKind::AvgPool: {
      // TensorFlow's 'same' pooling pads only after; with kernel == stride that
      // is what ceil mode computes, and neither counts the padding.
      const bool ceil = spec.ceilMode || spec.padAfter > 0;
      if (spec.kind == LayerKind::MaxPool)
        return x.requires_grad() ? LeanMaxPool::apply(x, spec.kernel, spec.stride, spec.padding, ceil)
                                 : at::max_pool2d(x, spec.kernel, spec.stride, spec.padding, 1, ceil);
      return at::avg_pool2d(x, spec.kernel, spec.stride, spec.padding, ceil, /*count_include_pad=*/false);
    }
  }
  return x;
}

std::map<std::string, at::Tensor> FeatureExtractor::forward(const at::Tensor& rgb,
                                                            const LayerCheck& check) const {
  std::map<std::string, at::Tensor> result;
  forwardEach(
      rgb, [&](const std::string& name, const at::Tensor& a) { result[name] = a; }, check);
  return result;
}

void FeatureExtractor::forwardEach(const at::Tensor& rgb, const OutputHook& hook,
                                   const LayerCheck& check) const {
  at::Tensor x = preprocess(rgb);
  for (const auto& stage : stages_) {
    x = run(stage, x);
    if (check) {
      check(LayerPass::Forward);
      // The hook runs when x's gradient is ready, before this layer's backward.
      if (x.requires_grad()) x.register_hook([check](const at::Tensor&) { check(LayerPass::Backward); });
    }
    if (std::find(outputs_.begin(), outputs_.end(), stage.spec.name) != outputs_.end())
      hook(stage.spec.name, x);
  }
}

std::vector<std::string> FeatureExtractor::layerNames() const {
  std::vector<std::string> names;
  for (const auto& stage : stages_) names.push_back(stage.spec.name);
  return names;
}

}  // namespace impasto
