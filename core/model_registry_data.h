#pragma once

#include <string_view>
#include <vector>

namespace impasto {

// One file of resources/models, compiled into the binary at build time
// (cmake/ImpastoEmbedManifests.cmake writes the definition).
struct EmbeddedManifest {
  std::string_view fileName;  // e.g. "vgg19.json"
  std::string_view json;      // the file's bytes, unchanged
};

// Every built-in manifest, sorted by file name.
const std::vector<EmbeddedManifest>& builtinManifestSources();

}  // namespace impasto
