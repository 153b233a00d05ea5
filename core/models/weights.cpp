#include "core/models/weights.h"

#include <stdexcept>

namespace impasto {

namespace {

std::int64_t product(const std::vector<std::int64_t>& shape) {
  std::int64_t n = 1;
  for (std::int64_t d : shape) n *= d;
  return n;
}

}  // namespace

WeightArray::WeightArray(std::vector<std::int64_t> shape, std::vector<float> values)
    : WeightArray(std::move(shape), std::make_shared<const std::vector<float>>(std::move(values))) {}

WeightArray::WeightArray(std::vector<std::int64_t> shape, std::shared_ptr<const std::vector<float>> values)
    : shape_(std::move(shape)), values_(std::move(values)) {
  if (!values_ || product(shape_) != static_cast<std::int64_t>(values_->size()))
    throw std::logic_error("WeightArray: " + std::to_string(values_ ? values_->size() : 0) + " values for shape " +
                           shapeString(shape_));
}

std::int64_t WeightArray::numel() const { return values_ ? product(shape_) : 0; }

const std::vector<float>& WeightArray::values() const {
  static const std::vector<float> empty;
  return values_ ? *values_ : empty;
}

std::string shapeString(const std::vector<std::int64_t>& shape) {
  std::string s = "[";
  for (std::size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

}  // namespace impasto
