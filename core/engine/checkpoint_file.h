#pragma once

#include <filesystem>
#include <string>

#include "core/engine/render.h"

namespace impasto {

// A render saved mid-way, to resume after a crash or a cancel: what the
// render is (the caller's description: settings, inputs and their digest)
// and where it had got to (RenderState: G in float, the optimiser's state).
struct Checkpoint {
  std::string render;  // a JSON object, the caller's
  RenderState state;
};

// Written atomically: a crash mid-write leaves the previous checkpoint. The
// file ends in a SHA-256 of everything before it, so damage is detected.
void saveCheckpoint(const Checkpoint& checkpoint, const std::filesystem::path& path);

// Throws Error(Input) saying what is wrong when the file is missing, not a
// checkpoint, of another version, damaged or truncated.
Checkpoint loadCheckpoint(const std::filesystem::path& path);

}  // namespace impasto
