#include "core/models/tfjs_model.h"

#include <cmath>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <stdexcept>

#include "core/io/atomic_file.h"
#include "core/models/tfjs_weights.h"
#include "core/util/error.h"
#include "core/util/json_depth.h"
#include "core/util/text.h"

namespace impasto {
namespace {

using nlohmann::json;

constexpr std::uintmax_t kMaxModelJsonBytes = 64u << 20;

[[noreturn]] void fail(const std::filesystem::path& modelJson, const std::string& what) {
  throw Error(ErrorKind::Model,
              "Cannot load the TensorFlow.js model '" + modelJson.string() + "': " + what + ".");
}

// The layer list of a Keras model as TF.js writes it, in whichever of the
// layouts the converters used.
const json& findLayers(const json& root, const std::filesystem::path& modelJson) {
  const auto topology = root.find("modelTopology");
  if (topology == root.end() || !topology->is_object()) fail(modelJson, "it has no modelTopology");
  const json* model = &*topology;
  if (model->contains("model_config")) model = &model->at("model_config");
  const auto config = model->find("config");
  if (config == model->end()) fail(modelJson, "its modelTopology has no config");
  if (config->is_array()) return *config;  // old Keras Sequential: config is the layer list
  const auto layers = config->find("layers");
  if (layers == config->end() || !layers->is_array()) fail(modelJson, "its model config has no layer list");
  return *layers;
}

// A size, stride or rate as one number or a pair. A value beyond int (which
// get<int> would truncate into a small one) is refused.
std::vector<int> intPair(const json& config, const char* key, int fallback,
                         const std::filesystem::path& modelJson) {
  const auto it = config.find(key);
  if (it == config.end() || it->is_null()) return {fallback, fallback};
  auto narrow = [&](const json& v) {
    const auto wide = v.get<std::int64_t>();
    if (wide < std::numeric_limits<int>::min() || wide > std::numeric_limits<int>::max())
      fail(modelJson,
           std::string("a layer's ") + key + " is " + std::to_string(wide) + ", which is out of range");
    return static_cast<int>(wide);
  };
  if (it->is_number_integer()) return {narrow(*it), narrow(*it)};
  std::vector<int> v;
  for (const auto& item : it->get<std::vector<json>>()) v.push_back(narrow(item));
  if (v.size() == 1) v.push_back(v[0]);
  if (v.size() != 2) return {};  // callers treat a malformed pair as unsupported
  return v;
}

// The name of the single layer feeding this one, or "" when none is recorded.
std::optional<std::string> inboundName(const json& layer) {
  const auto nodes = layer.find("inbound_nodes");
  if (nodes == layer.end() || !nodes->is_array() || nodes->empty()) return std::string();
  const json& node = (*nodes)[0];
  if (!node.is_array() || node.size() != 1 || nodes->size() != 1)
    return std::nullopt;  // merges, shared layers
  const json& input = node[0];
  if (input.is_array() && !input.empty() && input[0].is_string()) return input[0].get<std::string>();
  return std::nullopt;
}

class ChainReader {
 public:
  ChainReader(const json& layers, TfjsWeightStore& weights, const std::filesystem::path& modelJson)
      : layers_(layers), weights_(weights), modelJson_(modelJson) {}

