#include "core/engine/lbfgs.h"

#include <algorithm>
#include <string>
#include <vector>

#include "core/engine/tensor_convert.h"
#include "core/util/error.h"

namespace impasto {

Lbfgs::Lbfgs(int historySize, double learningRate, double lo, double hi)
    : historySize_(historySize), learningRate_(learningRate), lo_(lo), hi_(hi) {}

void Lbfgs::reset() {
  history_.clear();
  previousX_ = at::Tensor();
  previousGrad_ = at::Tensor();
  lastDirection_ = at::Tensor();
  lastStep_ = 0.0;
  gammaScale_ = 1.0;
  gradientStep_ = false;
}

at::Tensor Lbfgs::direction(const at::Tensor& grad) const {
  // Two-loop recursion: d = −H·g with H built from the stored (s, y) pairs.
  at::Tensor q = grad.neg();
  std::vector<double> alpha(history_.size());
  for (std::size_t i = history_.size(); i-- > 0;) {
    alpha[i] = history_[i].rho * history_[i].s.dot(q).item<double>();
    q.add_(history_[i].y, -alpha[i]);
  }
  q.mul_(gammaScale_);
  for (std::size_t i = 0; i < history_.size(); ++i) {
    const double beta = history_[i].rho * history_[i].y.dot(q).item<double>();
    q.add_(history_[i].s, alpha[i] - beta);
  }
  return q;
}

void Lbfgs::step(at::Tensor& x, const at::Tensor& grad, double loss) {
  at::NoGradGuard noGrad;
  at::Tensor g = grad.reshape({-1});
  if (previousX_.defined() && loss > previousLoss_ && lastStep_ > 1e-12) {
    // Overshot: back to the last good point, half as far along the same direction.
    lastStep_ *= 0.5;
    x.copy_(previousX_.view_as(x)).add_(lastDirection_.view_as(x), lastStep_).clamp_(lo_, hi_);
    return;
  }
  if (previousX_.defined()) {
    at::Tensor s = x.reshape({-1}) - previousX_;
    at::Tensor y = g - previousGrad_;
    // In double: a float dot product over millions of pixels loses the digits the test needs.
    const double ys = y.to(at::kDouble).dot(s.to(at::kDouble)).item<double>();
    const double sNorm = s.norm().item<double>(), yNorm = y.norm().item<double>();
    // Skip pairs without positive curvature: they would make H indefinite. The
    // test is relative: at print sizes a step moves each pixel so little that
    // any absolute threshold rejects every pair and L-BFGS never builds a history.
    if (ys > 1e-8 * sNorm * yNorm && ys > 0.0) {
      if (int(history_.size()) == historySize_) history_.pop_front();
      history_.push_back({s, y, 1.0 / ys});
      gammaScale_ = ys / y.dot(y).item<double>();
    }
  }

  at::Tensor d = direction(g);
  double t = learningRate_;

  if (history_.empty() || d.dot(g).item<double>() >= 0.0) {
    // First step, or no descent direction: a short steepest-descent step.
    history_.clear();
    d = g.neg();
    const double gradL1 = g.abs().sum().item<double>();
    t = std::min(1.0, 1.0 / std::max(gradL1, 1e-30)) * learningRate_;
    // 1/|g|_1 is tiny for images with ~1e6 pixels; scale to a useful pixel step.
    t = std::max(t, 1e-3 / std::max(g.abs().max().item<double>(), 1e-30));
    // Where J is concave along -g (a photo far from the style, at print size)
    // every pair is rejected and we stay here: a short step that lowered J
    // is doubled, so L-BFGS does not crawl; an overshoot is halved as usual.
    if (gradientStep_ && previousX_.defined()) t = std::max(t, 2.0 * lastStep_);
  }
  gradientStep_ = history_.empty();
  previousX_ = x.reshape({-1}).clone();
  previousGrad_ = g.clone();
  previousLoss_ = loss;
  lastDirection_ = d;
  lastStep_ = t;
  x.add_(d.view_as(x), t).clamp_(lo_, hi_);
}

void Lbfgs::save(OptimizerState& state, int maxPairs) const {
  const std::size_t kept = std::min(history_.size(), std::size_t(std::max(0, maxPairs)));
  const std::size_t first = history_.size() - kept;
  for (std::size_t i = first; i < history_.size(); ++i) {
    const std::string k = std::to_string(i - first);
    state.arrays["lbfgs.s" + k] = floatValues(history_[i].s);
    state.arrays["lbfgs.y" + k] = floatValues(history_[i].y);
    state.numbers["lbfgs.rho" + k] = history_[i].rho;
  }
  state.numbers["lbfgs.pairs"] = double(kept);
  if (previousX_.defined()) {
    state.arrays["lbfgs.previous_x"] = floatValues(previousX_);
    state.arrays["lbfgs.previous_grad"] = floatValues(previousGrad_);
    state.arrays["lbfgs.last_direction"] = floatValues(lastDirection_);
  }
  state.numbers["lbfgs.previous_loss"] = previousLoss_;
  state.numbers["lbfgs.last_step"] = lastStep_;
  state.numbers["lbfgs.gamma_scale"] = gammaScale_;
  state.numbers["lbfgs.gradient_step"] = gradientStep_ ? 1.0 : 0.0;
}

void Lbfgs::load(const OptimizerState& state, std::int64_t n) {
  reset();
  auto number = [&](const std::string& key) {
    const auto it = state.numbers.find(key);
    if (it == state.numbers.end())
      throw Error(ErrorKind::Input, "The checkpoint lacks the optimiser's " + key);
    return it->second;
  };
  auto vector = [&](const std::string& key) {
    const auto it = state.arrays.find(key);
    if (it == state.arrays.end() || std::int64_t(it->second.size()) != n)
      throw Error(ErrorKind::Input,
                  "The checkpoint's optimiser vector " + key + " is missing or of another size");
    return floatTensor(it->second);
  };
  const int pairs = int(number("lbfgs.pairs"));
  if (pairs < 0 || pairs > historySize_)
    throw Error(ErrorKind::Input, "The checkpoint has too many L-BFGS pairs");
  for (int i = 0; i < pairs; ++i) {
    const std::string k = std::to_string(i);
    history_.push_back({vector("lbfgs.s" + k), vector("lbfgs.y" + k), number("lbfgs.rho" + k)});
  }
  if (state.arrays.count("lbfgs.previous_x")) {
    previousX_ = vector("lbfgs.previous_x");
    previousGrad_ = vector("lbfgs.previous_grad");
    lastDirection_ = vector("lbfgs.last_direction");
  }
  previousLoss_ = number("lbfgs.previous_loss");
  lastStep_ = number("lbfgs.last_step");
  gammaScale_ = number("lbfgs.gamma_scale");
  gradientStep_ = number("lbfgs.gradient_step") != 0.0;
}

}  // namespace impasto
