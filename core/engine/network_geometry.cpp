#include "core/engine/network_geometry.h"

#include <algorithm>

#include "core/models/layers.h"

namespace impasto {

namespace {

int kernelOf(const LayerSpec& layer) {
  if (layer.kind == LayerKind::Conv) {
    const auto& shape = layer.weight.shape();
    return shape.size() == 4 ? int(std::max(shape[2], shape[3])) : 1;
  }
  if (layer.kind == LayerKind::MaxPool || layer.kind == LayerKind::AvgPool) return layer.kernel;
  return 1;
}

bool pools(const LayerSpec& layer) {
  return layer.kind == LayerKind::MaxPool || layer.kind == LayerKind::AvgPool;
}

}  // namespace

std::int64_t layerOutputSize(const LayerSpec& layer, std::int64_t in) {
  if (layer.kind != LayerKind::Conv && !pools(layer)) return in;
  const std::int64_t span = in + 2 * layer.padding - kernelOf(layer);
  if (span < 0) return 0;
  const bool ceil = pools(layer) && (layer.ceilMode || layer.padAfter > 0);
  std::int64_t out = (ceil ? (span + layer.stride - 1) / layer.stride : span / layer.stride) + 1;
  // A last window must start inside the input or its left padding (as LibTorch has it).
  if (ceil && (out - 1) * layer.stride >= in + layer.padding) --out;
  return out;
}

NetworkGeometry networkGeometry(const Model& model, std::size_t lastLayer) {
  NetworkGeometry g;
  std::int64_t channels = 3;
  int stride = 1;
  long reach = 0;  // in input pixels, summed over layers
  const auto& layers = model.layers();
  for (std::size_t i = 0; i <= lastLayer && i < layers.size(); ++i) {
    const LayerSpec& layer = layers[i];
    if (layer.kind == LayerKind::Conv && layer.weight.shape().size() == 4) channels = layer.weight.shape()[0];
    // Output positions [a, b) read inputs [a·s − p, (b − 1)·s − p + k − 1]:
    // `p` beyond their own block [a·s, b·s) on the left, `k − p − s` on the
    // right, each worth `stride` input pixels at this depth.
    const int k = kernelOf(layer), s = std::max(1, layer.stride), p = layer.padding;
    if (layer.kind == LayerKind::Conv || pools(layer)) reach += long(std::max({p, k - p - s, 0})) * stride;
    if (layer.kind == LayerKind::Conv || pools(layer)) stride *= s;
    g.layers.push_back({channels, stride});
  }
  g.totalStride = stride;
  g.halo = int((reach + stride - 1) / stride * stride);
  return g;
}

std::int64_t minimumInputSize(const Model& model, std::size_t lastLayer) {
  const auto& layers = model.layers();
  for (std::int64_t size = 1;; ++size) {
    std::int64_t out = size;
    for (std::size_t i = 0; i <= lastLayer && i < layers.size() && out > 0; ++i)
      out = layerOutputSize(layers[i], out);
    if (out > 0) return size;
  }
}

}  // namespace impasto
