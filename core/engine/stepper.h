#pragma once

#include <memory>

#include <torch/torch.h>

#include "core/engine/cost_function.h"
#include "core/engine/lbfgs.h"
#include "core/engine/render.h"

namespace impasto {

// One optimiser step on G: evaluates J and ∇J once, then moves G within [0, 1].
// Shared by the render loop and the benchmark, so both time the same step.
class Stepper {
 public:
  // generated must outlive the stepper; it is updated in place.
  Stepper(Optimizer optimizer, double learningRate, torch::Tensor& generated);

  CostTerms step(CostFunction& cost);

  // Forgets the optimiser's history, e.g. after the cost function changed.
  void reset();

 private:
  torch::Tensor& generated_;
  std::unique_ptr<Lbfgs> lbfgs_;
  std::unique_ptr<torch::optim::Adam> adam_;
};

}  // namespace impasto
