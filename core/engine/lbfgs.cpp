#include "core/engine/lbfgs.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <utility>
#include <vector>

#include "core/engine/tensor_convert.h"
#include "core/util/error.h"

namespace impasto {

namespace {

// Sufficient decrease: J must fall by at least this share of what the
// gradient predicts for the (projected) displacement.
constexpr double kArmijo = 1e-4;
// Halvings before a quasi-Newton direction is given up for steepest descent,
// and before steepest descent accepts a point that is merely not worse.
constexpr int kMaxRetries = 8;
constexpr int kMaxSteepestRetries = 40;
// The most a steepest-descent step may grow, by doubling, over its first length.
constexpr double kMaxSteepestScale = 1e6;

// a · b accumulated in double: in float the sum over millions of pixels loses
// the digits a curvature or a sufficient-decrease test needs.
double dot(const at::Tensor& a, const at::Tensor& b) { return (a * b).sum(at::kDouble).item<double>(); }

}  // namespace

Lbfgs::Lbfgs(int historySize, double learningRate, double lo, double hi)
    : historySize_(historySize), learningRate_(learningRate), lo_(lo), hi_(hi) {}

void Lbfgs::reset() {
  history_.clear();
  previousX_ = at::Tensor();
  previousGrad_ = at::Tensor();
  previousLoss_ = 0.0;
  lastDirection_ = at::Tensor();
  lastStep_ = 0.0;
  stepScale_ = 1.0;
  gammaScale_ = 1.0;
  gradientStep_ = false;
  retries_ = 0;
  pairSpansChange_ = false;
  acceptNext_ = false;
}

void Lbfgs::costChanged(double lossNow) {
  if (!previousX_.defined()) return;  // nothing to carry over yet
  pairSpansChange_ = true;
  if (!(lossNow > 0.0 && previousLoss_ > 0.0 && std::isfinite(lossNow))) {
    acceptNext_ = true;
    return;
  }
  const double c = rescale(lossNow / previousLoss_);
  previousGrad_.mul_(c);  // the sufficient-decrease test's prediction, at the new scale
  previousLoss_ = lossNow;
}

double Lbfgs::rescale(double c) {
  // H approximates the old J's inverse Hessian. Scaled by the change of J it
  // fits the new J where one term dominates; the Armijo halving and the
  // doubling absorb what remains.
  c = std::clamp(c, 1e-6, 1e6);
  for (Pair& pair : history_) {
    pair.y.mul_(c);
    pair.rho /= c;
  }
  gammaScale_ /= c;
  return c;
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

Lbfgs::Outcome Lbfgs::step(at::Tensor& x, const at::Tensor& grad, double loss) {
  at::NoGradGuard noGrad;
  const at::Tensor xf = x.reshape({-1});
  const at::Tensor g = grad.reshape({-1});
  // J under another cost than the last accepted point's: nothing to compare.
  const bool acceptAnyway = std::exchange(acceptNext_, false);
  if (previousX_.defined() && !acceptAnyway) {
    // Armijo along the displacement actually taken: the projection may have
    // shortened the step, and the prediction must shorten with it.
    const double predicted = dot(previousGrad_, xf - previousX_);
    if (!(loss <= previousLoss_ + kArmijo * predicted)) {
      if (retries_ < (gradientStep_ ? kMaxSteepestRetries : kMaxRetries)) {
        ++retries_;
        lastStep_ *= 0.5;
        x.copy_(previousX_.view_as(x)).add_(lastDirection_.view_as(x), lastStep_).clamp_(lo_, hi_);
        return {false, retries_};
      }
      ++retries_;
      if (!gradientStep_) {
        // The history's direction lowers J at no length tried: forget it.
        history_.clear();
        propose(x);
        return {false, retries_};
      }
      // Steepest descent finds no decrease either: J is flat here to float
      // precision. Keep the point if it is not worse, else go back.
      if (loss > previousLoss_) {
        x.copy_(previousX_.view_as(x));
        return {false, retries_};
      }
    }
  }
  // Rescaled by the change of J from the last point to this one instead.
  if (acceptAnyway && previousLoss_ > 0.0 && loss > 0.0) rescale(loss / previousLoss_);
  accept(xf, g, loss);
  propose(x);
  return {true, 0};
}

void Lbfgs::accept(const at::Tensor& x, const at::Tensor& g, double loss) {
  if (previousX_.defined()) {
    // A pair whose gradients belong to two costs (the weights changed in
    // between) would mix two functions: dropped, the older ones kept.
    if (!std::exchange(pairSpansChange_, false)) addPair(x - previousX_, g - previousGrad_, x);
    // The next direction starts at the length that worked, and grows back
    // (doubling) when a step was accepted at once.
    const double most = gradientStep_ ? kMaxSteepestScale : 1.0;
    stepScale_ = retries_ > 0 ? lastStep_ : std::min(most, 2.0 * lastStep_);
  }
  previousX_ = x.clone();
  previousGrad_ = g.clone();
  previousLoss_ = loss;
  retries_ = 0;
}

void Lbfgs::addPair(const at::Tensor& s, at::Tensor y, const at::Tensor& x) {
  // Pixels that stayed at a bound: their gradient's change tells nothing
  // about the curvature the free pixels move along.
  y.masked_fill_(s.eq(0.0) & (x.le(lo_) | x.ge(hi_)), 0.0);
  const double ys = dot(y, s), yy = dot(y, y), ss = dot(s, s);
  // Skip pairs without positive curvature: they would make H indefinite. The
  // test is relative: at print sizes a step moves each pixel so little that
  // any absolute threshold rejects every pair and L-BFGS never builds a history.
  if (!(ys > 0.0 && ys > 1e-8 * std::sqrt(ss * yy))) return;
  if (int(history_.size()) == historySize_) history_.pop_front();
  history_.push_back({s, y, 1.0 / ys});
  gammaScale_ = ys / yy;
}

void Lbfgs::propose(at::Tensor& x) {
  const at::Tensor& x0 = previousX_;
  const at::Tensor& g = previousGrad_;
  // Pixels at a bound whose gradient pushes them outward stay where they are:
  // out of the gradient before the recursion, out of the direction after it.
  const at::Tensor atLo = x0.le(lo_), atHi = x0.ge(hi_);
  const at::Tensor held = (atLo & g.gt(0.0)) | (atHi & g.lt(0.0));
  const at::Tensor free = g.masked_fill(held, 0.0);
  at::Tensor d;
  bool quasiNewton = !history_.empty();
  if (quasiNewton) {
    d = direction(free);
    // Also pixels at a bound that d itself would push outward: then a short
    // enough step is never shortened by the projection, and descent along d
    // (tested here) is descent of the projected step.
    d.masked_fill_(held | (atLo & d.lt(0.0)) | (atHi & d.gt(0.0)), 0.0);
    d.mul_(learningRate_);
    if (!(dot(d, g) < 0.0)) {
      history_.clear();  // no descent direction: the history misleads
      quasiNewton = false;
    }
  }
  if (!quasiNewton) {
    // A short steepest-descent step: 1/|g|_1 is tiny for images with ~1e6
    // pixels, so at least a useful pixel step (1e-3 for the steepest pixel).
    const double gradL1 = free.abs().sum().item<double>();
    const double gradMax = free.abs().max().item<double>();
    double t = std::min(1.0, 1.0 / std::max(gradL1, 1e-30));
    t = std::max(t, 1e-3 / std::max(gradMax, 1e-30)) * learningRate_;
    d = free.neg().mul_(t);
  }
  // Where J is concave along −g (a photo far from the style, at print size)
  // every pair is rejected and steepest descent goes on: its step doubles
  // while it is accepted at once, so it does not crawl.
  if (gradientStep_ != !quasiNewton) stepScale_ = 1.0;
  gradientStep_ = !quasiNewton;
  lastDirection_ = d;
  lastStep_ = stepScale_;
  x.copy_(x0.view_as(x)).add_(d.view_as(x), lastStep_).clamp_(lo_, hi_);
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
  state.numbers["lbfgs.step_scale"] = stepScale_;
  state.numbers["lbfgs.retries"] = retries_;
  state.numbers["lbfgs.pair_spans_change"] = pairSpansChange_ ? 1.0 : 0.0;
  state.numbers["lbfgs.accept_next"] = acceptNext_ ? 1.0 : 0.0;
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
  // Saved by later versions; an older checkpoint continues with their defaults.
  auto optional = [&](const std::string& key, double fallback) {
    const auto it = state.numbers.find(key);
    return it == state.numbers.end() ? fallback : it->second;
  };
  stepScale_ = optional("lbfgs.step_scale", 1.0);
  retries_ = int(optional("lbfgs.retries", 0.0));
  pairSpansChange_ = optional("lbfgs.pair_spans_change", 0.0) != 0.0;
  acceptNext_ = optional("lbfgs.accept_next", 0.0) != 0.0;
}

}  // namespace impasto
