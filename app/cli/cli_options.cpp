#include "cli_options.h"

#include <cmath>
#include <sstream>

#include "core/util/error.h"

namespace impasto::cli {
namespace {

Error usageError(const std::string& message) {
  return Error(ErrorKind::Usage, message + " (see impasto-cli --help)");
}

double parseNumber(const std::string& flag, const std::string& text) {
  try {
    std::size_t used = 0;
    double value = std::stod(text, &used);
    if (used == text.size() && std::isfinite(value)) return value;
  } catch (const std::exception&) {
  }
  throw usageError(flag + " expects a number, got '" + text + "'");
}

long long parseInteger(const std::string& flag, const std::string& text, long long min, long long max) {
  try {
    std::size_t used = 0;
    long long value = std::stoll(text, &used);
    if (used == text.size() && value >= min && value <= max) return value;
  } catch (const std::exception&) {
  }
  throw usageError(flag + " expects a whole number from " + std::to_string(min) + " to " + std::to_string(max) +
                   ", got '" + text + "'");
}

std::vector<std::string> splitList(const std::string& text) {
  std::vector<std::string> items;
  std::stringstream stream(text);
  for (std::string item; std::getline(stream, item, ',');)
    if (!item.empty()) items.push_back(item);
  return items;
}

// "relu1_1:0.5,relu2_1" -> λ per layer; layers without λ share the rest equally.
std::map<std::string, double> parseStyleLayers(const std::string& text) {
  std::map<std::string, double> layers;
  std::vector<std::string> unweighted;
  for (const auto& item : splitList(text)) {
    auto colon = item.find(':');
    if (colon == std::string::npos) {
      unweighted.push_back(item);
    } else {
      layers[item.substr(0, colon)] = parseNumber("--style-layers", item.substr(colon + 1));
    }
  }
  for (const auto& name : unweighted) layers[name] = 1.0 / double(unweighted.size() + layers.size());
  if (layers.empty()) throw usageError("--style-layers needs at least one layer name");
  return layers;
}

}  // namespace

std::string usageText() {
  return R"(Usage: impasto-cli --content FILE --style FILE [--style FILE ...] --output FILE [options]
       impasto-cli models list|download NAME|import FILE|verify

Renders the content image in the style of the style image(s) (Gatys et al.).

Options:
  --content FILE            content photograph
  --style FILE              style image; repeat for several
  --style-blend w1,w2,...   blend weights of the style images (default: equal)
  --output FILE             result (.png, .jpg, .tif); written atomically
  --model NAME|FILE         installed model name or a model file (default: vgg19)
  --size N                  longest side of the result in pixels (default: 512)
  --iterations N            optimisation steps (default: 500)
  --alpha A                 content weight α (default: from the model)
  --beta B                  style weight β (default: from the model)
  --style-layers L[:λ],...  style layers and their weights λ (default: from the model)
  --content-layer L         content layer (default: from the model)
  --tv W                    total-variation weight (default: 0)
  --init content|noise|FILE starting image (default: content)
  --optimizer lbfgs|adam    (default: lbfgs)
  --lr X                    learning rate (default: 1 for L-BFGS, 0.02 for Adam)
  --pooling max|avg         replace the model's pooling layers
  --seed N                  random seed (default: 0)
  --report-every K          progress every K steps (default: 1)
  --save-every K            also save OUTPUT-NNNN.ext every K steps
  --threads N               CPU threads (default: all cores)
  --json                    one JSON object per line on stdout
  --help, --version

Exit codes: 0 done, 2 usage error, 3 unreadable input, model or output, 4 download failed,
130 interrupted (the current image is saved first).
)";
}

CliOptions parseCommandLine(const std::vector<std::string>& args) {
  CliOptions options;
  RenderSettings& s = options.settings;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& flag = args[i];
    auto value = [&]() -> const std::string& {
      if (i + 1 >= args.size()) throw usageError(flag + " needs a value");
      return args[++i];
    };
    if (flag == "--help" || flag == "-h") options.help = true;
    else if (flag == "--version") options.version = true;
    else if (flag == "--json") options.json = true;
    else if (flag == "--content") options.content = value();
    else if (flag == "--style") options.styles.push_back(value());
    else if (flag == "--output" || flag == "-o") options.output = value();
    else if (flag == "--model") options.model = value();
    else if (flag == "--style-blend") {
      for (const auto& w : splitList(value())) options.styleBlend.push_back(parseNumber(flag, w));
    } else if (flag == "--size") s.size = int(parseInteger(flag, value(), 16, 16384));
    else if (flag == "--iterations") s.iterations = int(parseInteger(flag, value(), 0, 1000000));
    else if (flag == "--alpha") {
      s.weights.alpha = parseNumber(flag, value());
      options.alphaSet = true;
    } else if (flag == "--beta") {
      s.weights.beta = parseNumber(flag, value());
      options.betaSet = true;
    } else if (flag == "--style-layers") s.weights.styleLayers = parseStyleLayers(value());
    else if (flag == "--content-layer") s.contentLayer = value();
    else if (flag == "--tv") s.weights.tv = parseNumber(flag, value());
    else if (flag == "--init") {
      const std::string& v = value();
      if (v == "content") s.init = InitKind::Content;
      else if (v == "noise") s.init = InitKind::Noise;
      else {
        s.init = InitKind::Image;
        options.initFile = v;
      }
    } else if (flag == "--optimizer") {
      const std::string& v = value();
      if (v == "lbfgs") s.optimizer = Optimizer::Lbfgs;
      else if (v == "adam") s.optimizer = Optimizer::Adam;
      else throw usageError("--optimizer must be lbfgs or adam, got '" + v + "'");
    } else if (flag == "--lr") s.learningRate = parseNumber(flag, value());
    else if (flag == "--pooling") {
      const std::string& v = value();
      if (v == "max") options.pooling = Pooling::Max;
      else if (v == "avg") options.pooling = Pooling::Avg;
      else throw usageError("--pooling must be max or avg, got '" + v + "'");
    } else if (flag == "--seed") s.seed = std::uint64_t(parseInteger(flag, value(), 0, (1LL << 62)));
    else if (flag == "--report-every") options.reportEvery = int(parseInteger(flag, value(), 1, 1000000));
    else if (flag == "--save-every") options.saveEvery = int(parseInteger(flag, value(), 0, 1000000));
    else if (flag == "--threads") s.threads = int(parseInteger(flag, value(), 1, 1024));
    else throw usageError("Unknown option '" + flag + "'");
  }
  if (options.help || options.version) return options;
  if (options.content.empty()) throw usageError("Missing --content FILE");
  if (options.styles.empty()) throw usageError("Missing --style FILE");
  if (options.output.empty()) throw usageError("Missing --output FILE");
  if (!options.styleBlend.empty() && options.styleBlend.size() != options.styles.size())
    throw usageError("--style-blend needs one weight per --style (" + std::to_string(options.styles.size()) + ")");
  if (s.learningRate < 0.0) throw usageError("--lr must be positive");
  return options;
}

}  // namespace impasto::cli
