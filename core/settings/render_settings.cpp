#include "core/settings/render_settings.h"

#include <algorithm>
#include <cmath>
#include <thread>
#include <utility>

#include "core/util/error.h"
#include "core/util/text.h"

namespace impasto {

namespace {

template <typename E>
struct Spelled {
  E value;
  std::string_view name;
};

// The tables behind spelling(), spellings() and parseSpelling(): one per enum.
constexpr Spelled<Optimizer> kOptimizers[] = {{Optimizer::Lbfgs, "lbfgs"}, {Optimizer::Adam, "adam"}};
constexpr Spelled<InitKind> kInits[] = {
    {InitKind::Content, "content"}, {InitKind::Noise, "noise"}, {InitKind::Image, "image"}};
constexpr Spelled<Pooling> kPoolings[] = {
    {Pooling::AsTrained, "as-trained"}, {Pooling::Max, "max"}, {Pooling::Avg, "avg"}};
constexpr Spelled<PreserveColors> kPreserveColors[] = {{PreserveColors::Off, "off"},
                                                       {PreserveColors::Luminance, "luminance"},
                                                       {PreserveColors::Histogram, "histogram"}};
constexpr Spelled<Averaging> kAveragings[] = {{Averaging::Off, "off"}, {Averaging::Ema, "ema"}};

template <typename E>
struct Table;
template <>
struct Table<Optimizer> {
  static constexpr const auto& entries = kOptimizers;
};
template <>
struct Table<InitKind> {
  static constexpr const auto& entries = kInits;
};
template <>
struct Table<Pooling> {
  static constexpr const auto& entries = kPoolings;
};
template <>
struct Table<PreserveColors> {
  static constexpr const auto& entries = kPreserveColors;
};
template <>
struct Table<Averaging> {
  static constexpr const auto& entries = kAveragings;
};

template <typename E>
std::string_view nameOf(E value) {
  for (const auto& entry : Table<E>::entries)
    if (entry.value == value) return entry.name;
  return Table<E>::entries[0].name;  // unreachable while the tables cover every value
}

// Beyond kMaxWeight J overflows float mid-render; refused up front instead.
bool usableWeight(double w) { return w >= 0.0 && w <= kMaxWeight; }

void requireWeights(const LossWeights& w, const std::string& where) {
  for (double v : {w.alpha, w.beta, w.tv, w.identity})
    if (!usableWeight(v))
      throw Error(ErrorKind::Usage, "α, β, γ and the TV weight" + where + " must be between 0 and 1e12");
  for (const auto& [name, lambda] : w.styleLayers)
    if (!usableWeight(lambda))
      throw Error(ErrorKind::Usage,
                  "Layer weight λ of '" + name + "'" + where + " must be between 0 and 1e12");
}

}  // namespace

bool LossWeights::operator==(const LossWeights& o) const {
  return alpha == o.alpha && beta == o.beta && styleLayers == o.styleLayers && tv == o.tv &&
         identity == o.identity;
}

std::string_view spelling(Optimizer value) { return nameOf(value); }
std::string_view spelling(InitKind value) { return nameOf(value); }
std::string_view spelling(Pooling value) { return nameOf(value); }
std::string_view spelling(PreserveColors value) { return nameOf(value); }
std::string_view spelling(Averaging value) { return nameOf(value); }

template <typename E>
std::vector<std::string> spellings() {
  std::vector<std::string> names;
  for (const auto& entry : Table<E>::entries) names.emplace_back(entry.name);
  return names;
}

template <typename E>
E parseSpelling(std::string_view text, std::string_view what) {
  for (const auto& entry : Table<E>::entries)
    if (entry.name == text) return entry.value;
  std::vector<std::string> names = spellings<E>();
  const std::string last = names.back();
  names.pop_back();
  throw Error(ErrorKind::Usage, std::string(what) + " must be " + joined(names) + " or " + last + ", got '" +
                                    std::string(text) + "'");
}

template std::vector<std::string> spellings<Optimizer>();
template std::vector<std::string> spellings<InitKind>();
template std::vector<std::string> spellings<Pooling>();
template std::vector<std::string> spellings<PreserveColors>();
template std::vector<std::string> spellings<Averaging>();
template Optimizer parseSpelling<Optimizer>(std::string_view, std::string_view);
template InitKind parseSpelling<InitKind>(std::string_view, std::string_view);
template Pooling parseSpelling<Pooling>(std::string_view, std::string_view);
template PreserveColors parseSpelling<PreserveColors>(std::string_view, std::string_view);
template Averaging parseSpelling<Averaging>(std::string_view, std::string_view);

const LossWeights& finalWeights(const RenderSettings& s) {
  return s.weightChanges.empty() ? s.weights : s.weightChanges.back().weights;
}

bool usesIdentity(const RenderSettings& s) {
  if (s.weights.identity > 0.0) return true;
  for (const auto& change : s.weightChanges)
    if (change.weights.identity > 0.0) return true;
  return false;
}

RenderSettings endedSettings(RenderSettings s) {
  s.weights = finalWeights(s);
  s.weightChanges.clear();
  return s;
}

void validateSettings(const RenderSettings& s) {
  if (s.size < kMinSize || s.size > kMaxSize)
    throw Error(ErrorKind::Usage, "Size must be between " + std::to_string(kMinSize) + " and " +
                                      std::to_string(kMaxSize) + " pixels, got " + std::to_string(s.size));
  if (s.iterations < 0 || s.iterations > kMaxIterations)
    throw Error(ErrorKind::Usage, "Iterations must be between 0 and " + std::to_string(kMaxIterations) +
                                      ", got " + std::to_string(s.iterations));
  if (s.coarseIterations < 0 || s.coarseIterations > kMaxIterations)
    throw Error(ErrorKind::Usage, "Coarse iterations must be between 0 and " +
                                      std::to_string(kMaxIterations) + ", got " +
                                      std::to_string(s.coarseIterations));
  if (s.scales < 0 || s.scales > kMaxScales)
    throw Error(ErrorKind::Usage, "Scales must be between 0 (automatic) and " + std::to_string(kMaxScales) +
                                      ", got " + std::to_string(s.scales));
  if (!(s.styleScale >= 0.0 && s.styleScale <= kMaxStyleScale))
    throw Error(ErrorKind::Usage,
                "The style scale must be between 0 (automatic) and " + std::to_string(int(kMaxStyleScale)));
  if (s.seed > kMaxSeed) throw Error(ErrorKind::Usage, "The seed must be at most 2^53");
  if (!(s.learningRate >= 0.0) || !std::isfinite(s.learningRate))
    throw Error(ErrorKind::Usage,
                "The learning rate must be a finite number ≥ 0 (0: the optimiser's default)");
  if (!(s.averageDecay >= 0.0 && s.averageDecay <= kMaxAverageDecay))
    throw Error(ErrorKind::Usage, "The average decay must be between 0 and 0.9999");
  requireWeights(s.weights, "");
  int previous = 1;
  for (const auto& change : s.weightChanges) {
    if (change.fromIteration < previous)
      throw Error(ErrorKind::Usage, "Weight changes must be in order of their iteration, from 1 on");
    previous = change.fromIteration;
    requireWeights(change.weights, " of the change at iteration " + std::to_string(change.fromIteration));
  }
}

RenderSettings resolveSettings(RenderSettings settings, const Model& model) {
  const ModelManifest& manifest = model.manifest();
  auto requireLayer = [&](const std::string& name, const char* role) {
    if (!model.hasLayer(name))
      throw Error(ErrorKind::Usage, std::string("Unknown ") + role + " layer '" + name + "' for model '" +
                                        manifest.name + "'. Its layers are: " + joined(model.layerNames()));
  };
  if (settings.alphaFromModel) settings.weights.alpha = manifest.defaultAlpha.value_or(kDefaultAlpha);
  if (settings.betaFromModel) settings.weights.beta = manifest.defaultBeta.value_or(kDefaultBeta);
  settings.alphaFromModel = settings.betaFromModel = false;
  if (settings.contentLayer.empty()) settings.contentLayer = manifest.defaultContentLayer;
  if (settings.contentLayer.empty())
    throw Error(ErrorKind::Usage, "Choose a content layer (--content-layer)");
  requireLayer(settings.contentLayer, "content");
  if (settings.weights.styleLayers.empty()) {
    const auto& defaults = manifest.defaultStyleLayers;
    for (const auto& name : defaults) settings.weights.styleLayers[name] = 1.0 / double(defaults.size());
  }
  if (settings.weights.styleLayers.empty())
    throw Error(ErrorKind::Usage, "Choose style layers (--style-layers)");
  for (const auto& [name, lambda] : settings.weights.styleLayers) requireLayer(name, "style");
  for (const auto& change : settings.weightChanges)
    for (const auto& [name, lambda] : change.weights.styleLayers) requireLayer(name, "style");
  validateSettings(settings);
  if (settings.learningRate <= 0.0)
    settings.learningRate = settings.optimizer == Optimizer::Lbfgs ? 1.0 : 0.02;
  if (settings.frameEvery < 1) settings.frameEvery = 1;
  // Sums split over threads round differently: the count is part of what a
  // replay needs to give the same pixels.
  if (settings.threads <= 0) settings.threads = int(std::max(1u, std::thread::hardware_concurrency()));
  return settings;
}

}  // namespace impasto
