#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/models/model.h"

namespace impasto {

// The shape of a sequential CNN as tiling and memory planning see it, from
// the layer specs alone (no tensors).
struct LayerGeometry {
  std::int64_t channels = 3;  // of the layer's output
  int stride = 1;             // input pixels per output position (cumulative)
};

struct NetworkGeometry {
  std::vector<LayerGeometry> layers;  // model layers 0..last
  int totalStride = 1;                // of the last layer
  // Input pixels beyond a region that can change the outputs over it: a tile
  // with at least this margin computes its own positions exactly. A multiple
  // of totalStride, so that tiles keep the pooling grid.
  int halo = 0;
};

NetworkGeometry networkGeometry(const Model& model, std::size_t lastLayer);

// A layer's output size along one axis for an input of `in` positions.
std::int64_t layerOutputSize(const LayerSpec& layer, std::int64_t in);

// The fewest input pixels along an axis for which layers 0..lastLayer all
// have an output (a smaller image makes LibTorch fail mid-render).
std::int64_t minimumInputSize(const Model& model, std::size_t lastLayer);

}  // namespace impasto
