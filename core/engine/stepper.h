#pragma once

#include <memory>

#include "core/engine/aten.h"
#include "core/engine/cost_function.h"
#include "core/engine/lbfgs.h"
#include "core/engine/render.h"

namespace impasto {

// One optimiser step on G: evaluates J and ∇J once, then moves G within [0, 1].
// Shared by the render loop and the benchmark, so both time the same step.
class Stepper {
 public:
  // generated must outlive the stepper; it is updated in place.
  Stepper(Optimizer optimizer, double learningRate, at::Tensor& generated);

  // The costs at the optimiser's iterate: with L-BFGS, those of the point
  // evaluated when it was accepted, else of the last accepted point (a chart
  // of them shows no spikes from points the line search rejected).
  CostTerms step(CostFunction& cost);

  // The last step's facts: J where it evaluated, whether that point was
  // accepted (always with Adam), and how often in a row points were rejected.
  double evaluatedLoss() const { return evaluatedLoss_; }
  bool accepted() const { return outcome_.accepted; }
  int retries() const { return outcome_.retries; }

  // The cost function's weights changed (α, β, λ, TV or γ) before the next
  // step. L-BFGS keeps its history (see Lbfgs::costChanged); Adam needs nothing.
  void costChanged(const CostFunction& cost);

  // Forgets the optimiser's history.
  void reset();

  // The optimiser's state for a checkpoint (L-BFGS keeps at most maxPairs
  // curvature pairs), and back; load expects G's current size.
  OptimizerState save(int maxPairs) const;
  void load(const OptimizerState& state);

 private:
  // Adam (Kingma & Ba), as torch::optim::Adam does it with its defaults
  // (β1 0.9, β2 0.999, ε 1e-8), without pulling torch's optimiser headers in.
  struct Adam {
    double learningRate;
    at::Tensor m, v;  // first and second moment estimates
    int steps = 0;
    void step(at::Tensor& x, const at::Tensor& grad);
  };

  // J under `weights` at the last accepted point, 0 where its parts do not
  // tell. withExtra: the cost has an extra term (γ's).
  double lossUnder(const LossWeights& weights, bool withExtra) const;

  at::Tensor& generated_;
  std::unique_ptr<Lbfgs> lbfgs_;
  CostTerms accepted_;  // at the last accepted point; total is J there, without grad
  Lbfgs::Outcome outcome_;
  double evaluatedLoss_ = 0.0;
  std::unique_ptr<Adam> adam_;
};

}  // namespace impasto
