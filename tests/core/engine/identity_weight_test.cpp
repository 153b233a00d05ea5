// γ, the portrait guard's weight, is a live weight like α and β: the cost
// function multiplies its extra term by the current γ (not evaluated at 0,
// tiled or not), and a change of γ rescales L-BFGS like any other weight.
// The extra term here is a plain differentiable function of G, so these
// tests need no face models (tests/core/faces has the real identity term).
#include <ATen/ops/pow.h>
#include <ATen/ops/sum.h>
#include <gtest/gtest.h>

#include "core/engine/cost_function.h"
#include "core/engine/stepper.h"
#include "tests/support/aten_ops.h"
#include "tests/support/test_models.h"

namespace impasto {
namespace {

LossWeights someWeights(double gamma) {
  LossWeights w;
  w.alpha = 2.0;
  w.beta = 1e3;
  w.styleLayers = {{"relu1", 0.5}, {"relu2", 1.0}};
  w.identity = gamma;
  return w;
}

// Σ (G − 0.3)²: zero nowhere near a photo, with a known gradient 2 (G − 0.3).
at::Tensor extraTerm(const at::Tensor& g) { return (g - 0.3).pow(2).sum(); }

struct Evaluated {
  CostTerms terms;
  at::Tensor gradient;
};

Evaluated evaluate(double gamma, const at::Tensor& generated, int tile, bool withExtra = true) {
  at::manual_seed(3);
  const at::Tensor content = at::rand({1, 3, 20, 24});
  const at::Tensor style = at::rand({1, 3, 20, 24});
  CostFunction cost(test::makeTinyModel(), content, {style}, {}, "relu2", someWeights(gamma), at::kCPU,
                    at::kFloat, {}, tile);
  if (withExtra) cost.setExtraTerm(extraTerm);
  Evaluated e;
  e.terms = cost.valueAndGradient(generated, e.gradient);
  return e;
}

TEST(IdentityWeight, TheExtraTermCountsGammaTimesItselfTiledOrNot) {
  at::manual_seed(11);
  const at::Tensor g = at::rand({1, 3, 20, 24});
  const double expected = extraTerm(g).item<double>();
  for (int tile : {0, 8}) {
    const Evaluated off = evaluate(0.0, g, tile);
    EXPECT_FALSE(off.terms.identityEvaluated) << "γ = 0: not evaluated (tile " << tile << ")";
    EXPECT_EQ(off.terms.identity, 0.0);
    const Evaluated none = evaluate(250.0, g, tile, /*withExtra=*/false);
    EXPECT_FALSE(none.terms.identityEvaluated) << "no extra term: γ changes nothing";
    EXPECT_NEAR(none.terms.total.item<double>(), off.terms.total.item<double>(),
                1e-6 * off.terms.total.item<double>());

    const Evaluated on = evaluate(250.0, g, tile);
    ASSERT_TRUE(on.terms.identityEvaluated);
    EXPECT_NEAR(on.terms.identity, expected, 1e-4 * expected) << "reported unweighted";
    const double base = off.terms.total.item<double>();
    EXPECT_NEAR(on.terms.total.item<double>(), base + 250.0 * expected, 1e-4 * (base + 250.0 * expected));
    // ∇J gains γ · 2 (G − 0.3).
    const at::Tensor extraGradient = on.gradient - off.gradient;
    const at::Tensor wanted = 500.0 * (g - 0.3);
    EXPECT_LT((extraGradient - wanted).abs().max().item<double>(), 1e-3 * wanted.abs().max().item<double>())
        << "tile " << tile;
  }
}

// After a γ change the stepper's J at the last accepted point (what it
// reports should the next point be rejected, and what L-BFGS is rescaled
// by) includes γ times the identity part at the new γ.
TEST(IdentityWeight, AGammaChangeRescalesTheStepperWithTheIdentityPart) {
  at::manual_seed(5);
  const at::Tensor content = at::rand({1, 3, 20, 24});
  const at::Tensor style = at::rand({1, 3, 20, 24});
  CostFunction cost(test::makeTinyModel(), content, {style}, {}, "relu2", someWeights(100.0), at::kCPU);
  cost.setExtraTerm(extraTerm);
  at::Tensor generated = content.clone();
  Stepper stepper(Optimizer::Lbfgs, 1.0, generated);
  for (int i = 0; i < 4; ++i) stepper.step(cost);

  cost.setWeights(someWeights(4000.0));
  stepper.costChanged(cost);
  const OptimizerState state = stepper.save(10);
  const auto& n = state.numbers;
  ASSERT_TRUE(n.count("stepper.accepted.identity"));
  const double identity = n.at("stepper.accepted.identity");
  EXPECT_GT(identity, 0.0);
  const double expected =
      2.0 * n.at("stepper.accepted.content") + 1e3 * n.at("stepper.accepted.style") + 4000.0 * identity;
  EXPECT_NEAR(n.at("stepper.accepted.total"), expected, 1e-9 * expected);

  // Read back from a checkpoint, the identity part is still known.
  at::Tensor other = generated.clone();
  Stepper resumed(Optimizer::Lbfgs, 1.0, other);
  resumed.load(state);
  EXPECT_EQ(resumed.save(10).numbers.at("stepper.accepted.identity"), identity);
}

// γ turned on where it was 0: the accepted point never evaluated the term,
// so J there under the new γ is unknown and is not made up.
TEST(IdentityWeight, GammaTurnedOnLiveIsNotPricedFromAPointWithoutIt) {
  at::manual_seed(6);
  const at::Tensor content = at::rand({1, 3, 20, 24});
  const at::Tensor style = at::rand({1, 3, 20, 24});
  CostFunction cost(test::makeTinyModel(), content, {style}, {}, "relu2", someWeights(0.0), at::kCPU);
  cost.setExtraTerm(extraTerm);
  at::Tensor generated = content.clone();
  Stepper stepper(Optimizer::Lbfgs, 1.0, generated);
  for (int i = 0; i < 3; ++i) stepper.step(cost);
  const double before = stepper.save(10).numbers.at("stepper.accepted.total");
  cost.setWeights(someWeights(500.0));
  stepper.costChanged(cost);
  const OptimizerState state = stepper.save(10);
  EXPECT_FALSE(state.numbers.count("stepper.accepted.identity"));
  EXPECT_EQ(state.numbers.at("stepper.accepted.total"), before);
  // The next steps use the term: J jumps by about γ times it, and keeps falling.
  const CostTerms next = stepper.step(cost);
  EXPECT_TRUE(next.identityEvaluated);
  EXPECT_GT(next.total.item<double>(), before + 0.5 * 500.0 * next.identity);
}

}  // namespace
}  // namespace impasto
