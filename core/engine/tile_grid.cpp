#include "core/engine/tile_grid.h"

#include <algorithm>

#include "core/util/error.h"

namespace impasto {

namespace {

std::vector<std::pair<Span, Span>> axisTiles(std::int64_t length, int core, int halo) {
  std::vector<std::pair<Span, Span>> spans;  // {crop, core}
  for (std::int64_t begin = 0; begin < length; begin += core) {
    const Span coreSpan{begin, std::min(length, begin + core)};
    spans.push_back(
        {{std::max<std::int64_t>(0, begin - halo), std::min(length, coreSpan.end + halo)}, coreSpan});
  }
  return spans;
}

Span owned(const Span& crop, const Span& core, bool last, int stride, std::int64_t tileLayerSize) {
  // Crop and core starts are multiples of the total stride, hence of `stride`.
  const std::int64_t begin = (core.begin - crop.begin) / stride;
  const std::int64_t end = last ? tileLayerSize : (core.end - crop.begin) / stride;
  return {std::min(begin, tileLayerSize), std::min(end, tileLayerSize)};
}

Span shifted(Span span, const Span& crop, int stride) {
  const std::int64_t offset = crop.begin / stride;
  return {span.begin + offset, span.end + offset};
}

}  // namespace

TileGrid::TileGrid(std::int64_t height, std::int64_t width, int core, const NetworkGeometry& geometry) {
  const int stride = std::max(1, geometry.totalStride);
  if (core <= 0) throw Error(ErrorKind::Usage, "The tile size must be positive");
  core_ = (core + stride - 1) / stride * stride;
  const auto rows = axisTiles(height, core_, geometry.halo);
  const auto cols = axisTiles(width, core_, geometry.halo);
  for (std::size_t r = 0; r < rows.size(); ++r)
    for (std::size_t c = 0; c < cols.size(); ++c)
      tiles_.push_back({rows[r].first, cols[c].first, rows[r].second, cols[c].second, r + 1 == rows.size(),
                        c + 1 == cols.size()});
}

Span TileGrid::ownedY(const Tile& t, int stride, std::int64_t size) {
  return owned(t.cropY, t.coreY, t.lastY, stride, size);
}
Span TileGrid::ownedX(const Tile& t, int stride, std::int64_t size) {
  return owned(t.cropX, t.coreX, t.lastX, stride, size);
}
Span TileGrid::globalY(const Tile& t, int stride, std::int64_t size) {
  return shifted(ownedY(t, stride, size), t.cropY, stride);
}
Span TileGrid::globalX(const Tile& t, int stride, std::int64_t size) {
  return shifted(ownedX(t, stride, size), t.cropX, stride);
}

}  // namespace impasto
