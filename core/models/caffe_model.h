#pragma once

#include <filesystem>
#include <optional>
#include <string_view>
#include <vector>

#include "core/models/layers.h"

namespace impasto {

// A Caffe deploy prototxt: a file on disk, or one compiled into Impasto.
struct CaffePrototxt {
  std::filesystem::path file;    // empty for a built-in one
  std::string_view builtinName;  // e.g. "vgg19_deploy.prototxt"
  std::string_view builtinText;

  std::string describe() const;  // for messages
};

// Reads a sequential CNN from a Caffe deploy prototxt and its .caffemodel
// weights with OpenCV's dnn module, keeping the prototxt's layer names.
// Throws Error(Model) like readOnnxLayers.
std::vector<LayerSpec> readCaffeLayers(const CaffePrototxt& prototxt, const std::filesystem::path& caffemodel);

// The deploy prototxt that goes with a .caffemodel: <stem>.prototxt or
// <stem>_deploy.prototxt or deploy.prototxt beside it, else the built-in one
// for the VGG_ILSVRC_16/19_layers weights. nullopt when there is none.
std::optional<CaffePrototxt> findCaffePrototxt(const std::filesystem::path& caffemodel);

}  // namespace impasto