  std::vector<LayerSpec> read() {
    std::string previous;
    for (std::size_t i = 0; i < layers_.size(); ++i) {
      const json& layer = layers_[i];
      const std::string cls = layer.value("class_name", std::string());
      const json config = layer.value("config", json::object());
      const std::string name = config.value("name", layer.value("name", std::string()));
      const auto inbound = inboundName(layer);
      // Only a straight chain maps onto a sequential feature extractor.
      if (!inbound || (!inbound->empty() && !previous.empty() && *inbound != previous)) break;

      if (cls == "InputLayer" || cls == "Dropout" || cls == "SpatialDropout2D" ||
          (cls == "Activation" && config.value("activation", std::string()) == "linear")) {
        previous = name;
        continue;
      }
      std::size_t consumed = 0;
      if (cls == "Conv2D")
        consumed = readConv(i);
      else if (cls == "LeakyReLU" || cls == "ReLU" || cls == "Activation")
        consumed = readActivation(cls, config);
      else if (cls == "MaxPooling2D" || cls == "AveragePooling2D")
        consumed = readPooling(cls, config);
      if (consumed == 0) break;  // Dense, Flatten, a partial download, ...: the chain ends here
      i += consumed - 1;
      previous =
          layers_[i].value("config", json::object()).value("name", layers_[i].value("name", std::string()));
    }
    // Pooling at the end adds no features of its own; the ONNX export stops there too.
    while (!specs_.empty() &&
           (specs_.back().kind == LayerKind::MaxPool || specs_.back().kind == LayerKind::AvgPool))
      specs_.pop_back();
    if (convs_ == 0) {
      if (!firstMissing_.empty())
        fail(modelJson_, "the weight shards of its first convolution ('" + firstMissing_ +
                             "') are missing; put them next to model.json");
      fail(modelJson_, "it has no convolution layers Impasto can use");
    }
    return std::move(specs_);
  }

 private:
  // Conv2D, with the BatchNormalization right after it folded in. Returns the
  // number of layers used, 0 when this conv cannot be reproduced exactly.
  std::size_t readConv(std::size_t index) {
    const json config = layers_[index].at("config");
    const std::string name = config.value("name", std::string());
    const auto kernel = intPair(config, "kernel_size", 1, modelJson_);
    const auto strides = intPair(config, "strides", 1, modelJson_);
    const auto dilation = intPair(config, "dilation_rate", 1, modelJson_);
    const std::string padding = config.value("padding", std::string("valid"));
    const std::string activation = config.value("activation", std::string("linear"));
    if (kernel.size() != 2 || kernel[0] != kernel[1] || kernel[0] < 1 || strides.size() != 2 ||
        strides[0] != strides[1] || strides[0] < 1 || dilation != std::vector<int>{1, 1} ||
        config.value("groups", 1) != 1)
      return 0;
    int pad = 0;
    if (padding == "same") {
      // TF pads 'same' symmetrically only for odd kernels at stride 1.
      if (strides[0] != 1 || kernel[0] % 2 == 0) return 0;
      pad = kernel[0] / 2;
    } else if (padding != "valid") {
      return 0;
    }
    if (activation != "linear" && activation != "relu") return 0;

    const std::string kernelName = weightName(name, "kernel");
    const bool useBias = config.value("use_bias", true);
    std::vector<std::string> needed = {kernelName};
    if (useBias) needed.push_back(weightName(name, "bias"));

    std::size_t consumed = 1;
    const json* bn = nullptr;
    if (index + 1 < layers_.size() &&
        layers_[index + 1].value("class_name", std::string()) == "BatchNormalization") {
      const auto inbound = inboundName(layers_[index + 1]);
      if (inbound && (inbound->empty() || *inbound == name)) {
        if (activation != "linear") return 0;  // BN after the activation cannot be folded into the conv
        bn = &layers_[index + 1];
        consumed = 2;
      }
    }
    std::string bnName;
    json bnConfig;
    if (bn != nullptr) {
      bnConfig = bn->at("config");
      bnName = bnConfig.value("name", std::string());
      if (bnConfig.value("scale", true)) needed.push_back(weightName(bnName, "gamma"));
      if (bnConfig.value("center", true)) needed.push_back(weightName(bnName, "beta"));
      needed.push_back(weightName(bnName, "moving_mean"));
      needed.push_back(weightName(bnName, "moving_variance"));
    }
    for (const auto& w : needed) {
      if (!weights_.available(w)) {
        if (firstMissing_.empty()) firstMissing_ = w;
        return 0;
      }
    }

    const WeightArray hwio = weights_.get(kernelName);
    if (hwio.dim() != 4 || hwio.size(0) != kernel[0] || hwio.size(1) != kernel[1])
      fail(modelJson_, "the kernel of '" + name + "' has the wrong shape");
    const std::int64_t outChannels = hwio.size(3);
    if (!channels_.has_value()) channels_ = hwio.size(2);
    if (hwio.size(2) != *channels_)
      fail(modelJson_, "'" + name + "' expects " + std::to_string(hwio.size(2)) + " input channels, not " +
                           std::to_string(*channels_));
    std::vector<float> weight = kerasToTorchKernel(hwio);
    std::vector<float> bias;
    if (useBias) bias = checkLength(weights_.get(needed[1]), outChannels, name + " bias");
    if (bn != nullptr) {
      const double eps = bnConfig.value("epsilon", 1e-3);
      auto param = [&](const char* key, bool present, float fallback) {
        if (!present) return std::vector<float>(static_cast<std::size_t>(outChannels), fallback);
        return checkLength(weights_.get(weightName(bnName, key)), outChannels, bnName + " " + key);
      };
      const std::vector<float> gamma = param("gamma", bnConfig.value("scale", true), 1.0f);
      const std::vector<float> beta = param("beta", bnConfig.value("center", true), 0.0f);
      const std::vector<float> mean = param("moving_mean", true, 0.0f);
      const std::vector<float> var = param("moving_variance", true, 1.0f);
      if (bias.empty()) bias.assign(static_cast<std::size_t>(outChannels), 0.0f);
      // BN(conv(x)) = gamma (w*x + b - mean) / sqrt(var + eps) + beta, itself a conv.
      // Folded in float32 in the usual order (scale, then w·scale and
      // beta + (b − mean)·scale), which reproduces the published ONNX and .pth
      // forms bit for bit, so all three forms render the same image.
      const std::size_t perOutput = weight.size() / static_cast<std::size_t>(outChannels);
      for (std::size_t o = 0; o < static_cast<std::size_t>(outChannels); ++o) {
        const float scale = gamma[o] / std::sqrt(var[o] + float(eps));
        for (std::size_t i = 0; i < perOutput; ++i) weight[o * perOutput + i] *= scale;
        bias[o] = beta[o] + (bias[o] - mean[o]) * scale;
      }
    }
    channels_ = outChannels;

    ++convs_;
    LayerSpec spec;
    spec.kind = LayerKind::Conv;
    spec.name = unique("conv" + std::to_string(convs_));
    spec.weight = WeightArray({outChannels, hwio.size(2), hwio.size(0), hwio.size(1)}, std::move(weight));
    if (!bias.empty()) spec.bias = WeightArray({outChannels}, std::move(bias));
    spec.stride = strides[0];
    spec.padding = pad;
    specs_.push_back(std::move(spec));
    if (activation == "relu") addActivation(LayerKind::ReLU, 0.0);
    return consumed;
  }

