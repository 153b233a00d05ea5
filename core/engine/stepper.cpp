#include "core/engine/stepper.h"

#include <ATen/ops/zeros_like.h>

#include <cmath>

#include "core/engine/memory_plan.h"
#include "core/engine/tensor_convert.h"
#include "core/util/error.h"

namespace impasto {

Stepper::Stepper(Optimizer optimizer, double learningRate, at::Tensor& generated) : generated_(generated) {
  if (optimizer == Optimizer::Lbfgs) {
    lbfgs_ = std::make_unique<Lbfgs>(lbfgsHistorySize(generated.numel()), learningRate);
  } else {
    adam_ = std::make_unique<Adam>(Adam{learningRate, {}, {}});
  }
}

CostTerms Stepper::step(CostFunction& cost) {
  at::Tensor gradient;
  CostTerms terms = cost.valueAndGradient(generated_, gradient);
  const double loss = terms.total.item<double>();
  if (!std::isfinite(loss))
    throw Error(ErrorKind::Internal, "The cost became infinite or NaN; try smaller α, β or learning rate");
  at::NoGradGuard noGrad;
  if (lbfgs_) {
    lbfgs_->step(generated_, gradient, loss);
  } else {
    adam_->step(generated_, gradient);
    generated_.clamp_(0.0, 1.0);
  }
  return terms;
}

void Stepper::Adam::step(at::Tensor& x, const at::Tensor& grad) {
  constexpr double beta1 = 0.9, beta2 = 0.999, eps = 1e-8;
  if (!m.defined()) {
    m = at::zeros_like(x);
    v = at::zeros_like(x);
  }
  ++steps;
  m.mul_(beta1).add_(grad, 1.0 - beta1);
  v.mul_(beta2).addcmul_(grad, grad, 1.0 - beta2);
  const double correction1 = 1.0 - std::pow(beta1, steps);
  const double correction2 = 1.0 - std::pow(beta2, steps);
  const at::Tensor denominator = (v.sqrt() / std::sqrt(correction2)).add_(eps);
  x.addcdiv_(m, denominator, -learningRate / correction1);
}

void Stepper::reset() {
  if (lbfgs_) lbfgs_->reset();
}

OptimizerState Stepper::save(int maxPairs) const {
  OptimizerState state;
  if (lbfgs_) {
    lbfgs_->save(state, maxPairs);
  } else if (adam_->m.defined()) {
    state.arrays["adam.m"] = floatValues(adam_->m);
    state.arrays["adam.v"] = floatValues(adam_->v);
    state.numbers["adam.steps"] = adam_->steps;
  }
  return state;
}

void Stepper::load(const OptimizerState& state) {
  if (lbfgs_) {
    lbfgs_->load(state, generated_.numel());
    return;
  }
  const auto m = state.arrays.find("adam.m"), v = state.arrays.find("adam.v");
  if (m == state.arrays.end() || v == state.arrays.end()) return;  // saved before its first step
  if (std::int64_t(m->second.size()) != generated_.numel() ||
      std::int64_t(v->second.size()) != generated_.numel())
    throw Error(ErrorKind::Input, "The checkpoint's Adam moments are of another size than the image");
  adam_->m = floatTensor(m->second).view_as(generated_);
  adam_->v = floatTensor(v->second).view_as(generated_);
  adam_->steps = int(state.numbers.count("adam.steps") ? state.numbers.at("adam.steps") : 0);
}

}  // namespace impasto
