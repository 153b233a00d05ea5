#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace impasto {

// The manifest format of the face networks, which are no style model.
inline constexpr const char* kFaceModelFormat = "face-api";

// How an RGB [0, 1] image becomes the network's input:
// x = (rgb[order] * scale - mean) / std, per channel in the network's order.
struct Preprocessing {
  bool bgr = false;
  float scale = 1.0f;
  std::array<float, 3> mean{0.f, 0.f, 0.f};
  std::array<float, 3> std{1.f, 1.f, 1.f};
};

// One file of a model in the built-in registry ("files" in a manifest):
//   "name"     file name in the cache
//   "urls"     tried in order
//   "size"     exact byte count; a download stops as soon as it would exceed it
//   "sha256"   the full hex digest (64 digits), or only the prefix a publisher
//              gives (torchvision-style names carry 8 digits); with a prefix,
//              only the prefix is checked, and `models list` says so
//   "max_size" an upper bound for a file whose exact size is not published: a
//              download that would exceed it is refused
struct ModelFile {
  std::string name;
  std::vector<std::string> urls;
  std::int64_t size = 0;     // bytes, 0 when unknown
  std::string sha256;        // full hex digest, or a prefix of it
  std::int64_t maxSize = 0;  // bytes, 0 when no bound is stated

  // True when only a prefix of the SHA-256 is known and checked.
  bool sha256PrefixOnly() const { return !sha256.empty() && sha256.size() < 64; }
};

// One layer of a sequential network that a manifest describes ("topology"),
// for .pth state_dicts whose architecture is not built in. Conv weights come
// from "<key>.weight" and "<key>.bias" in the state_dict (key defaults to name).
struct TopologyEntry {
  std::string name;
  std::string type;  // "conv", "relu", "leaky_relu", "max_pool", "avg_pool"
  std::string key;   // conv only: the state_dict prefix when it is not the name
  int stride = 1;    // conv: default 1; pooling: default kernel
  int padding = 0;   // symmetric padding
  int kernel = 2;    // pooling window
  int padAfter = 0;  // pooling padding on the bottom/right only ("same" in TensorFlow)
  bool ceilMode = false;
  double slope = 0.01;  // leaky_relu negative slope (PyTorch's default)
};

// The facts about a model: the JSON manifest that sits beside a weights file
// (name.json next to name.onnx/.pth) or ships in resources/models.
struct ModelManifest {
  std::string name;
  std::string title;
  std::string format;        // "onnx", "pth", "tfjs", "caffe"; empty: from the file;
                             // "face-api": the face networks (core/faces), not a style model
  std::string architecture;  // "vgg16", "vgg19" for pth files; empty otherwise
  std::string license;
  Preprocessing input;
  std::vector<std::string> layers;  // names in network order
  std::vector<std::string> defaultStyleLayers;
  std::string defaultContentLayer;
  std::optional<double> defaultAlpha;
  std::optional<double> defaultBeta;
  std::vector<ModelFile> files;         // registry entries only
  std::string weightsFile;              // which of files holds the weights (registry)
  std::vector<TopologyEntry> topology;  // optional: layout of a .pth state_dict
};

// Parses a manifest; throws Error(Model) naming the file and the bad field.
ModelManifest parseManifest(const std::string& json, const std::string& origin);
ModelManifest readManifest(const std::filesystem::path& path);
std::string manifestToJson(const ModelManifest& manifest);

}  // namespace impasto
