#pragma once

#include <map>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "core/models/layers.h"
#include "core/models/model.h"

namespace impasto {

// A model's layers as torch modules, cut after the deepest layer asked for,
// in eval mode with frozen parameters. Takes RGB [0, 1] images and applies the
// model's own preprocessing, so callers never deal with colour spaces.
class FeatureExtractorImpl : public torch::nn::Module {
 public:
  FeatureExtractorImpl(const Model& model, const std::vector<std::string>& outputs);

  // rgb: [N, 3, H, W] in [0, 1]. Returns the activation of every requested layer.
  std::map<std::string, torch::Tensor> forward(const torch::Tensor& rgb);

  // The model's preprocessing alone (differentiable).
  torch::Tensor preprocess(const torch::Tensor& rgb) const;

  // Layer names kept after truncation, in order.
  std::vector<std::string> layerNames() const;

 private:
  struct Stage {
    LayerSpec spec;
    torch::nn::Conv2d conv{nullptr};
  };
  torch::Tensor runStage(Stage& stage, const torch::Tensor& x);

  std::vector<Stage> stages_;
  std::vector<std::string> outputs_;
  torch::Tensor scale_;  // [1, 3, 1, 1]: x * scale_ + shift_ in the network's channel order
  torch::Tensor shift_;
  bool bgr_ = false;
};
TORCH_MODULE(FeatureExtractor);

// Index of the deepest of `names` in the model's layer list; throws Error(Usage)
// naming an unknown layer and listing the valid ones.
std::size_t deepestLayerIndex(const Model& model, const std::vector<std::string>& names);

}  // namespace impasto
