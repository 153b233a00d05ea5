#include "core/engine/losses.h"

#include <ATen/TensorIndexing.h>
#include <torch/csrc/autograd/custom_function.h>

#include "core/engine/matmul.h"

namespace impasto {

at::Tensor gramMatrix(const at::Tensor& activations) {
  const auto channels = activations.size(1);
  at::Tensor features = activations.reshape({channels, -1});
  return features.mm(features.t());
}

namespace {

// J = Σ D², D = (F Fᵀ − A) / norm, with F the activations as an n_C x n_H·n_W matrix.
// Autograd would treat F and Fᵀ as two factors (two matmuls, then a transposed
// add, each as big as the layer); D is symmetric, so ∂J/∂F = (4 / norm) · D · F,
// a single matmul. On the early, large layers that is most of the cost's time.
class StyleLayerCostFunction : public torch::autograd::Function<StyleLayerCostFunction> {
 public:
  static at::Tensor forward(torch::autograd::AutogradContext* ctx, const at::Tensor& features,
                               const at::Tensor& styleGram, double norm) {
    at::Tensor diff = (features.mm(features.t()) - styleGram) / norm;
    ctx->save_for_backward({features, diff});
    ctx->saved_data["norm"] = norm;
    return diff.pow(2).sum();
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list gradOutput) {
    const auto saved = ctx->get_saved_variables();
    const double norm = ctx->saved_data["norm"].toDouble();
    // Scale the small n_C x n_C factor, not the layer-sized product.
    at::Tensor gradFeatures = matrixProduct((saved[1] * (gradOutput[0] * (4.0 / norm))).contiguous(), saved[0]);
    return {gradFeatures, at::Tensor(), at::Tensor()};
  }
};

}  // namespace

at::Tensor styleLayerCost(const at::Tensor& generatedActivations, const at::Tensor& styleGram) {
  const auto channels = generatedActivations.size(1);
  const double nHW = double(generatedActivations.size(2) * generatedActivations.size(3));
  // Dividing before squaring keeps float32 far from overflow on big layers.
  const double norm = 2.0 * nHW * double(channels);
  return StyleLayerCostFunction::apply(generatedActivations.reshape({channels, -1}).contiguous(), styleGram, norm);
}

at::Tensor contentCost(const at::Tensor& generatedActivations, const at::Tensor& contentActivations) {
  const double size = double(generatedActivations.numel());
  return 0.5 * (generatedActivations - contentActivations).pow(2).sum() / size;
}

at::Tensor totalVariationCost(const at::Tensor& image) {
  using at::indexing::Slice;
  at::Tensor dx = image.index({Slice(), Slice(), Slice(), Slice(1, at::indexing::None)}) -
                     image.index({Slice(), Slice(), Slice(), Slice(at::indexing::None, -1)});
  at::Tensor dy = image.index({Slice(), Slice(), Slice(1, at::indexing::None), Slice()}) -
                     image.index({Slice(), Slice(), Slice(at::indexing::None, -1), Slice()});
  const double size = double(image.size(1) * image.size(2) * image.size(3));
  return (dx.pow(2).sum() + dy.pow(2).sum()) / size;
}

at::Tensor rescaleGram(const at::Tensor& gram, double styleSize, double generatedSize) {
  return gram * (generatedSize / styleSize);
}

}  // namespace impasto