  std::size_t readActivation(const std::string& cls, const json& config) {
    if (cls == "LeakyReLU") {
      addActivation(LayerKind::LeakyReLU, config.value("alpha", 0.3));  // Keras' default slope
      return 1;
    }
    if (cls == "ReLU") {
      const auto maxValue = config.find("max_value");
      const bool capped = maxValue != config.end() && !maxValue->is_null();
      if (capped || config.value("threshold", 0.0) != 0.0) return 0;
      const double slope = config.value("negative_slope", 0.0);
      addActivation(slope == 0.0 ? LayerKind::ReLU : LayerKind::LeakyReLU, slope);
      return 1;
    }
    if (config.value("activation", std::string()) == "relu") {
      addActivation(LayerKind::ReLU, 0.0);
      return 1;
    }
    return 0;
  }

  std::size_t readPooling(const std::string& cls, const json& config) {
    const auto pool = intPair(config, "pool_size", 2, modelJson_);
    auto strides = intPair(config, "strides", 0, modelJson_);
    if (pool.size() != 2 || strides.size() != 2) return 0;
    if (strides[0] == 0) strides = pool;  // Keras: strides default to pool_size
    const std::string padding = config.value("padding", std::string("valid"));
    if (pool[0] != pool[1] || pool[0] < 1 || strides[0] != strides[1] || strides[0] < 1) return 0;
    LayerSpec spec;
    spec.kind = cls == "MaxPooling2D" ? LayerKind::MaxPool : LayerKind::AvgPool;
    spec.kernel = pool[0];
    spec.stride = strides[0];
    if (padding == "same") {
      if (pool[0] == strides[0]) {
        // TF pads only bottom/right, so odd sizes round up. padAfter alone says it:
        // padding by k-1 then pooling gives ceil(n/k), as does ceil mode.
        spec.padAfter = pool[0] - 1;
      } else if (strides[0] == 1 && pool[0] % 2 == 1) {
        spec.padding = pool[0] / 2;
      } else {
        return 0;
      }
    } else if (padding != "valid") {
      return 0;
    }
    spec.name = unique("pool" + std::to_string(convs_));
    specs_.push_back(std::move(spec));
    return 1;
  }

