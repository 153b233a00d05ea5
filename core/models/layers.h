#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "core/models/weights.h"

namespace impasto {

enum class LayerKind { Conv, ReLU, LeakyReLU, MaxPool, AvgPool };

// Bounds on a model's geometry, far above any CNN Impasto can use (VGG: 3x3
// kernels, 512 channels, 37 layers) and low enough that a tiny file cannot
// declare layers whose outputs or loops would exhaust memory or time. Every
// loader's layers are checked against them before anything is rendered.
constexpr int kMaxLayerKernel = 64;  // pooling window; conv kernel height and width
constexpr int kMaxLayerStride = 64;
constexpr int kMaxLayerPadding = 64;  // symmetric padding and bottom/right padding
constexpr std::int64_t kMaxLayerChannels = 16384;
constexpr std::size_t kMaxLayers = 4096;
constexpr double kMaxNegativeSlope = 1000.0;  // LeakyReLU, either sign

// One layer of a sequential CNN, as every loader produces it. The feature
// extractor builds its modules from a list of these.
struct LayerSpec {
  LayerKind kind = LayerKind::ReLU;
  std::string name;
  // Conv: weight is [out, in, kh, kw], bias is [out] or undefined.
  WeightArray weight;
  WeightArray bias;
  int stride = 1;
  int padding = 0;  // symmetric padding (conv and pooling)
  int kernel = 2;   // pooling window
  bool ceilMode = false;
  // Pooling that pads only on the bottom/right ("same" in TensorFlow), by this much.
  int padAfter = 0;
  double negativeSlope = 0.0;  // LeakyReLU
};

std::string toString(LayerKind kind);

}  // namespace impasto
