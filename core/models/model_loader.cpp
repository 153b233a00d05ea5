// loadModelFile: finds the manifest that goes with a weights file, reads the
// weights with the reader for their format, and checks the resulting layer
// chain once, here, for every format.
//
// Defaults when no manifest says otherwise:
// - name: the file stem (the folder's name for a TensorFlow.js model.json);
// - input: RGB in [0, 1], no mean or std, except for VGG-16/19 state_dicts
//   and the VGG_ILSVRC Caffe weights, which get their training preprocessing;
// - style layers: the first activation (ReLU/LeakyReLU) of each stage between
//   pooling layers, at most five, so they span the scales of the network;
// - content layer: the deepest activation before the last pooling layer that
//   still has activations after it (leaky4 of darknet-reference: deep enough
//   to keep structure, not so deep that it keeps only class information).

#include <algorithm>
#include <cctype>
#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "core/models/caffe_model.h"
#include "core/models/embedded_files.h"
#include "core/models/layers.h"
#include "core/models/manifest.h"
#include "core/models/model.h"
#include "core/models/onnx_model.h"
#include "core/models/state_dict.h"
#include "core/models/tfjs_model.h"
#include "core/models/vgg.h"
#include "core/util/error.h"
#include "core/util/json_depth.h"
#include "core/util/text.h"

