#include <gtest/gtest.h>
#include "tests/support/aten_ops.h"

#include "core/engine/matmul.h"

namespace impasto {
namespace {

TEST(Matmul, FloatProductMatchesDoublePrecision) {
  at::manual_seed(4);
  // The style gradient's shapes: n_C x n_C times n_C x many positions, and others.
  for (auto [rows, inner, columns] :
       std::vector<std::tuple<int64_t, int64_t, int64_t>>{{3, 3, 5}, {16, 16, 20000}, {64, 64, 3000}, {7, 300, 70}}) {
    at::Tensor a = at::randn({rows, inner});
    at::Tensor b = at::randn({inner, columns});
    at::Tensor reference = a.to(at::kDouble).mm(b.to(at::kDouble));
    at::Tensor ours = matrixProduct(a, b);
    EXPECT_EQ(ours.sizes(), reference.sizes());
    EXPECT_EQ(ours.scalar_type(), at::kFloat);
    const double error = ((ours.to(at::kDouble) - reference).abs().max() / reference.abs().max()).item<double>();
    EXPECT_LT(error, 1e-5) << rows << "x" << inner << "x" << columns;
  }
}

TEST(Matmul, OtherTensorsGoThroughTorchMm) {
  at::manual_seed(6);
  at::Tensor a = at::randn({7, 9}, at::kDouble);
  at::Tensor b = at::randn({9, 5}, at::kDouble);
  EXPECT_TRUE(at::equal(matrixProduct(a, b), a.mm(b)));
  // A transposed (non-contiguous) float view.
  at::Tensor f = at::randn({9, 7}).t();
  at::Tensor g = at::randn({9, 4});
  EXPECT_TRUE(at::allclose(matrixProduct(f, g), f.mm(g)));
  EXPECT_THROW(matrixProduct(a, a), c10::Error);
}

}  // namespace
}  // namespace impasto