  void addActivation(LayerKind kind, double slope) {
    LayerSpec spec;
    spec.kind = kind;
    spec.negativeSlope = slope;
    spec.name = unique((kind == LayerKind::LeakyReLU ? "leaky" : "relu") + std::to_string(convs_));
    specs_.push_back(std::move(spec));
  }

  std::vector<float> checkLength(const WeightArray& w, std::int64_t length, const std::string& what) const {
    if (w.dim() != 1 || w.size(0) != length)
      fail(modelJson_, what + " has " + std::to_string(w.numel()) + " values, not " + std::to_string(length));
    return w.values();
  }

  // Keras kernels are [kh, kw, in, out]; torch's are [out, in, kh, kw].
  static std::vector<float> kerasToTorchKernel(const WeightArray& hwio) {
    const std::int64_t kh = hwio.size(0), kw = hwio.size(1), in = hwio.size(2), out = hwio.size(3);
    std::vector<float> oihw(hwio.values().size());
    const float* src = hwio.data();
    for (std::int64_t y = 0; y < kh; ++y)
      for (std::int64_t x = 0; x < kw; ++x)
        for (std::int64_t i = 0; i < in; ++i)
          for (std::int64_t o = 0; o < out; ++o)
            oihw[static_cast<std::size_t>(((o * in + i) * kh + y) * kw + x)] = *src++;
    return oihw;
  }

  // Manifest names are "<layer>/<weight>", sometimes under a scope prefix.
  std::string weightName(const std::string& layer, const std::string& weight) const {
    const std::string wanted = layer + "/" + weight;
    const std::string found = weights_.resolve(wanted);
    if (found.empty()) fail(modelJson_, "its weightsManifest lacks '" + wanted + "'");
    return found;
  }

  std::string unique(const std::string& base) {
    std::string name = base;
    for (int n = 2; !names_.insert(name).second; ++n) name = base + "_" + std::to_string(n);
    return name;
  }

  const json& layers_;
  TfjsWeightStore& weights_;
  std::filesystem::path modelJson_;
  std::vector<LayerSpec> specs_;
  std::set<std::string> names_;
  std::optional<std::int64_t> channels_;
  int convs_ = 0;
  std::string firstMissing_;
};

}  // namespace

std::vector<LayerSpec> readTfjsLayers(const std::filesystem::path& modelJson) {
  std::error_code ec;
  const std::uintmax_t size = std::filesystem::file_size(modelJson, ec);
  if (ec) fail(modelJson, ec.message());
  if (size > kMaxModelJsonBytes) fail(modelJson, "it is too large for a model description");
  const std::string text = readFileBytes(modelJson);
  requireJsonDepth(text, ErrorKind::Model, "The TensorFlow.js model " + modelJson.string());

  json root;
  try {
    root = json::parse(text);
  } catch (const json::exception& e) {
    fail(modelJson, std::string("it is not valid JSON (") + e.what() + ")");
  }
  try {
    if (!root.is_object()) fail(modelJson, "it is not a JSON object");
    const auto manifest = root.find("weightsManifest");
    if (manifest == root.end() || !manifest->is_array()) fail(modelJson, "it has no weightsManifest");
    TfjsWeightStore weights(*manifest, modelJson);
    return ChainReader(findLayers(root, modelJson), weights, modelJson).read();
  } catch (const json::exception& e) {
    fail(modelJson, std::string("it is malformed (") + e.what() + ")");
  } catch (const std::logic_error& e) {  // a WeightArray whose shape and values disagree
    fail(modelJson, std::string("its weights are inconsistent (") + e.what() + ")");
  }
}

}  // namespace impasto
