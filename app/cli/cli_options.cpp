#include "cli_options.h"

#include <CLI/App.hpp>
#include <cmath>
#include <filesystem>
#include <sstream>

#include "checkpointing.h"
#include "core/engine/checkpoint_file.h"
#include "core/util/error.h"

namespace impasto::cli {
namespace {

std::vector<std::string> splitList(const std::string& text) {
  std::vector<std::string> items;
  std::stringstream stream(text);
  for (std::string item; std::getline(stream, item, ',');)
    if (!item.empty()) items.push_back(item);
  return items;
}

double parseNumber(const std::string& flag, const std::string& text) {
  double value = 0.0;
  if (!CLI::detail::lexical_cast(text, value) || !std::isfinite(value))
    throw Error(ErrorKind::Usage, flag + " expects a number, got '" + text + "'");
  return value;
}

// "relu1_1:0.5,relu2_1" -> λ per layer; layers without λ share the rest equally.
std::map<std::string, double> parseStyleLayers(const std::string& text) {
  std::map<std::string, double> layers;
  std::vector<std::string> unweighted;
  for (const auto& item : splitList(text)) {
    const auto colon = item.find(':');
    if (colon == std::string::npos)
      unweighted.push_back(item);
    else
      layers[item.substr(0, colon)] = parseNumber("--style-layers", item.substr(colon + 1));
  }
  for (const auto& name : unweighted) layers[name] = 1.0 / double(unweighted.size() + layers.size());
  if (layers.empty()) throw Error(ErrorKind::Usage, "--style-layers needs at least one layer name");
  return layers;
}

std::string choices(const std::vector<std::string>& names) {
  std::string text;
  for (const auto& name : names) text += (text.empty() ? "" : "|") + name;
  return text;
}

// An option whose value is applied to the preset the moment it is parsed, so
// that options and --preset take effect in command-line order.
template <typename T, typename Apply>
CLI::Option* addApplied(CLI::App& app, const std::string& flag, const std::string& help, Apply apply) {
  return app.add_option_function<T>(flag, apply, help)->trigger_on_parse();
}

}  // namespace

Preset CliOptions::defaultPreset() {
  Preset preset;
  preset.model = "vgg19";
  preset.settings.alphaFromModel = true;
  preset.settings.betaFromModel = true;
  return preset;
}

void addRenderOptions(CLI::App& app, CliOptions& o) {
  Preset& p = o.preset;
  RenderSettings& s = p.settings;
  app.add_option("--content", o.content, "content photograph")->type_name("FILE");
  app.add_option("--style", o.styles, "style image; repeat for several")
      ->type_name("FILE")
      ->allow_extra_args(false);
  app.add_option("-o,--output", o.output, "result (.png, .jpg, .tif); written atomically")->type_name("FILE");
  addApplied<std::string>(
      app, "--preset", "settings from a preset .json or a PNG Impasto exported; flags after it override it",
      [&o](const std::string& file) {
        const std::string before = o.preset.model;
        loadPresetFile(file, o.preset);
        o.modelFileFromPreset = o.preset.model != before && namesModelFile(o.preset);
      })
      ->type_name("FILE");
  addApplied<std::string>(app, "--model", "installed model name or a model file (default: vgg19)",
                          [&o, &p](const std::string& v) {
                            o.modelFileFromPreset = false;
                            // A file by its absolute path, so the preset the output embeds finds it anywhere.
                            std::error_code ec;
                            p.model = std::filesystem::is_regular_file(v, ec)
                                          ? std::filesystem::absolute(v).lexically_normal().string()
                                          : v;
                          })
      ->type_name("NAME|FILE");
  addApplied<std::string>(app, "--style-blend", "blend weights of the style images (default: equal)",
                          [&p](const std::string& v) {
                            p.styleBlend.clear();
                            for (const auto& w : splitList(v))
                              p.styleBlend.push_back(parseNumber("--style-blend", w));
                          })
      ->type_name("W1,W2,...");
  addApplied<int>(app, "--size", "longest side of the result in pixels (default: 512)",
                  [&s](int v) { s.size = v; })
      ->type_name("N")
      ->check(CLI::Range(kMinSize, kMaxSize));
  addApplied<int>(app, "--iterations", "optimisation steps at the final size (default: 500)",
                  [&s](int v) { s.iterations = v; })
      ->type_name("N")
      ->check(CLI::Range(0, kMaxIterations));
  addApplied<int>(app, "--scales", "coarse-to-fine levels, each √2 larger (default: from 256 px up; 1: off)",
                  [&s](int v) { s.scales = v; })
      ->type_name("K")
      ->check(CLI::Range(1, kMaxScales));
  addApplied<int>(app, "--coarse-iterations", "steps at each coarser level (default: 50)",
                  [&s](int v) { s.coarseIterations = v; })
      ->type_name("N")
      ->check(CLI::Range(0, kMaxIterations));
  addApplied<double>(app, "--style-scale",
                     "style image size relative to the result (default: 1, never beyond its own pixels)",
                     [&s](double v) { s.styleScale = v; })
      ->type_name("F")
      ->check(CLI::Range(0.01, kMaxStyleScale));
  addApplied<double>(app, "--alpha", "content weight α (default: from the model)", [&s](double v) {
    s.weights.alpha = v;
    s.alphaFromModel = false;
  })->type_name("A");
  addApplied<double>(app, "--beta", "style weight β (default: from the model)", [&s](double v) {
    s.weights.beta = v;
    s.betaFromModel = false;
  })->type_name("B");
  addApplied<std::string>(app, "--style-layers", "style layers and their weights λ (default: from the model)",
                          [&s](const std::string& v) { s.weights.styleLayers = parseStyleLayers(v); })
      ->type_name("L[:λ],...");
  addApplied<std::string>(app, "--content-layer", "content layer (default: from the model)",
                          [&s](const std::string& v) { s.contentLayer = v; })
      ->type_name("L");
  addApplied<double>(app, "--tv", "total-variation weight (default: 0)", [&s](double v) {
    s.weights.tv = v;
  })->type_name("W");
  addApplied<std::string>(app, "--init", "starting image (default: content)", [&p](const std::string& v) {
    if (v == "content" || v == "noise") {
      p.settings.init = parseSpelling<InitKind>(v, "--init");
      p.initImage.clear();
    } else {
      p.settings.init = InitKind::Image;
      // Absolute, so that the preset embedded in the output finds it from anywhere.
      p.initImage = std::filesystem::absolute(v).lexically_normal().string();
    }
  })->type_name("content|noise|FILE");
  addApplied<std::string>(app, "--optimizer", "(default: lbfgs)", [&s](const std::string& v) {
    s.optimizer = parseSpelling<Optimizer>(v, "--optimizer");
  })->type_name(choices(spellings<Optimizer>()));
  addApplied<double>(app, "--lr", "learning rate (default: 1 for L-BFGS, 0.02 for Adam)",
                     [&s](double v) { s.learningRate = v; })
      ->type_name("X")
      ->check(CLI::NonNegativeNumber);
  addApplied<std::string>(app, "--pooling", "replace the model's pooling layers", [&p](const std::string& v) {
    p.pooling = parseSpelling<Pooling>(v, "--pooling");
  })->type_name(choices(spellings<Pooling>()));
  addApplied<std::string>(app, "--preserve-colors",
                          "keep the photo's colours: transfer on luma only, or match the style's colours "
                          "to the photo's first (default: off)",
                          [&s](const std::string& v) {
                            s.preserveColors = parseSpelling<PreserveColors>(v, "--preserve-colors");
                          })
      ->type_name(choices(spellings<PreserveColors>()));
  addApplied<std::string>(
      app, "--average", "export and preview a moving average of the steps' images (default: off)",
      [&s](const std::string& v) { s.average = parseSpelling<Averaging>(v, "--average"); })
      ->type_name(choices(spellings<Averaging>()));
  addApplied<double>(app, "--average-decay", "the average's decay per step, 0 to 0.9999 (default: 0.9)",
                     [&s](double v) { s.averageDecay = v; })
      ->type_name("D")
      ->check(CLI::Range(0.0, kMaxAverageDecay));
  addApplied<std::uint64_t>(app, "--seed", "random seed (default: 0)", [&s](std::uint64_t v) { s.seed = v; })
      ->type_name("N")
      ->check(CLI::Range(std::uint64_t(0), kMaxSeed));
  addApplied<int>(app, "--threads", "CPU threads (default: all cores)", [&s](int v) { s.threads = v; })
      ->type_name("N")
      ->check(CLI::Range(1, 1024));
  app.add_option("--report-every", o.reportEvery, "progress every K steps (default: 1)")
      ->type_name("K")
      ->check(CLI::Range(1, kMaxIterations));
  app.add_option("--save-every", o.saveEvery, "also save OUTPUT-NNNN.ext every K steps")
      ->type_name("K")
      ->check(CLI::Range(0, kMaxIterations));
  app.add_flag("--json", o.json, "one JSON object per line on stdout");
  addApplied<double>(app, "--keep-identity",
                     "keep faces recognisable: adds γ = WEIGHT (default " +
                         std::to_string(int(kDefaultIdentity)) +
                         ") times the squared face-descriptor distance to C per face to J; 0: off",
                     [&s](double v) { s.weights.identity = v; })
      ->type_name("[WEIGHT]")
      ->expected(0, 1)
      ->default_str(std::to_string(int(kDefaultIdentity)))
      ->check(CLI::Range(0.0, kMaxWeight));
  app.add_option("--checkpoint", o.checkpoint, "save the render's state to FILE as it runs, to --resume it")
      ->type_name("FILE");
  app.add_option("--checkpoint-every", o.checkpointEvery,
                 "checkpoint every K steps or 60 s, whichever is first")
      ->type_name("K")
      ->check(CLI::Range(1, kMaxIterations));
  app.add_option("--max-memory", o.maxMemoryGB,
                 "tile the render (exactly) where it would need more memory than this "
                 "(default: 85% of the memory available)")
      ->type_name("GB")
      ->check(CLI::Range(0.1, 1.0e6));
  app.add_option("--tile", o.tile, "evaluate in tiles of PX pixels, plus a margin (same result, less memory)")
      ->type_name("PX")
      ->check(CLI::Range(16, kMaxSize));
  addApplied<std::string>(
      app, "--resume", "continue the render a --checkpoint FILE saved (its settings and files)",
      [&o](const std::string& file) {
        std::shared_ptr<Checkpoint> checkpoint;
        try {
          checkpoint = std::make_shared<Checkpoint>(loadCheckpoint(file));
        } catch (const Error& e) {
          throw Error(e.kind(), std::string(e.what()) + " Start the render again without --resume.");
        }
        applyCheckpointRender(*checkpoint, o);
        o.resumeFile = file;
        o.resume = std::move(checkpoint);
      })
      ->type_name("FILE");
}

void checkRenderOptions(const CliOptions& o) {
  if (o.content.empty()) throw Error(ErrorKind::Usage, "Missing --content FILE");
  if (o.styles.empty()) throw Error(ErrorKind::Usage, "Missing --style FILE");
  if (o.output.empty()) throw Error(ErrorKind::Usage, "Missing --output FILE");
  const auto& blend = o.preset.styleBlend;
  if (!blend.empty() && blend.size() != o.styles.size())
    throw Error(ErrorKind::Usage, "--style-blend needs one weight per --style (" +
                                      std::to_string(o.styles.size()) + "), got " +
                                      std::to_string(blend.size()));
  if (o.modelFileFromPreset)
    throw Error(ErrorKind::Usage, "The preset names the model file " + o.preset.model +
                                      ". To use a model file from a preset, confirm it: add --model " +
                                      o.preset.model + " after --preset");
  if (o.preset.settings.init == InitKind::Image && o.preset.initImage.empty())
    throw Error(ErrorKind::Usage, "--init image needs a file: --init FILE");
}

}  // namespace impasto::cli
