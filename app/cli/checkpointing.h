#pragma once

#include <filesystem>
#include <string>

#include "cli_options.h"
#include "core/engine/checkpoint_file.h"

namespace impasto::cli {

// What a checkpoint says about its render, so --resume can continue it and
// refuse when anything that shaped it has changed: the settings, the input
// images and the model file, each with its SHA-256.
class RenderIdentity {
 public:
  // Describes the render these options ask for (the model file resolved).
  RenderIdentity(const CliOptions& options, const std::filesystem::path& modelFile);

  std::string json() const { return json_; }

  // Throws Error(Input), exit 3, naming what differs from the checkpoint's.
  void requireSameAs(const Checkpoint& checkpoint) const;

 private:
  std::string json_;
};

// --resume FILE: the checkpoint's settings become the preset, and its files
// are used where the command line names none.
void applyCheckpointRender(const Checkpoint& checkpoint, CliOptions& options);

}  // namespace impasto::cli
