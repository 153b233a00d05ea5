#pragma once

#include <string>
#include <vector>

#include "core/models/weights.h"

namespace impasto {

enum class LayerKind { Conv, ReLU, LeakyReLU, MaxPool, AvgPool };

// One layer of a sequential CNN, as every loader produces it. The feature
// extractor builds its modules from a list of these.
struct LayerSpec {
  LayerKind kind = LayerKind::ReLU;
  std::string name;
  // Conv: weight is [out, in, kh, kw], bias is [out] or undefined.
  WeightArray weight;
  WeightArray bias;
  int stride = 1;
  int padding = 0;     // symmetric padding (conv and pooling)
  int kernel = 2;      // pooling window
  bool ceilMode = false;
  // Pooling that pads only on the bottom/right ("same" in TensorFlow), by this much.
  int padAfter = 0;
  double negativeSlope = 0.0;  // LeakyReLU
};

std::string toString(LayerKind kind);

}  // namespace impasto
