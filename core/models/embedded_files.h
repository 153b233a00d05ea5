#pragma once

#include <string_view>
#include <vector>

namespace impasto {

// One file of resources/, compiled into the binary at build time
// (cmake/ImpastoEmbedFiles.cmake writes the definitions).
struct EmbeddedFile {
  std::string_view fileName;  // e.g. "vgg19.json"
  std::string_view bytes;     // the file's bytes, unchanged
};

// resources/models/*.json, sorted by file name.
const std::vector<EmbeddedFile>& builtinManifestSources();

// resources/caffe/*.prototxt, sorted by file name.
const std::vector<EmbeddedFile>& builtinCaffePrototxts();

}  // namespace impasto
