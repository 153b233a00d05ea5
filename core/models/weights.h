#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace impasto {

// A weight array as every reader hands it over: float32 values in C order.
// The readers stay torch-free; the engine turns these into tensors in one place
// (core/engine/tensor_convert.h), without copying them. Copies share values,
// so a model's pooling variants cost no extra memory.
class WeightArray {
 public:
  WeightArray() = default;
  // values.size() must be the product of shape (checked: throws std::logic_error).
  WeightArray(std::vector<std::int64_t> shape, std::vector<float> values);
  // Shares values another array (or a reader's buffer) already holds.
  WeightArray(std::vector<std::int64_t> shape, std::shared_ptr<const std::vector<float>> values);

  bool defined() const { return values_ != nullptr; }
  const std::vector<std::int64_t>& shape() const { return shape_; }
  int dim() const { return static_cast<int>(shape_.size()); }
  std::int64_t size(int axis) const { return shape_.at(static_cast<std::size_t>(axis)); }
  std::int64_t numel() const;
  const float* data() const { return values_ ? values_->data() : nullptr; }
  const std::vector<float>& values() const;

 private:
  std::vector<std::int64_t> shape_;
  std::shared_ptr<const std::vector<float>> values_;
};

// "[64, 3, 3, 3]", for messages.
std::string shapeString(const std::vector<std::int64_t>& shape);

}  // namespace impasto
