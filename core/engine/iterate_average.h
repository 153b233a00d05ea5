#pragma once

#include "core/engine/aten.h"
#include "core/engine/optimizer_state.h"

namespace impasto {

// An exponential moving average of G over the steps of one pyramid level
// (iterate averaging, as in crowsonkb/style-transfer-pytorch): L-BFGS's last
// steps jitter the finest detail, and the average keeps what they agree on.
// Bias-corrected, so the level's starting image (not an iterate) has no weight:
// after n steps it is Σ d^(n−i) (1 − d) G_i / (1 − d^n).
class IterateAverage {
 public:
  explicit IterateAverage(double decay) : decay_(decay) {}

  // Starts over (a new level: G has another size).
  void reset();
  void add(const at::Tensor& generated);
  // The average, or generated itself before the first add.
  at::Tensor value(const at::Tensor& generated) const;

  // Kept in the optimiser's part of a checkpoint, so a resumed render averages on.
  void save(OptimizerState& state) const;
  void load(const OptimizerState& state, const at::Tensor& generated);  // G's current size

 private:
  double decay_;
  at::Tensor sum_;     // Σ d^(n−i) (1 − d) G_i
  double weight_ = 0;  // 1 − d^n
};

}  // namespace impasto
