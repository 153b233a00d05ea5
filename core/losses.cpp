#include "core/losses.h"

namespace impasto {

torch::Tensor gramMatrix(const torch::Tensor& activations) {
  const auto channels = activations.size(1);
  torch::Tensor features = activations.reshape({channels, -1});
  return features.mm(features.t());
}

torch::Tensor styleLayerCost(const torch::Tensor& generatedActivations, const torch::Tensor& styleGram) {
  const double nC = double(generatedActivations.size(1));
  const double nHW = double(generatedActivations.size(2) * generatedActivations.size(3));
  const double norm = 2.0 * nHW * nC;
  // Dividing before squaring keeps float32 far from overflow on big layers.
  torch::Tensor diff = (gramMatrix(generatedActivations) - styleGram) / norm;
  return diff.pow(2).sum();
}

torch::Tensor contentCost(const torch::Tensor& generatedActivations, const torch::Tensor& contentActivations) {
  const double size = double(generatedActivations.numel());
  return 0.5 * (generatedActivations - contentActivations).pow(2).sum() / size;
}

torch::Tensor totalVariationCost(const torch::Tensor& image) {
  using torch::indexing::Slice;
  torch::Tensor dx = image.index({Slice(), Slice(), Slice(), Slice(1, torch::indexing::None)}) -
                     image.index({Slice(), Slice(), Slice(), Slice(torch::indexing::None, -1)});
  torch::Tensor dy = image.index({Slice(), Slice(), Slice(1, torch::indexing::None), Slice()}) -
                     image.index({Slice(), Slice(), Slice(torch::indexing::None, -1), Slice()});
  const double size = double(image.size(1) * image.size(2) * image.size(3));
  return (dx.pow(2).sum() + dy.pow(2).sum()) / size;
}

torch::Tensor rescaleGram(const torch::Tensor& gram, double styleSize, double generatedSize) {
  return gram * (generatedSize / styleSize);
}

}  // namespace impasto
