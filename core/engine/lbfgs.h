#pragma once

#include <deque>

#include "core/engine/aten.h"
#include "core/engine/optimizer_state.h"

namespace impasto {

// Limited-memory BFGS, one function evaluation per step, with the iterate
// projected into the box [lo, hi] after every step. Our own rather than
// torch::optim::LBFGS because the curvature pairs must use the *projected*
// positions: G stays in gamut (DESIGN.md) without corrupting the history.
class Lbfgs {
 public:
  explicit Lbfgs(int historySize = 20, double learningRate = 1.0, double lo = 0.0, double hi = 1.0);

  // x: the current iterate, grad: ∇J at x, loss: J(x). Updates x in place.
  // Without a line search a step can overshoot; when J rose, the step is
  // retried from the last good point with half the length, still at one
  // evaluation of J per step.
  void step(at::Tensor& x, const at::Tensor& grad, double loss);

  // Forgets the curvature history, e.g. when the cost function changed.
  void reset();

  // The state as plain arrays, keeping at most maxPairs of the newest
  // curvature pairs (each is two vectors of G's size: a print-size
  // checkpoint keeps fewer); load restores it for a tensor of n values.
  void save(OptimizerState& state, int maxPairs) const;
  void load(const OptimizerState& state, std::int64_t n);

 private:
  at::Tensor direction(const at::Tensor& grad) const;

  struct Pair {
    at::Tensor s, y;
    double rho;
  };
  int historySize_;
  double learningRate_;
  double lo_, hi_;
  std::deque<Pair> history_;
  at::Tensor previousX_, previousGrad_;
  double previousLoss_ = 0.0;
  at::Tensor lastDirection_;
  double lastStep_ = 0.0;
  double gammaScale_ = 1.0;
  bool gradientStep_ = false;  // the last step was steepest descent (no usable history)
};

}  // namespace impasto
