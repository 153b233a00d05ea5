#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/settings/preset.h"

namespace CLI {
class App;
}

namespace impasto {
struct Checkpoint;
}

namespace impasto::cli {

// A parsed `impasto-cli` render command line. Everything that shapes the
// picture is in `preset`, the same record the studio saves and every export
// embeds, so `--preset FILE` and the flags edit one thing.
struct CliOptions {
  std::string content;
  std::vector<std::string> styles;
  std::string output;
  Preset preset = defaultPreset();
  // The last --preset named a model file and no --model came after it.
  bool modelFileFromPreset = false;
  int reportEvery = 1;
  int saveEvery = 0;
  bool json = false;
  std::string checkpoint;  // save the render's state here as it runs
  int checkpointEvery = 25;
  int tile = 0;                              // --tile PX: force tiles of this core size
  double maxMemoryGB = 0.0;                  // --max-memory GB: tile beyond this (0: most of the free RAM)
  std::string resumeFile;                    // --resume: the checkpoint...
  std::shared_ptr<const Checkpoint> resume;  // ...as loaded

  // The CLI's starting point: the default model, α and β from its manifest.
  static Preset defaultPreset();
};

// Adds the render flags to app (the command without a subcommand). They apply
// to options.preset in the order given, so a flag after --preset overrides
// the preset and one before it is overridden. Bad values throw Error(Usage).
void addRenderOptions(CLI::App& app, CliOptions& options);

// Checks what the flags cannot check one by one (required files, one blend
// weight per style). Throws Error(Usage).
void checkRenderOptions(const CliOptions& options);

}  // namespace impasto::cli
