#pragma once

#include <cstdint>

#include "core/models/model.h"
#include "core/settings/render_settings.h"

namespace impasto {

// How a render step at one size will use memory, and whether it must tile.
// Estimates come from the network's shape (core/engine/network_geometry.h)
// with factors measured on this engine (bench/step_bench.cpp --render).
struct MemoryPlan {
  int width = 0, height = 0;
  double untiledBytes = 0.0;  // estimated peak of the untiled step
  double budgetBytes = 0.0;   // what the render may use
  int tile = 0;               // tile core size in pixels; 0: untiled
  double plannedBytes = 0.0;  // estimated peak with that tile (untiledBytes when 0)
};

// Peak resident memory of a render at width x height (settings resolved),
// untiled (tile 0) or tiled with that core size.
double estimateRenderBytes(const Model& model, const RenderSettings& settings, int width, int height,
                           int tile);

// Chooses the tiling for a render: `forcedTile` > 0 uses that core size (when
// the image is larger than one tile); otherwise the render tiles only when the
// untiled estimate exceeds maxMemoryBytes (0: defaultMemoryBudget()), with the
// largest tile that fits. Where nothing fits, it still tries when the image's
// own share (beyond the process's fixed footprint) fits; otherwise it throws
// Error(Input) saying how much memory the render needs.
MemoryPlan planMemory(const Model& model, const RenderSettings& settings, int width, int height,
                      int forcedTile, double maxMemoryBytes);

// Most of the memory available now (MemAvailable in /proc/meminfo), leaving
// room for the rest of the system.
double defaultMemoryBudget();

// The L-BFGS history for an image of `values` floats: each pair is two copies
// of G, so at print sizes 20 pairs would cost more than the network (380 MB
// at 1024 x 768); the pairs stay within about 200 MB, and at least 5.
int lbfgsHistorySize(std::int64_t values);

// The smallest tile core planMemory chooses on its own; --tile may go lower.
constexpr int kMinAutoTile = 256;

}  // namespace impasto
