#include <gtest/gtest.h>
#include "tests/support/aten_ops.h"

#include "core/engine/losses.h"

namespace impasto {
namespace {

// a: n_C = 2, n_H = 1, n_W = 2. Channel 0 = (1, 2), channel 1 = (3, 4).
at::Tensor smallActivations() {
  return at::tensor({1.0, 2.0, 3.0, 4.0}, at::kDouble).view({1, 2, 1, 2});
}

TEST(Losses, GramMatrixByHand) {
  at::Tensor g = gramMatrix(smallActivations());
  // G_00 = 1+4, G_01 = 1*3+2*4, G_11 = 9+16.
  EXPECT_DOUBLE_EQ(g[0][0].item<double>(), 5.0);
  EXPECT_DOUBLE_EQ(g[0][1].item<double>(), 11.0);
  EXPECT_DOUBLE_EQ(g[1][0].item<double>(), 11.0);
  EXPECT_DOUBLE_EQ(g[1][1].item<double>(), 25.0);
}

TEST(Losses, StyleLayerCostByHand) {
  at::Tensor styleGram = at::tensor({4.0, 10.0, 10.0, 20.0}, at::kDouble).view({2, 2});
  // Differences: 1, 1, 1, 5 -> Σ² = 28; norm (2·n_H·n_W·n_C)² = (2·1·2·2)² = 64.
  EXPECT_DOUBLE_EQ(styleLayerCost(smallActivations(), styleGram).item<double>(), 28.0 / 64.0);
}

TEST(Losses, StyleGradientMatchesPlainAutograd) {
  // styleLayerCost has its own backward; compare it with autograd through the formula.
  at::manual_seed(5);
  at::Tensor a = at::randn({1, 6, 5, 7}, at::kDouble);
  at::Tensor styleGram = gramMatrix(at::randn({1, 6, 5, 7}, at::kDouble));
  const double norm = 2.0 * 5 * 7 * 6;

  at::Tensor ours = a.clone().set_requires_grad(true);
  (3.0 * styleLayerCost(ours, styleGram)).backward();
  at::Tensor plain = a.clone().set_requires_grad(true);
  at::Tensor f = plain.reshape({6, -1});
  (3.0 * ((f.mm(f.t()) - styleGram) / norm).pow(2).sum()).backward();

  EXPECT_GT(plain.grad().abs().max().item<double>(), 0.0);
  EXPECT_TRUE(at::allclose(ours.grad(), plain.grad(), 1e-12, 1e-14));
}

TEST(Losses, ContentCostByHand) {
  at::Tensor target = at::tensor({0.0, 2.0, 3.0, 6.0}, at::kDouble).view({1, 2, 1, 2});
  // ½ (1² + 2²) / (n_H n_W n_C = 4).
  EXPECT_DOUBLE_EQ(contentCost(smallActivations(), target).item<double>(), 0.5 * 5.0 / 4.0);
}

TEST(Losses, TotalVariationByHand) {
  // One channel pattern repeated on 3 channels, 2x2: [[0, 1], [1, 3]].
  at::Tensor image = at::tensor({0.0, 1.0, 1.0, 3.0}, at::kDouble).view({1, 1, 2, 2}).repeat({1, 3, 1, 1});
  // Horizontal: 1, 2 -> 1 + 4; vertical: 1, 2 -> 1 + 4; per channel 10, ×3 channels / (3·2·2).
  EXPECT_DOUBLE_EQ(totalVariationCost(image).item<double>(), 30.0 / 12.0);
}

TEST(Losses, ZeroWhenEqual) {
  at::Tensor a = at::rand({1, 4, 5, 6}, at::kDouble);
  EXPECT_EQ(styleLayerCost(a, gramMatrix(a)).item<double>(), 0.0);
  EXPECT_EQ(contentCost(a, a).item<double>(), 0.0);
}

TEST(Losses, GramIsSymmetricPositiveSemiDefinite) {
  at::manual_seed(3);
  for (int trial = 0; trial < 5; ++trial) {
    at::Tensor a = at::randn({1, 16, 7, 9}, at::kDouble);
    at::Tensor g = gramMatrix(a);
    EXPECT_TRUE(at::allclose(g, g.t()));
    at::Tensor eigenvalues = at::linalg_eigvalsh(g, "L");
    EXPECT_GE(eigenvalues.min().item<double>(), -1e-9 * eigenvalues.max().item<double>());
  }
}

TEST(Losses, GramRescaleMatchesPositions) {
  // A style image twice as large has a Gram twice as large on a uniform texture.
  at::Tensor small = at::ones({1, 2, 4, 4}, at::kDouble);
  at::Tensor large = at::ones({1, 2, 8, 4}, at::kDouble);
  EXPECT_TRUE(at::allclose(rescaleGram(gramMatrix(large), 32, 16), gramMatrix(small)));
}

}  // namespace
}  // namespace impasto
