#pragma once

#include <deque>

#include "core/engine/aten.h"
#include "core/engine/optimizer_state.h"

namespace impasto {

// Projected limited-memory BFGS in the box [lo, hi], one function evaluation
// per step. Our own rather than torch::optim::LBFGS or a vendored L-BFGS-B:
// the curvature pairs must use the *projected* positions (G stays in gamut,
// DESIGN.md), a step must cost exactly one evaluation (one preview frame, one
// cancel point), the cost may change under it (live weights), and its whole
// state must fit a checkpoint as plain arrays.
//
// Each step evaluates the point the previous one proposed. A point that lowers
// J enough (Armijo, along the projected displacement) is accepted and the next
// direction starts there; one that does not is retried from the last accepted
// point at half the length. Pixels held at a bound by their gradient take no
// part in the direction.
class Lbfgs {
 public:
  explicit Lbfgs(int historySize = 20, double learningRate = 1.0, double lo = 0.0, double hi = 1.0);

  struct Outcome {
    bool accepted = true;  // x became the iterate; otherwise J(x) was too high and x was retried
    int retries = 0;       // halvings of the current direction so far
  };

  // x: the point evaluated, grad: ∇J at x, loss: J(x). Moves x in place to
  // the next point to evaluate.
  Outcome step(at::Tensor& x, const at::Tensor& grad, double loss);

  // The cost function changes before the next step (new weights); lossNow is
  // J under the new cost at the last accepted point, where it can be known
  // (0 where not). No curvature pair spans the change; the kept pairs, the
  // last gradient and J are rescaled by the change of J there, so the next
  // steps have about the right length and the point the next step evaluates
  // is judged against the same cost. Without lossNow that point is accepted
  // as it is.
  void costChanged(double lossNow);

  // Forgets the curvature history and the iterate.
  void reset();

  // J at the last accepted point (0 before the first step).
  double acceptedLoss() const { return previousLoss_; }

  // The state as plain arrays, keeping at most maxPairs of the newest
  // curvature pairs (each is two vectors of G's size: a print-size
  // checkpoint keeps fewer); load restores it for a tensor of n values.
  void save(OptimizerState& state, int maxPairs) const;
  void load(const OptimizerState& state, std::int64_t n);

 private:
  at::Tensor direction(const at::Tensor& grad) const;
  void accept(const at::Tensor& x, const at::Tensor& g, double loss);
  void propose(at::Tensor& x);
  void addPair(const at::Tensor& s, at::Tensor y, const at::Tensor& x);
  double rescale(double c);  // returns c as applied (clamped)

  struct Pair {
    at::Tensor s, y;
    double rho;
  };
  int historySize_;
  double learningRate_;
  double lo_, hi_;
  std::deque<Pair> history_;
  at::Tensor previousX_, previousGrad_;  // the last accepted point and ∇J there
  double previousLoss_ = 0.0;
  at::Tensor lastDirection_;
  double lastStep_ = 0.0;   // the length along lastDirection_ of the point proposed
  double stepScale_ = 1.0;  // the length a new direction starts with (remembered after halvings)
  double gammaScale_ = 1.0;
  bool gradientStep_ = false;  // lastDirection_ is steepest descent (no usable history)
  int retries_ = 0;
  bool pairSpansChange_ = false;  // the cost changed since the last accepted point
  bool acceptNext_ = false;       // ... and J there under the new cost is unknown
};

}  // namespace impasto
