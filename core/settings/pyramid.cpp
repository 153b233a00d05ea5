#include "core/settings/pyramid.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace impasto {

std::vector<PyramidLevel> pyramidLevels(const RenderSettings& s) {
  int count = s.scales;
  if (count <= 0) {
    const double halfOctaves = 2.0 * std::log2(double(s.size) / kPyramidStartSize);
    count = 1 + std::max(0, int(std::lround(halfOctaves)));
  }
  count = std::min(count, kMaxScales);
  std::vector<PyramidLevel> levels;
  for (int k = count - 1; k >= 0; --k) {
    const int size = std::max(kMinSize, int(std::lround(s.size / std::pow(std::sqrt(2.0), k))));
    // Levels that round to the same size (small renders, many scales) are one.
    if (!levels.empty() && levels.back().size >= size) continue;
    levels.push_back({size, s.coarseIterations});
  }
  levels.back().iterations = s.iterations;
  // Nothing to refine: a render of 0 steps has no coarse levels either.
  if (s.iterations == 0) levels.erase(levels.begin(), levels.end() - 1);
  return levels;
}

std::vector<double> levelWorkShares(const std::vector<PyramidLevel>& levels) {
  std::vector<double> work;
  for (const auto& level : levels) work.push_back(double(level.iterations) * level.size * level.size);
  const double total = std::accumulate(work.begin(), work.end(), 0.0);
  for (double& w : work) w = total > 0 ? w / total : 1.0 / double(work.size());
  return work;
}

}  // namespace impasto
