#pragma once

#include <deque>

#include <torch/torch.h>

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
  void step(torch::Tensor& x, const torch::Tensor& grad, double loss);

  // Forgets the curvature history, e.g. when the cost function changed.
  void reset();

 private:
  torch::Tensor direction(const torch::Tensor& grad) const;

  struct Pair {
    torch::Tensor s, y;
    double rho;
  };
  int historySize_;
  double learningRate_;
  double lo_, hi_;
  std::deque<Pair> history_;
  torch::Tensor previousX_, previousGrad_;
  double previousLoss_ = 0.0;
  torch::Tensor lastDirection_;
  double lastStep_ = 0.0;
  double gammaScale_ = 1.0;
};

}  // namespace impasto
