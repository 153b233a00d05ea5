#pragma once

#include <filesystem>
#include <optional>
#include <vector>

#include "core/layers.h"

namespace impasto {

// Reads a sequential CNN from a Caffe deploy prototxt and its .caffemodel
// weights with OpenCV's dnn module, keeping the prototxt's layer names.
// Throws Error(Model) like readOnnxLayers.
std::vector<LayerSpec> readCaffeLayers(const std::filesystem::path& prototxt,
                                       const std::filesystem::path& caffemodel);

// The deploy prototxt that goes with a .caffemodel: <stem>.prototxt or
// <stem>_deploy.prototxt or deploy.prototxt beside it, else the one we ship
// for the VGG_ILSVRC_16/19_layers weights. nullopt when there is none.
std::optional<std::filesystem::path> findCaffePrototxt(const std::filesystem::path& caffemodel,
                                                       const std::filesystem::path& resourceDir);

}  // namespace impasto
