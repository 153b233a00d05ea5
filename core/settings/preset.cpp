#include "core/settings/preset.h"

#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>

#include "core/io/atomic_file.h"
#include "core/io/image_io.h"
#include "core/util/error.h"
#include "core/util/json_depth.h"
#include "core/util/text.h"
#include "core/util/version.h"

namespace impasto {

namespace {

using Json = nlohmann::json;

// A preset is a few hundred bytes; a file far beyond that is not one.
constexpr std::uintmax_t kMaxPresetBytes = 1 << 20;

// γ is written where it is on (and in every weight change, which inherits
// what it does not name): settings without the portrait guard read as before
// it existed, and checkpoints of such renders stay resumable across versions.
Json weightsToJson(const LossWeights& w, bool withIdentity = false) {
  Json json{{"alpha", w.alpha}, {"beta", w.beta}, {"style_layers", w.styleLayers}, {"tv", w.tv}};
  if (withIdentity || w.identity != 0.0) json["identity"] = w.identity;
  return json;
}

// Reads one JSON object's fields into C++ values, naming the origin and the
// field in every complaint.
class FieldReader {
 public:
  FieldReader(const Json& object, std::string origin) : object_(object), origin_(std::move(origin)) {}

  bool has(const char* key) const { return object_.contains(key); }

  [[noreturn]] void fail(const std::string& what) const {
    throw Error(ErrorKind::Usage, "Preset " + origin_ + ": " + what);
  }

  double number(const char* key) const {
    const Json& v = object_.at(key);
    if (!v.is_number()) fail(std::string("'") + key + "' must be a number");
    const double value = v.get<double>();
    if (!std::isfinite(value)) fail(std::string("'") + key + "' must be finite");
    return value;
  }

  // Whole numbers in [min, max]; 300.0 is accepted, 300.5 is not.
  long long integer(const char* key, long long min, long long max) const {
    const double value = number(key);
    if (value != std::floor(value) || value < double(min) || value > double(max))
      fail(std::string("'") + key + "' must be a whole number from " + std::to_string(min) + " to " +
           std::to_string(max));
    return static_cast<long long>(value);
  }

  std::string text(const char* key) const {
    const Json& v = object_.at(key);
    if (!v.is_string()) fail(std::string("'") + key + "' must be a string");
    return v.get<std::string>();
  }

  template <typename E>
  E choice(const char* key) const {
    try {
      return parseSpelling<E>(text(key), std::string("'") + key + "'");
    } catch (const Error& e) {
      fail(e.what());
    }
  }

  std::map<std::string, double> layerWeights(const char* key) const {
    const Json& v = object_.at(key);
    if (!v.is_object()) fail(std::string("'") + key + "' must map layer names to λ");
    std::map<std::string, double> layers;
    for (const auto& [name, lambda] : v.items()) {
      if (!lambda.is_number()) fail("λ of layer '" + name + "' must be a number");
      layers[name] = lambda.get<double>();
    }
    return layers;
  }

  std::vector<double> numbers(const char* key) const {
    const Json& v = object_.at(key);
    if (!v.is_array()) fail(std::string("'") + key + "' must be a list of numbers");
    std::vector<double> values;
    for (const Json& w : v) {
      if (!w.is_number()) fail(std::string("'") + key + "' must be a list of numbers");
      values.push_back(w.get<double>());
    }
    return values;
  }

  // Reads into the weights the fields this object names.
  void weights(LossWeights& w) const {
    if (has("alpha")) w.alpha = number("alpha");
    if (has("beta")) w.beta = number("beta");
    if (has("tv")) w.tv = number("tv");
    if (has("identity")) w.identity = number("identity");
    if (has("style_layers")) w.styleLayers = layerWeights("style_layers");
  }

  std::vector<WeightChange> weightChanges(const char* key, const LossWeights& start) const {
    const Json& v = object_.at(key);
    if (!v.is_array()) fail(std::string("'") + key + "' must be a list");
    std::vector<WeightChange> changes;
    LossWeights current = start;
    for (const Json& entry : v) {
      if (!entry.is_object()) fail(std::string("each of '") + key + "' must be an object");
      const FieldReader change(entry, origin_);
      if (!change.has("from_iteration")) fail(std::string("each of '") + key + "' needs 'from_iteration'");
      change.weights(current);  // a change names only what changed
      changes.push_back({int(change.integer("from_iteration", 1, kMaxIterations)), current});
    }
    return changes;
  }

 private:
  const Json& object_;
  std::string origin_;
};

Json parseObject(std::string_view text, const std::string& origin) {
  requireJsonDepth(text, ErrorKind::Usage, "Preset " + origin);
  Json json = Json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded()) throw Error(ErrorKind::Usage, "Preset " + origin + ": not valid JSON");
  if (!json.is_object()) throw Error(ErrorKind::Usage, "Preset " + origin + ": expected a JSON object");
  return json;
}

}  // namespace

bool namesModelFile(const Preset& preset) { return preset.model.find('/') != std::string::npos; }

