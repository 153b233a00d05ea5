#include "core/engine/iterate_average.h"

#include "core/engine/tensor_convert.h"
#include "core/util/error.h"

namespace impasto {

namespace {
constexpr const char* kSumKey = "average.sum";
constexpr const char* kWeightKey = "average.weight";
}  // namespace

void IterateAverage::reset() {
  sum_ = at::Tensor();
  weight_ = 0.0;
}

void IterateAverage::add(const at::Tensor& generated) {
  const at::Tensor g = generated.detach();
  if (sum_.defined() && !sum_.sizes().equals(g.sizes())) reset();
  if (!sum_.defined())
    sum_ = g * (1.0 - decay_);
  else
    sum_.mul_(decay_).add_(g, 1.0 - decay_);
  weight_ = decay_ * weight_ + (1.0 - decay_);
}

at::Tensor IterateAverage::value(const at::Tensor& generated) const {
  // decay 0 gives weight 1 after one step: the average is G itself.
  if (!sum_.defined() || weight_ <= 0.0) return generated.detach();
  return (sum_ / weight_).clamp_(0.0, 1.0);
}

void IterateAverage::save(OptimizerState& state) const {
  if (!sum_.defined()) return;
  state.arrays[kSumKey] = floatValues(sum_);
  state.numbers[kWeightKey] = weight_;
}

void IterateAverage::load(const OptimizerState& state, const at::Tensor& generated) {
  reset();
  const auto sum = state.arrays.find(kSumKey);
  const auto weight = state.numbers.find(kWeightKey);
  if (sum == state.arrays.end() || weight == state.numbers.end()) return;  // saved before the first step
  if (std::int64_t(sum->second.size()) != generated.numel() ||
      !(weight->second > 0.0 && weight->second <= 1.0))
    throw Error(ErrorKind::Input, "The checkpoint's average image is of another size than the image");
  sum_ = floatTensor(sum->second).view_as(generated).to(generated.device());
  weight_ = weight->second;
}

}  // namespace impasto
