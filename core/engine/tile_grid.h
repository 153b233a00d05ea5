#pragma once

#include <cstdint>
#include <vector>

#include "core/engine/network_geometry.h"

namespace impasto {

// A half-open range of positions along one axis.
struct Span {
  std::int64_t begin = 0, end = 0;
  std::int64_t size() const { return end - begin; }
};

// One tile of an image: the crop a forward runs on (its core plus a halo of
// the network's reach, clipped to the image) and the core, the positions
// whose costs this tile owns. Cores partition the image.
struct Tile {
  Span cropY, cropX;                  // input pixels
  Span coreY, coreX;                  // input pixels, inside the crop
  bool lastY = false, lastX = false;  // the core reaches the image's end
};

// Exact tiling for a network (DESIGN: a Gram is a sum over positions): cores
// start on multiples of the network's total stride, so every layer of a
// tile's forward sits on the full image's grid, and the halo makes the
// layer outputs over the core exactly those of the whole image.
class TileGrid {
 public:
  // core: the tile core's side in pixels, rounded up to the total stride.
  TileGrid(std::int64_t height, std::int64_t width, int core, const NetworkGeometry& geometry);

  const std::vector<Tile>& tiles() const { return tiles_; }
  int core() const { return core_; }

  // The positions a tile owns at a layer of this stride, in the coordinates of
  // the tile's own layer output (of size `tileLayerSize` along that axis).
  static Span ownedY(const Tile& tile, int stride, std::int64_t tileLayerSize);
  static Span ownedX(const Tile& tile, int stride, std::int64_t tileLayerSize);
  // The same positions in the whole image's layer output.
  static Span globalY(const Tile& tile, int stride, std::int64_t tileLayerSize);
  static Span globalX(const Tile& tile, int stride, std::int64_t tileLayerSize);

 private:
  int core_;
  std::vector<Tile> tiles_;
};

}  // namespace impasto