std::string presetToJson(const Preset& p, JsonStyle style) {
  const RenderSettings& s = p.settings;
  Json json = weightsToJson(s.weights);
  json.update(Json{
      {"model", p.model},
      {"pooling", std::string(spelling(p.pooling))},
      {"size", s.size},
      {"iterations", s.iterations},
      {"scales", s.scales},
      {"coarse_iterations", s.coarseIterations},
      {"style_scale", s.styleScale},
      {"content_layer", s.contentLayer},
      {"optimizer", std::string(spelling(s.optimizer))},
      {"lr", s.learningRate},
      {"init", std::string(spelling(s.init))},
      {"seed", s.seed},
      {"threads", s.threads},
      {"preserve_colors", std::string(spelling(s.preserveColors))},
      {"average", std::string(spelling(s.average))},
      {"average_decay", s.averageDecay},
      {"style_blend", p.styleBlend},
      {"impasto_version", version()},
  });
  if (!p.initImage.empty()) json["init_image"] = p.initImage;
  if (!s.weightChanges.empty()) {
    Json changes = Json::array();
    for (const auto& change : s.weightChanges) {
      Json entry = weightsToJson(change.weights, /*withIdentity=*/true);
      entry["from_iteration"] = change.fromIteration;
      changes.push_back(std::move(entry));
    }
    json["weight_changes"] = std::move(changes);
  }
  return style == JsonStyle::Indented ? json.dump(2) + "\n" : json.dump();
}

void applyPresetJson(std::string_view text, Preset& into, const std::string& origin) {
  const Json json = parseObject(text, origin);
  const FieldReader read(json, origin);
  Preset p = into;  // all or nothing
  RenderSettings& s = p.settings;
  if (read.has("model")) p.model = read.text("model");
  if (read.has("pooling")) p.pooling = read.choice<Pooling>("pooling");
  if (read.has("size")) s.size = int(read.integer("size", kMinSize, kMaxSize));
  if (read.has("iterations")) s.iterations = int(read.integer("iterations", 0, kMaxIterations));
  if (read.has("impasto_version") && !read.has("scales")) {
    // Exported before the pyramid: one level, the style at G's size, as then.
    s.scales = 1;
    s.styleScale = 1.0;
  }
  if (read.has("impasto_version") && !read.has("preserve_colors")) {
    // Exported before colour preservation and averaging: neither, as then.
    s.preserveColors = PreserveColors::Off;
    s.average = Averaging::Off;
  }
  if (read.has("preserve_colors")) s.preserveColors = read.choice<PreserveColors>("preserve_colors");
  if (read.has("average")) s.average = read.choice<Averaging>("average");
  if (read.has("average_decay")) s.averageDecay = read.number("average_decay");
  if (read.has("scales")) s.scales = int(read.integer("scales", 0, kMaxScales));
  if (read.has("coarse_iterations"))
    s.coarseIterations = int(read.integer("coarse_iterations", 0, kMaxIterations));
  if (read.has("style_scale")) s.styleScale = read.number("style_scale");
  // A complete preset (every one Impasto writes) without γ had the portrait
  // guard off; a hand-written partial one keeps the current γ.
  if (read.has("impasto_version") && !read.has("identity")) s.weights.identity = 0.0;
  read.weights(s.weights);
  if (read.has("alpha")) s.alphaFromModel = false;
  if (read.has("beta")) s.betaFromModel = false;
  if (read.has("content_layer")) s.contentLayer = read.text("content_layer");
  if (read.has("optimizer")) s.optimizer = read.choice<Optimizer>("optimizer");
  if (read.has("lr")) s.learningRate = read.number("lr");
  if (read.has("init")) s.init = read.choice<InitKind>("init");
  if (read.has("init_image")) p.initImage = read.text("init_image");
  if (read.has("seed")) s.seed = std::uint64_t(read.integer("seed", 0, (1LL << 53)));
  if (read.has("threads")) s.threads = int(read.integer("threads", 0, 1024));
  if (read.has("style_blend")) p.styleBlend = read.numbers("style_blend");
  s.weightChanges = read.has("weight_changes") ? read.weightChanges("weight_changes", s.weights)
                                               : std::vector<WeightChange>{};
  try {
    validateSettings(s);
  } catch (const Error& e) {
    read.fail(e.what());
  }
  into = std::move(p);
}

void loadPresetFile(const std::filesystem::path& path, Preset& into) {
  const std::string name = path.filename().string();
  if (lowerCase(path.extension().string()) == ".png") {
    const auto chunks = readPngText(path);
    const auto it = chunks.find(kSettingsPngKey);
    if (it == chunks.end())
      throw Error(ErrorKind::Input, name + " holds no Impasto settings: only PNGs exported by Impasto do.");
    applyPresetJson(it->second, into, name);
    return;
  }
  applyPresetJson(readFileBytes(path, kMaxPresetBytes), into, name);
}

std::string lossWeightsToJson(const LossWeights& weights) { return weightsToJson(weights).dump(); }

LossWeights lossWeightsFromJson(std::string_view json, const std::string& origin) {
  LossWeights weights;
  FieldReader(parseObject(json, origin), origin).weights(weights);
  return weights;
}

void savePresetFile(const Preset& preset, const std::filesystem::path& path) {
  writeFileAtomically(path, presetToJson(preset));
}

}  // namespace impasto
