#pragma once

#include <string>
#include <vector>

#include "core/models/model.h"
#include "core/engine/render.h"

namespace impasto::cli {

// A parsed `impasto-cli` render command line.
struct CliOptions {
  std::string content;
  std::vector<std::string> styles;
  std::vector<double> styleBlend;
  std::string output;
  std::string model = "vgg19";
  std::string initFile;  // for --init FILE
  Pooling pooling = Pooling::AsTrained;
  bool alphaSet = false;
  bool betaSet = false;
  int reportEvery = 1;
  int saveEvery = 0;
  bool json = false;
  bool help = false;
  bool version = false;
  RenderSettings settings;
};

// Throws impasto::Error(Usage) with a one-line message on bad flags.
CliOptions parseCommandLine(const std::vector<std::string>& args);

std::string usageText();

}  // namespace impasto::cli
