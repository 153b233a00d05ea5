#include "core/engine/stepper.h"

#include <ATen/ops/scalar_tensor.h>
#include <ATen/ops/zeros_like.h>

#include <cmath>

#include "core/engine/memory_plan.h"
#include "core/engine/tensor_convert.h"
#include "core/util/error.h"

namespace impasto {

namespace {
constexpr const char* kAcceptedLayerPrefix = "stepper.accepted.layer.";
}

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
  evaluatedLoss_ = loss;
  if (lbfgs_) {
    outcome_ = lbfgs_->step(generated_, gradient, loss);
    if (outcome_.accepted || !accepted_.total.defined()) {
      accepted_ = terms;
    } else {
      return accepted_;
    }
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

void Stepper::costChanged(const CostFunction& cost) {
  if (!lbfgs_) return;
  const LossWeights& weights = cost.weights();
  const double now = lossUnder(weights, cost.hasExtraTerm());
  lbfgs_->costChanged(now);
  if (now > 0.0) {
    // What a rejected next point reports: the last accepted point under the new weights.
    accepted_.total = at::scalar_tensor(now, at::kDouble);
    accepted_.style = 0.0;
    std::map<std::string, double> perLayer;
    for (const auto& [name, lambda] : weights.styleLayers)
      if (lambda != 0.0) {
        perLayer[name] = accepted_.stylePerLayer.at(name);
        accepted_.style += lambda * perLayer[name];
      }
    accepted_.stylePerLayer = std::move(perLayer);
    if (!(cost.hasExtraTerm() && weights.identity > 0.0)) {
      accepted_.identity = 0.0;  // out of J now, as the steps to come report it
      accepted_.identityEvaluated = false;
    }
  }
}

double Stepper::lossUnder(const LossWeights& weights, bool withExtra) const {
  // J at the last accepted point from its parts, which are the weights' factors.
  if (!accepted_.total.defined()) return 0.0;
  if (weights.tv > 0.0 && accepted_.tv == 0.0) return 0.0;  // not computed there
  const bool identityOn = withExtra && weights.identity > 0.0;
  if (identityOn && !accepted_.identityEvaluated) return 0.0;  // γ was 0 there
  double style = 0.0;
  for (const auto& [name, lambda] : weights.styleLayers) {
    if (lambda == 0.0) continue;
    const auto it = accepted_.stylePerLayer.find(name);
    if (it == accepted_.stylePerLayer.end()) return 0.0;  // a layer new to the cost
    style += lambda * it->second;
  }
  return weights.alpha * accepted_.content + weights.beta * style + weights.tv * accepted_.tv +
         (identityOn ? weights.identity * accepted_.identity : 0.0);
}

void Stepper::reset() {
  if (lbfgs_) lbfgs_->reset();
  accepted_ = {};
  outcome_ = {};
}

OptimizerState Stepper::save(int maxPairs) const {
  OptimizerState state;
  if (lbfgs_) {
    lbfgs_->save(state, maxPairs);
    if (accepted_.total.defined()) {
      // What a resumed render reports should its first point be rejected.
      state.numbers["stepper.accepted.total"] = accepted_.total.item<double>();
      state.numbers["stepper.accepted.content"] = accepted_.content;
      state.numbers["stepper.accepted.style"] = accepted_.style;
      state.numbers["stepper.accepted.tv"] = accepted_.tv;
      if (accepted_.identityEvaluated) state.numbers["stepper.accepted.identity"] = accepted_.identity;
      for (const auto& [layer, value] : accepted_.stylePerLayer)
        state.numbers[kAcceptedLayerPrefix + layer] = value;
    }
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
    accepted_ = {};
    const auto total = state.numbers.find("stepper.accepted.total");
    if (total != state.numbers.end()) {
      accepted_.total = at::scalar_tensor(total->second, at::kDouble);
      accepted_.content = state.numbers.at("stepper.accepted.content");
      accepted_.style = state.numbers.at("stepper.accepted.style");
      accepted_.tv = state.numbers.at("stepper.accepted.tv");
      const auto identity = state.numbers.find("stepper.accepted.identity");
      accepted_.identityEvaluated = identity != state.numbers.end();
      if (accepted_.identityEvaluated) accepted_.identity = identity->second;
      for (const auto& [key, value] : state.numbers)
        if (key.rfind(kAcceptedLayerPrefix, 0) == 0)
          accepted_.stylePerLayer[key.substr(std::string(kAcceptedLayerPrefix).size())] = value;
    }
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
