#pragma once

#include <filesystem>
#include <vector>

#include "core/models/layers.h"

namespace impasto {

// Reads a TensorFlow.js "layers" model (model.json + float32 weight shards) as
// a chain of LayerSpec: Conv2D with its BatchNormalization folded in, the
// activation and pooling layers after it. The chain ends at the first layer we
// do not model (Dense, Flatten, ...) or whose weight shard is not on disk, so a
// partial download of the first blocks is usable. Layers are named conv<i>,
// leaky<i>/relu<i>, pool<i> like the ONNX export.
// Throws Error(ErrorKind::Model) on a malformed model.json or shard.
std::vector<LayerSpec> readTfjsLayers(const std::filesystem::path& modelJson);

}  // namespace impasto
