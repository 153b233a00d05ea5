#include "core/engine/stepper.h"

#include <cmath>

#include "core/util/error.h"

namespace impasto {

Stepper::Stepper(Optimizer optimizer, double learningRate, torch::Tensor& generated) : generated_(generated) {
  if (optimizer == Optimizer::Lbfgs) {
    lbfgs_ = std::make_unique<Lbfgs>(20, learningRate);
  } else {
    generated_.set_requires_grad(true);
    adam_ = std::make_unique<torch::optim::Adam>(std::vector<torch::Tensor>{generated_},
                                                 torch::optim::AdamOptions(learningRate));
  }
}

CostTerms Stepper::step(CostFunction& cost) {
  generated_.set_requires_grad(true);
  if (generated_.grad().defined()) generated_.mutable_grad().zero_();
  CostTerms terms = cost.evaluate(generated_);
  const double loss = terms.total.item<double>();
  if (!std::isfinite(loss))
    throw Error(ErrorKind::Internal, "The cost became infinite or NaN; try smaller α, β or learning rate");
  terms.total.backward();
  torch::NoGradGuard noGrad;
  if (lbfgs_) {
    torch::Tensor data = generated_.detach();
    lbfgs_->step(data, generated_.grad(), loss);
  } else {
    adam_->step();
    generated_.detach().clamp_(0.0, 1.0);
  }
  return terms;
}

void Stepper::reset() {
  if (lbfgs_) lbfgs_->reset();
}

}  // namespace impasto
