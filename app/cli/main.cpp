// impasto-cli: renders style-transfer jobs without a window.
#include <csignal>
#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

#include "cli_options.h"
#include "core/util/version.h"
#include "core/io/atomic_file.h"
#include "core/engine/cpu_allocator.h"
#include "core/util/error.h"
#include "core/io/image_io.h"
#include "core/models/model.h"
#include "core/engine/render.h"
#include "exit_codes.h"
#include "progress_reporter.h"
#include "core/library/model_library.h"
#include "models_command.h"

namespace {

using namespace impasto;
namespace fs = std::filesystem;

RenderControl* activeControl = nullptr;

void onInterrupt(int) {
  // First Ctrl-C: stop after the current step and save. A second one kills.
  if (activeControl) activeControl->cancel();
  std::signal(SIGINT, SIG_DFL);
}

bool sameFile(const fs::path& a, const fs::path& b) {
  std::error_code ec;
  return fs::exists(a, ec) && fs::exists(b, ec) && fs::equivalent(a, b, ec);
}

// Everything about the output that can fail is checked before minutes of work.
void checkOutput(const cli::CliOptions& options) {
  const fs::path output(options.output);
  if (!isSupportedOutputExtension(output))
    throw Error(ErrorKind::Usage, "Output '" + options.output + "' must end in .png, .jpg, .jpeg, .tif or .tiff");
  std::vector<std::string> inputs = options.styles;
  inputs.push_back(options.content);
  if (!options.initFile.empty()) inputs.push_back(options.initFile);
  for (const auto& input : inputs)
    if (sameFile(input, output))
      throw Error(ErrorKind::Usage, "Output '" + options.output + "' is one of the inputs; choose another name");
  checkOutputWritable(output);
}

int renderCommand(const std::vector<std::string>& args) {
  cli::CliOptions options = cli::parseCommandLine(args);
  if (options.help) {
    std::cout << cli::usageText();
    return 0;
  }
  if (options.version) {
    std::cout << "impasto-cli " << version() << " (" << computeDeviceName() << ")\n";
    return 0;
  }
  checkOutput(options);

  RenderJob job;
  job.content = loadImage(options.content);
  for (const auto& style : options.styles) job.styles.push_back(loadImage(style));
  job.styleBlend = options.styleBlend;
  if (!options.initFile.empty()) job.initImage = loadImage(options.initFile);
  job.model = loadModelFile(resolveModelArgument(options.model), options.pooling);

  RenderSettings& settings = job.settings;
  settings = options.settings;
  const ModelManifest& manifest = job.model->manifest();
  if (!options.alphaSet) settings.weights.alpha = manifest.defaultAlpha.value_or(kDefaultAlpha);
  if (!options.betaSet) settings.weights.beta = manifest.defaultBeta.value_or(kDefaultBeta);
  settings.frameEvery = options.saveEvery > 0 ? options.saveEvery : std::max(1, settings.iterations);
  settings = resolveSettings(settings, *job.model);

  cli::ProgressReporter reporter(options.json, options.reportEvery, options.saveEvery, options.output);
  RenderControl control;
  activeControl = &control;
  std::signal(SIGINT, onInterrupt);
  RenderResult result = render(job, reporter, control);
  activeControl = nullptr;

  SaveOptions save;
  save.pngText["impasto:settings"] = describeSettings(settings, job.model->manifest().name);
  saveImage(result.image, options.output, save);
  reporter.finish(result, options.output);
  return result.cancelled ? 130 : 0;
}

}  // namespace

int main(int argc, char** argv) {
  installReusingCpuAllocator();
  const std::vector<std::string> args(argv + 1, argv + argc);
  if (!args.empty() && args[0] == "models") return runModelsCommand({args.begin() + 1, args.end()});
  return runReportingErrors([&] { return renderCommand(args); });
}