namespace impasto {

namespace fs = std::filesystem;

namespace {

enum class Format { Onnx, Pth, Caffe, Tfjs };

// A .json the user hands us is either a TensorFlow.js model or a manifest.
// Only the first MiBs are read: a model description is small, and a huge or
// deeply nested file is then reported by the manifest reader.
bool isTfjsModelJson(const fs::path& path) {
  if (path.filename() == "model.json") return true;
  constexpr std::size_t kSniffBytes = 16u << 20;
  std::ifstream in(path, std::ios::binary);
  std::string text(kSniffBytes, '\0');
  in.read(text.data(), std::streamsize(text.size()));
  text.resize(std::size_t(in.gcount()));
  if (jsonNestingDepth(text) > kMaxJsonDepth) return false;
  const auto doc = nlohmann::json::parse(text, nullptr, false);
  return doc.is_object() && doc.contains("modelTopology");
}

std::optional<Format> formatOf(const fs::path& path) {
  const std::string ext = lowerCase(path.extension().string());
  if (ext == ".onnx") return Format::Onnx;
  if (ext == ".pth" || ext == ".pt") return Format::Pth;
  if (ext == ".caffemodel") return Format::Caffe;
  if (ext == ".json" && isTfjsModelJson(path)) return Format::Tfjs;
  return std::nullopt;
}

std::string formatName(Format format) {
  switch (format) {
    case Format::Onnx:
      return "onnx";
    case Format::Pth:
      return "pth";
    case Format::Caffe:
      return "caffe";
    case Format::Tfjs:
      return "tfjs";
  }
  return {};
}

fs::path manifestBeside(const fs::path& weights, Format format) {
  return format == Format::Tfjs ? weights.parent_path() / "impasto.json"
                                : weights.parent_path() / (weights.stem().string() + ".json");
}

// The weights a manifest passed on its own refers to.
fs::path weightsForManifest(const fs::path& manifestPath, const ModelManifest& manifest) {
  const fs::path dir = manifestPath.parent_path();
  std::vector<fs::path> candidates;
  if (!manifest.weightsFile.empty())
    candidates.push_back(pathInside(dir, manifest.weightsFile, "The manifest's \"weights_file\""));
  for (const char* ext : {".onnx", ".pth", ".pt", ".caffemodel"})
    candidates.push_back(dir / (manifestPath.stem().string() + ext));
  if (manifestPath.filename() == "impasto.json") candidates.push_back(dir / "model.json");
  for (const auto& candidate : candidates)
    if (isRegularFile(candidate)) return candidate;
  throw Error(ErrorKind::Model, "Found no weights for the model manifest " + manifestPath.string() +
                                    ": put " + manifestPath.stem().string() +
                                    ".onnx/.pth/.caffemodel beside it, or name the file in \"weights_file\"");
}

std::vector<ModelManifest> builtinManifests() {
  std::vector<ModelManifest> manifests;
  for (const auto& source : builtinManifestSources())
    manifests.push_back(
        parseManifest(std::string(source.bytes), std::string(source.fileName) + " (built in)"));
  return manifests;
}

// Index of the first NaN or infinity among the values, or -1.
std::int64_t firstNonFinite(const WeightArray& array) {
  const float* values = array.data();
  const std::int64_t n = array.numel();
  for (std::int64_t i = 0; i < n; ++i)
    if (!std::isfinite(values[i])) return i;
  return -1;
}

void requireFinite(const WeightArray& array, const std::string& where, const char* what) {
  if (!array.defined()) return;
  const std::int64_t bad = firstNonFinite(array);
  if (bad >= 0)
    throw Error(ErrorKind::Model, where + ": its " + what + " hold " + std::to_string(array.values()[bad]) +
                                      " (value " + std::to_string(bad) +
                                      "), not a finite number; the file is damaged: download it again");
}

// A geometry value outside [min, max] (see the bounds in layers.h).
void requireWithin(std::int64_t value, std::int64_t min, std::int64_t max, const std::string& where,
                   const std::string& what) {
  if (value >= min && value <= max) return;
  throw Error(ErrorKind::Model,
              where + ": its " + what + " is " + std::to_string(value) + ", outside " + std::to_string(min) +
                  " to " + std::to_string(max) +
                  " (what Impasto allows); the file is damaged or not a CNN Impasto can use");
}

// Every format's layers pass through here, so the feature extractor can
// trust the list: unique names, well-formed and finite weights, channels that
// chain, and a geometry within the bounds of layers.h, checked before
// anything is allocated for a render.
void checkLayerChain(const std::vector<LayerSpec>& layers, const std::string& origin) {
  if (layers.empty()) throw Error(ErrorKind::Model, origin + " holds no layers Impasto can use");
  if (layers.size() > kMaxLayers)
    throw Error(ErrorKind::Model, origin + " has " + std::to_string(layers.size()) +
                                      " layers; Impasto uses at most " + std::to_string(kMaxLayers));
  std::set<std::string> names;
  std::int64_t channels = 3;
  for (const auto& layer : layers) {
    const std::string where = origin + ", layer " + layer.name;
    if (layer.name.empty()) throw Error(ErrorKind::Model, origin + " has a layer without a name");
    if (!names.insert(layer.name).second)
      throw Error(ErrorKind::Model, origin + " has two layers named " + layer.name);
    switch (layer.kind) {
      case LayerKind::Conv: {
        const auto& w = layer.weight;
        if (!w.defined() || w.dim() != 4)
          throw Error(ErrorKind::Model, where + ": the weights must be an array [out, in, kh, kw]");
        if (layer.bias.defined() && (layer.bias.dim() != 1 || layer.bias.size(0) != w.size(0)))
          throw Error(ErrorKind::Model, where + ": the bias has shape " + shapeString(layer.bias.shape()) +
                                            ", expected [" + std::to_string(w.size(0)) + "]");
        if (w.size(1) != channels)
          throw Error(ErrorKind::Model, where + " takes " + std::to_string(w.size(1)) +
                                            " input channels, but " +
                                            (channels == 3 && names.size() == 1
                                                 ? std::string("images have 3 (RGB)")
                                                 : "the layer before gives " + std::to_string(channels)));
        if (layer.stride < 1 || layer.padding < 0)
          throw Error(ErrorKind::Model, where + " has an invalid stride or padding");
        requireWithin(w.size(0), 1, kMaxLayerChannels, where, "number of output channels");
        requireWithin(w.size(2), 1, kMaxLayerKernel, where, "kernel height");
        requireWithin(w.size(3), 1, kMaxLayerKernel, where, "kernel width");
        requireWithin(layer.stride, 1, kMaxLayerStride, where, "stride");
        requireWithin(layer.padding, 0, kMaxLayerPadding, where, "padding");
        requireFinite(w, where, "weights");
        requireFinite(layer.bias, where, "biases");
        channels = w.size(0);
        break;
      }
      case LayerKind::MaxPool:
      case LayerKind::AvgPool:
        if (layer.kernel < 1 || layer.stride < 1 || layer.padding < 0 || layer.padding * 2 > layer.kernel)
          throw Error(ErrorKind::Model, where + ": pooling kernel " + std::to_string(layer.kernel) +
                                            ", stride " + std::to_string(layer.stride) + ", padding " +
                                            std::to_string(layer.padding) + " is not a valid combination");
        requireWithin(layer.kernel, 1, kMaxLayerKernel, where, "pooling window");
        requireWithin(layer.stride, 1, kMaxLayerStride, where, "stride");
        // Bottom/right padding is TensorFlow's "same": stride - 1 rows, which
        // makes the output ceil(size / stride) like ceil mode does.
        if (layer.padAfter != 0 && layer.padAfter != layer.stride - 1)
          throw Error(ErrorKind::Model, where + ": padding only the bottom/right by " +
                                            std::to_string(layer.padAfter) +
                                            " is not supported (only stride - 1, TensorFlow's \"same\")");
        break;
      case LayerKind::LeakyReLU:
        if (!(std::abs(layer.negativeSlope) <= kMaxNegativeSlope))
          throw Error(ErrorKind::Model, where + ": its negative slope is " +
                                            std::to_string(layer.negativeSlope) +
                                            ", outside -1000 to 1000; the file is damaged");
        break;
      case LayerKind::ReLU:
        break;
    }
  }
}

bool isActivation(const LayerSpec& l) { return l.kind == LayerKind::ReLU || l.kind == LayerKind::LeakyReLU; }
bool isPooling(const LayerSpec& l) { return l.kind == LayerKind::MaxPool || l.kind == LayerKind::AvgPool; }

std::vector<std::string> defaultStyleLayers(const std::vector<LayerSpec>& layers) {
  const bool anyActivation = std::any_of(layers.begin(), layers.end(), isActivation);
  std::vector<std::string> style;
  bool stageTaken = false;
  for (const auto& layer : layers) {
    if (isPooling(layer)) {
      stageTaken = false;
    } else if (!stageTaken && (anyActivation ? isActivation(layer) : layer.kind == LayerKind::Conv)) {
      style.push_back(layer.name);
      stageTaken = true;
      if (style.size() == 5) break;
    }
  }
  return style;
}

std::string defaultContentLayer(const std::vector<LayerSpec>& layers) {
  const bool anyActivation = std::any_of(layers.begin(), layers.end(), isActivation);
  auto usable = [&](const LayerSpec& l) {
    return anyActivation ? isActivation(l) : l.kind == LayerKind::Conv;
  };
  std::vector<std::size_t> candidates;
  for (std::size_t i = 0; i < layers.size(); ++i)
    if (usable(layers[i])) candidates.push_back(i);
  if (candidates.empty()) return {};
  // The last pooling layer that has usable layers after it.
  std::optional<std::size_t> lastPool;
  for (std::size_t i = 0; i < layers.size(); ++i)
    if (isPooling(layers[i]) && candidates.back() > i) lastPool = i;
  if (lastPool) {
    for (std::size_t k = candidates.size(); k-- > 0;)
      if (candidates[k] < *lastPool) return layers[candidates[k]].name;
  }
  return layers[candidates[candidates.size() / 2]].name;
}

ModelManifest defaultManifest(const std::string& name) {
  ModelManifest m;
  m.name = name;
  m.title = name;
  return m;
}

// A manifest for the .pth form of a built-in model (darknet-reference) may
// lack the topology: the built-in manifest of the same name has it.
void completeTopologyFromBuiltin(ModelManifest& manifest) {
  if (!manifest.topology.empty() || !manifest.architecture.empty()) return;
  for (const auto& builtin : builtinManifests())
    if (builtin.name == manifest.name) {
      manifest.topology = builtin.topology;
      manifest.architecture = builtin.architecture;
      return;
    }
}

// A state_dict with no manifest that has exactly the keys of a built-in
// topology (every conv weight and bias, nothing else) is that model.
std::optional<std::pair<ModelManifest, std::vector<LayerSpec>>> matchBuiltinTopology(
    const StateDict& dict, const std::string& origin) {
  for (const auto& builtin : builtinManifests()) {
    if (builtin.topology.empty()) continue;
    std::set<std::string> expected;
    for (const auto& entry : builtin.topology)
      if (entry.type == "conv") {
        const std::string key = entry.key.empty() ? entry.name : entry.key;
        expected.insert(key + ".weight");
        expected.insert(key + ".bias");
      }
    std::set<std::string> keys;
    for (const auto& kv : dict) keys.insert(kv.first);
    if (keys != expected) continue;
    try {
      auto layers = layersFromTopology(builtin.topology, dict, origin);
      checkLayerChain(layers, origin);
      return std::make_pair(builtin, std::move(layers));
    } catch (const Error&) {
      continue;  // same keys, other shapes: not this model
    }
  }
  return std::nullopt;
}

struct Loaded {
  std::vector<LayerSpec> layers;
  std::optional<ModelManifest> implied;  // a manifest the weights themselves identify (VGG, built-in)
};

Loaded loadPth(const fs::path& path, const std::optional<ModelManifest>& manifest) {
  const std::string origin = path.string();
  const StateDict dict = loadStateDict(path);
  if (manifest && !manifest->topology.empty())
    return {layersFromTopology(manifest->topology, dict, origin), {}};
  if (manifest && !manifest->architecture.empty()) {
    const auto depth = parseVggArchitecture(manifest->architecture);
    if (!depth)
      throw Error(ErrorKind::Model,
                  "The manifest of " + origin + " names architecture \"" + manifest->architecture +
                      "\", which is not built in (vgg16, vgg19): describe the layers in \"topology\"");
    return {vggLayers(*depth, dict, origin), {}};
  }
  if (const auto depth = guessVggDepth(dict))
    return {vggLayers(*depth, dict, origin), vggManifest(*depth, guessVggWeights(path.filename().string()))};
  if (auto builtin = matchBuiltinTopology(dict, origin))
    return {std::move(builtin->second), std::move(builtin->first)};
  std::vector<std::string> keys;
  for (const auto& kv : dict) keys.push_back(kv.first);
  throw Error(ErrorKind::Model, origin + " is a state_dict of a network Impasto does not know (keys: " +
                                    joined(keys, 6) + "). Put a manifest " + path.stem().string() +
                                    ".json beside it with \"architecture\" (\"vgg16\" or \"vgg19\") or a "
                                    "\"topology\" listing its layers");
}

Loaded loadCaffe(const fs::path& path) {
  const auto prototxt = findCaffePrototxt(path);
  if (!prototxt)
    throw Error(ErrorKind::Model, path.string() + " needs its deploy prototxt (the layer description): put " +
                                      path.stem().string() + ".prototxt beside it");
  Loaded loaded{readCaffeLayers(*prototxt, path), {}};
  const std::string stem = path.stem().string();
  for (const VggDepth depth : {VggDepth::Vgg16, VggDepth::Vgg19}) {
    const std::string prefix = depth == VggDepth::Vgg16 ? "VGG_ILSVRC_16_layers" : "VGG_ILSVRC_19_layers";
    if (stem.rfind(prefix, 0) != 0) continue;
    ModelManifest vgg = vggManifest(depth, VggWeights::Caffe);
    std::vector<std::string> names;
    for (const auto& layer : loaded.layers) names.push_back(layer.name);
    if (names == vgg.layers) loaded.implied = std::move(vgg);
  }
  return loaded;
}

// Manifest layer names must exist in the weights; missing defaults are derived.
void reconcile(ModelManifest& m, const std::vector<LayerSpec>& layers, const std::string& manifestOrigin) {
  std::vector<std::string> names;
  for (const auto& layer : layers) names.push_back(layer.name);
  auto known = [&](const std::string& n) { return std::find(names.begin(), names.end(), n) != names.end(); };
  auto complain = [&](const std::string& what, const std::string& n) {
    throw Error(ErrorKind::Model, manifestOrigin + " names " + what + " \"" + n +
                                      "\", which the model does not have (its layers: " + joined(names, 40) +
                                      ")");
  };
  for (const auto& n : m.layers)
    if (!known(n)) complain("layer", n);
  for (const auto& n : m.defaultStyleLayers)
    if (!known(n)) complain("style layer", n);
  if (!m.defaultContentLayer.empty() && !known(m.defaultContentLayer))
    complain("content layer", m.defaultContentLayer);
  if (m.layers.empty()) m.layers = names;
  if (m.defaultStyleLayers.empty()) m.defaultStyleLayers = defaultStyleLayers(layers);
  if (m.defaultContentLayer.empty()) m.defaultContentLayer = defaultContentLayer(layers);
}

}  // namespace

ModelPtr loadModelFile(const fs::path& requested, Pooling pooling) {
  if (!isRegularFile(requested))
    throw Error(ErrorKind::Model, "No such model file: " + requested.string() +
                                      " (use `impasto-cli models list` to see installed models)");
  return wrapErrors(ErrorKind::Model, "Cannot load the model " + requested.string(), [&] {
    fs::path weights = requested;
    std::optional<ModelManifest> manifest;
    std::string manifestOrigin;
    auto format = formatOf(weights);
    if (!format && lowerCase(weights.extension().string()) == ".json") {
      // The user passed the manifest itself.
      manifest = readManifest(weights);
      manifestOrigin = weights.string();
      weights = weightsForManifest(weights, *manifest);
      format = formatOf(weights);
    }
    if (!format)
      throw Error(ErrorKind::Model,
                  "Cannot load " + weights.string() +
                      ": Impasto reads .onnx, .pth/.pt (PyTorch "
                      "state_dict), .caffemodel (with its .prototxt) and TensorFlow.js model.json files");
    if (!manifest) {
      const fs::path beside = manifestBeside(weights, *format);
      if (isRegularFile(beside)) {
        manifest = readManifest(beside);
        manifestOrigin = beside.string();
      }
    }
    if (manifest && *format == Format::Pth) completeTopologyFromBuiltin(*manifest);

    Loaded loaded;
    switch (*format) {
      case Format::Onnx:
        loaded.layers = readOnnxLayers(weights);
        break;
      case Format::Pth:
        loaded = loadPth(weights, manifest);
        break;
      case Format::Caffe:
        loaded = loadCaffe(weights);
        break;
      case Format::Tfjs:
        loaded.layers = readTfjsLayers(weights);
        break;
    }
    checkLayerChain(loaded.layers, weights.string());

    ModelManifest m;
    if (manifest) {
      m = std::move(*manifest);
    } else {
      const std::string name =
          *format == Format::Tfjs ? weights.parent_path().filename().string() : weights.stem().string();
      // A state_dict recognised as a built-in model keeps that model's name.
      const bool builtin = loaded.implied && !loaded.implied->topology.empty();
      m = loaded.implied ? std::move(*loaded.implied) : defaultManifest(name);
      if (!builtin) m.name = name;
      m.files.clear();  // registry download facts, not about this file
      m.weightsFile.clear();
      manifestOrigin = "The built-in defaults for " + weights.string();
    }
    m.format = formatName(*format);
    reconcile(m, loaded.layers, manifestOrigin);
    auto model = std::make_shared<const Model>(std::move(m), std::move(loaded.layers));
    return withPooling(model, pooling);
  });
}

}  // namespace impasto
