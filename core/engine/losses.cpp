#include "core/engine/losses.h"

#include "core/engine/matmul.h"

namespace impasto {

torch::Tensor gramMatrix(const torch::Tensor& activations) {
  const auto channels = activations.size(1);
  torch::Tensor features = activations.reshape({channels, -1});
  return features.mm(features.t());
}

namespace {

// J = Σ D², D = (F Fᵀ − A) / norm, with F the activations as an n_C x n_H·n_W matrix.
// Autograd would treat F and Fᵀ as two factors (two matmuls, then a transposed
// add, each as big as the layer); D is symmetric, so ∂J/∂F = (4 / norm) · D · F,
// a single matmul. On the early, large layers that is most of the cost's time.
class StyleLayerCostFunction : public torch::autograd::Function<StyleLayerCostFunction> {
 public:
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& features,
                               const torch::Tensor& styleGram, double norm) {
    torch::Tensor diff = (features.mm(features.t()) - styleGram) / norm;
    ctx->save_for_backward({features, diff});
    ctx->saved_data["norm"] = norm;
    return diff.pow(2).sum();
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list gradOutput) {
    const auto saved = ctx->get_saved_variables();
    const double norm = ctx->saved_data["norm"].toDouble();
    // Scale the small n_C x n_C factor, not the layer-sized product.
    torch::Tensor gradFeatures = matrixProduct((saved[1] * (gradOutput[0] * (4.0 / norm))).contiguous(), saved[0]);
    return {gradFeatures, torch::Tensor(), torch::Tensor()};
  }
};

}  // namespace

torch::Tensor styleLayerCost(const torch::Tensor& generatedActivations, const torch::Tensor& styleGram) {
  const auto channels = generatedActivations.size(1);
  const double nHW = double(generatedActivations.size(2) * generatedActivations.size(3));
  // Dividing before squaring keeps float32 far from overflow on big layers.
  const double norm = 2.0 * nHW * double(channels);
  return StyleLayerCostFunction::apply(generatedActivations.reshape({channels, -1}).contiguous(), styleGram, norm);
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
