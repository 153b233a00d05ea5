#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "core/engine/aten.h"
#include "core/models/layers.h"
#include "core/models/model.h"

namespace impasto {

// Which pass a LayerCheck is called from.
enum class LayerPass { Forward, Backward };
// Called after each layer of a forward and, when the input needs grad, as the
// backward reaches each layer: a caller stops a long pass by throwing from it.
using LayerCheck = std::function<void(LayerPass)>;
// Receives each requested layer's activation as soon as the forward makes it.
using OutputHook = std::function<void(const std::string& layer, const at::Tensor& activation)>;

// A model's layers as a chain of ATen operations, cut after the deepest layer
// asked for. The weights are constants (only G learns). Takes RGB [0, 1]
// images and applies the model's own preprocessing, so callers never deal
// with colour spaces.
class FeatureExtractor {
 public:
  // On the CPU in float32 the weights are the model's own memory (no copy).
  FeatureExtractor(const Model& model, const std::vector<std::string>& outputs, at::Device device = at::kCPU,
                   at::ScalarType dtype = at::kFloat);

  // rgb: [N, 3, H, W] in [0, 1]. Returns the activation of every requested layer.
  std::map<std::string, at::Tensor> forward(const at::Tensor& rgb, const LayerCheck& check = {}) const;
  // The same, handing each activation to `hook` instead of keeping them all:
  // a cost built in the hook joins the graph right after its layer.
  void forwardEach(const at::Tensor& rgb, const OutputHook& hook, const LayerCheck& check = {}) const;
  // The model's preprocessing alone (differentiable).
  at::Tensor preprocess(const at::Tensor& rgb) const;
  // Layer names kept after truncation, in order.
  std::vector<std::string> layerNames() const;

 private:
  struct Stage {
    LayerSpec spec;
    at::Tensor weight, bias;  // Conv only
  };
  static at::Tensor run(const Stage& stage, const at::Tensor& x);

  std::vector<Stage> stages_;
  std::vector<std::string> outputs_;
  at::Tensor scale_;  // [1, 3, 1, 1]: x * scale_ + shift_ in the network's channel order
  at::Tensor shift_;
  bool bgr_ = false;
};

// Index of the deepest of `names` in the model's layer list; throws Error(Usage)
// naming an unknown layer and listing the valid ones.
std::size_t deepestLayerIndex(const Model& model, const std::vector<std::string>& names);

}  // namespace impasto
