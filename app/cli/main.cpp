// impasto-cli: renders style-transfer jobs without a window.
#include <CLI/App.hpp>
#include <CLI/Config.hpp>
#include <CLI/Formatter.hpp>
#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

#include "checkpointing.h"
#include "cli_options.h"
#include "core/engine/cpu_allocator.h"
#include "core/engine/render.h"
#include "core/faces/portrait_guard.h"
#include "core/io/atomic_file.h"
#include "core/io/image_io.h"
#include "core/library/face_model_location.h"
#include "core/library/model_library.h"
#include "core/models/model.h"
#include "core/util/error.h"
#include "core/util/version.h"
#include "exit_codes.h"
#include "faces_command.h"
#include "models_command.h"
#include "progress_reporter.h"
#include "render_interrupts.h"

namespace {

using namespace impasto;
namespace fs = std::filesystem;

bool sameFile(const fs::path& a, const fs::path& b) {
  std::error_code ec;
  return fs::exists(a, ec) && fs::exists(b, ec) && fs::equivalent(a, b, ec);
}

// Everything about the output that can fail is checked before minutes of work.
void checkOutput(const cli::CliOptions& options) {
  const fs::path output(options.output);
  if (!isSupportedOutputExtension(output))
    throw Error(ErrorKind::Usage,
                "Output '" + options.output + "' must end in .png, .jpg, .jpeg, .tif or .tiff");
  std::vector<std::string> inputs = options.styles;
  inputs.push_back(options.content);
  if (!options.preset.initImage.empty()) inputs.push_back(options.preset.initImage);
  for (const auto& input : inputs)
    if (sameFile(input, output))
      throw Error(ErrorKind::Usage,
                  "Output '" + options.output + "' is one of the inputs; choose another name");
  checkOutputWritable(output);
}

// The portrait guard's report on the render: d(C, G) for each face of the
// content. Nothing when the content has no faces or the face models are not
// installed: the report must never fail a render.
std::vector<FaceIdentity> portraitReport(std::shared_ptr<const FaceModels> models, const cv::Mat& content,
                                         const cv::Mat& generated) {
  try {
    if (!models) models = std::make_shared<const FaceModels>(locateFaceModels());
    return PortraitGuard(*models, content).measure(generated);
  } catch (const Error&) {
    return {};
  }
}

int renderCommand(cli::CliOptions options) {
  cli::RenderInterrupts interrupts;
  const auto interruptedBeforeStart = [&] {
    std::cerr << "impasto-cli: interrupted before the first step; nothing was saved\n";
    return interrupts.exitCode();
  };
  cli::checkRenderOptions(options);
  checkOutput(options);
  Preset& preset = options.preset;

  RenderJob job;
  job.content = loadImage(options.content);
  for (const auto& style : options.styles) job.styles.push_back(loadImage(style));
  job.styleBlend = preset.styleBlend;
  if (preset.settings.init == InitKind::Image) job.initImage = loadImage(preset.initImage);
  if (interrupts.signal()) return interruptedBeforeStart();
  const fs::path modelFile = resolveModelArgument(preset.model);
  job.model = loadModelFile(modelFile, preset.pooling);
  job.settings = preset.settings;
  job.settings.frameEvery = options.saveEvery > 0 ? options.saveEvery : std::max(1, job.settings.iterations);
  job.settings = resolveSettings(job.settings, *job.model);
  preset.settings = job.settings;  // what the output embeds: the resolved values
  // γ from --keep-identity or a preset: a missing face model is an error here, not a silent skip.
  if (usesIdentity(job.settings)) job.faceModels = std::make_shared<const FaceModels>(locateFaceModels());

  job.tile = options.tile;
  job.maxMemoryBytes = options.maxMemoryGB * 1024.0 * 1024.0 * 1024.0;
  cli::ProgressReporter reporter(options.json, options.reportEvery, options.saveEvery, options.output);
  if (options.resume && options.checkpoint.empty()) options.checkpoint = options.resumeFile;
  if (!options.checkpoint.empty()) {
    const cli::RenderIdentity identity(options, modelFile);
    if (options.resume) {
      identity.requireSameAs(*options.resume);
      job.resumeFrom = options.resume->state;
    }
    checkOutputWritable(options.checkpoint);
    job.checkpointEvery = options.checkpointEvery;
    reporter.saveCheckpointsTo(options.checkpoint, identity.json());
  }
  RenderControl control;
  interrupts.attach(&control);
  RenderResult result = render(job, reporter, control);
  interrupts.attach(nullptr);
  if (result.cancelled && result.iterations == 0) return interruptedBeforeStart();

  SaveOptions save;
  save.pngText[kSettingsPngKey] = presetToJson(preset, JsonStyle::Compact);
  save.pngText["Software"] = std::string("Impasto ") + version();
  saveImage(result.image, options.output, save);
  reporter.finish(result, options.output, portraitReport(job.faceModels, job.content, result.image));
  if (result.cancelled) return interrupts.exitCode();
  // A finished render needs its checkpoint no more; a cancelled one can resume from it.
  // (A signal after the last step changed nothing: the render is complete.)
  std::error_code ec;
  if (!options.checkpoint.empty()) fs::remove(options.checkpoint, ec);
  return 0;
}

const char* const kFooter =
    "Exit codes: 0 done, 2 usage error, 3 unreadable input, model or output, 4 download failed,\n"
    "130 interrupted by Ctrl-C, 143 by TERM (the current image is saved first, once a step is done).";

// "impasto-cli models download --help": the help of the deepest command given.
std::string helpCommand(const CLI::App& app) {
  std::string command = app.get_name();
  for (const CLI::App* at = &app; !at->get_subcommands().empty();) {
    at = at->get_subcommands().front();
    command += " " + at->get_name();
  }
  return command + " --help";
}

int run(int argc, char** argv) {
  CLI::App app(
      "Renders the content image in the style of the style image(s) (Gatys et al.).\n\n"
      "  impasto-cli --content FILE --style FILE [--style FILE ...] --output FILE [OPTIONS]\n"
      "  impasto-cli models list|download NAME|import FILE|verify   (impasto-cli models --help)\n"
      "  impasto-cli faces detect|verify|identify ...               (impasto-cli faces --help)\n",
      "impasto-cli");
  app.footer(kFooter);
  app.get_formatter()->column_width(34);
  app.set_version_flag(
      "--version", [] { return std::string("impasto-cli ") + version() + " (" + computeDeviceName() + ")"; });
  cli::CliOptions options;
  cli::addRenderOptions(app, options);
  std::function<int()> subcommand;
  addModelsCommand(app, subcommand);
  addFacesCommand(app, subcommand);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);  // the help of the command it follows, on stdout, exit 0
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    throw Error(ErrorKind::Usage, e.what() + std::string(" (see ") + helpCommand(app) + ")");
  }
  if (subcommand) return subcommand();
  return renderCommand(std::move(options));
}

}  // namespace

int main(int argc, char** argv) {
  installReusingCpuAllocator();
  return runReportingErrors([&] { return run(argc, argv); });
}
