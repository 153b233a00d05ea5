#pragma once

#include <vector>

#include "core/settings/render_settings.h"

namespace impasto {

// Coarse-to-fine: a render first finds the picture's structure on a small
// image, where a step is cheap, then refines it level by level, each about
// √2 larger, up to the requested size.
struct PyramidLevel {
  int size = 0;        // longest side of G at this level
  int iterations = 0;  // steps at this level
};

// The smallest level an automatic pyramid starts from: below it the networks'
// deepest style layers see only a few positions.
constexpr int kPyramidStartSize = 256;

// The levels a render runs, coarse to fine. The last is settings.size with
// settings.iterations; the coarser ones run settings.coarseIterations each.
// settings.scales 0 picks the count: one level per √2 from kPyramidStartSize.
std::vector<PyramidLevel> pyramidLevels(const RenderSettings& settings);

// Each level's share of the render's work (steps × pixels), for progress and ETA.
std::vector<double> levelWorkShares(const std::vector<PyramidLevel>& levels);

}  // namespace impasto
