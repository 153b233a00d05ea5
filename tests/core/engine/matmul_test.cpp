#include <gtest/gtest.h>
#include <torch/torch.h>

#include "core/engine/matmul.h"

namespace impasto {
namespace {

TEST(Matmul, FloatProductMatchesDoublePrecision) {
  torch::manual_seed(4);
  // The style gradient's shapes: n_C x n_C times n_C x many positions, and others.
  for (auto [rows, inner, columns] :
       std::vector<std::tuple<int64_t, int64_t, int64_t>>{{3, 3, 5}, {16, 16, 20000}, {64, 64, 3000}, {7, 300, 70}}) {
    torch::Tensor a = torch::randn({rows, inner});
    torch::Tensor b = torch::randn({inner, columns});
    torch::Tensor reference = a.to(torch::kDouble).mm(b.to(torch::kDouble));
    torch::Tensor ours = matrixProduct(a, b);
    EXPECT_EQ(ours.sizes(), reference.sizes());
    EXPECT_EQ(ours.scalar_type(), torch::kFloat);
    const double error = ((ours.to(torch::kDouble) - reference).abs().max() / reference.abs().max()).item<double>();
    EXPECT_LT(error, 1e-5) << rows << "x" << inner << "x" << columns;
  }
}

TEST(Matmul, OtherTensorsGoThroughTorchMm) {
  torch::manual_seed(6);
  torch::Tensor a = torch::randn({7, 9}, torch::kDouble);
  torch::Tensor b = torch::randn({9, 5}, torch::kDouble);
  EXPECT_TRUE(torch::equal(matrixProduct(a, b), a.mm(b)));
  // A transposed (non-contiguous) float view.
  torch::Tensor f = torch::randn({9, 7}).t();
  torch::Tensor g = torch::randn({9, 4});
  EXPECT_TRUE(torch::allclose(matrixProduct(f, g), f.mm(g)));
  EXPECT_THROW(matrixProduct(a, a), c10::Error);
}

}  // namespace
}  // namespace impasto
