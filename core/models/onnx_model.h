#pragma once

#include <filesystem>
#include <vector>

#include "core/models/layers.h"

namespace impasto {

// Reads a sequential CNN from an ONNX file with OpenCV's dnn module. Layers
// keep the names of the modules PyTorch exported them from (conv1, leaky1,
// features.0, ...). Throws Error(Model) for unreadable files, branching
// graphs and unsupported layer types.
std::vector<LayerSpec> readOnnxLayers(const std::filesystem::path& path);

}  // namespace impasto
