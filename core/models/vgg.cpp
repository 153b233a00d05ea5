#include "core/models/vgg.h"

#include "core/util/error.h"

namespace impasto {

namespace {

// Convolutions per block: VGG-16 has 2, 2, 3, 3, 3; VGG-19 2, 2, 4, 4, 4.
std::vector<int> convsPerBlock(VggDepth depth) {
  return depth == VggDepth::Vgg16 ? std::vector<int>{2, 2, 3, 3, 3} : std::vector<int>{2, 2, 4, 4, 4};
}

std::string depthName(VggDepth depth) { return depth == VggDepth::Vgg16 ? "VGG-16" : "VGG-19"; }

}  // namespace

std::vector<VggLayer> vggTopology(VggDepth depth) {
  static const int widths[] = {64, 128, 256, 512, 512};
  std::vector<VggLayer> layers;
  int index = 0;
  int channels = 3;
  const auto blocks = convsPerBlock(depth);
  for (std::size_t b = 0; b < blocks.size(); ++b) {
    const std::string block = std::to_string(b + 1);
    for (int c = 1; c <= blocks[b]; ++c) {
      const std::string suffix = block + "_" + std::to_string(c);
      layers.push_back({"conv" + suffix, LayerKind::Conv, index++, channels, widths[b]});
      channels = widths[b];
      layers.push_back({"relu" + suffix, LayerKind::ReLU, index++});
    }
    layers.push_back({"pool" + block, LayerKind::MaxPool, index++});
  }
  return layers;
}

std::optional<VggDepth> parseVggArchitecture(const std::string& architecture) {
  if (architecture == "vgg16") return VggDepth::Vgg16;
  if (architecture == "vgg19") return VggDepth::Vgg19;
  return std::nullopt;
}

std::optional<VggDepth> guessVggDepth(const StateDict& dict) {
  // The last convolution is features.34 in VGG-19 and features.28 in VGG-16.
  if (dict.count("features.34.weight")) return VggDepth::Vgg19;
  if (dict.count("features.28.weight") && !dict.count("features.30.weight")) return VggDepth::Vgg16;
  return std::nullopt;
}

std::vector<LayerSpec> vggLayers(VggDepth depth, const StateDict& dict, const std::string& origin) {
  if (dict.count("features.1.running_mean"))
    throw Error(ErrorKind::Model, origin +
                                      " is a VGG with batch normalisation (vgg*_bn), which is not supported: "
                                      "use the plain VGG-16/VGG-19 weights");
  std::vector<LayerSpec> layers;
  for (const auto& layer : vggTopology(depth)) {
    LayerSpec spec;
    spec.name = layer.name;
    spec.kind = layer.kind;
    if (layer.kind == LayerKind::Conv) {
      const std::string key = "features." + std::to_string(layer.featureIndex);
      const std::vector<std::int64_t> weightShape{layer.outChannels, layer.inChannels, 3, 3};
      auto weight = dict.find(key + ".weight");
      auto bias = dict.find(key + ".bias");
      if (weight == dict.end() || bias == dict.end())
        throw Error(ErrorKind::Model, origin + " has no " + key +
                                          (weight == dict.end() ? ".weight" : ".bias") + " (layer " +
                                          layer.name + "): is this a " + depthName(depth) + " file?");
      if (weight->second.shape() != weightShape)
        throw Error(ErrorKind::Model, origin + ": " + key + ".weight has shape " +
                                          shapeString(weight->second.shape()) + ", expected " +
                                          shapeString(weightShape) + ": is this a " + depthName(depth) +
                                          " file?");
      if (bias->second.shape() != std::vector<std::int64_t>{layer.outChannels})
        throw Error(ErrorKind::Model, origin + ": " + key + ".bias has shape " +
                                          shapeString(bias->second.shape()) + ", expected [" +
                                          std::to_string(layer.outChannels) + "]: is this a " +
                                          depthName(depth) + " file?");
      spec.weight = weight->second;
      spec.bias = bias->second;
      spec.padding = 1;
    } else if (layer.kind == LayerKind::MaxPool) {
      spec.kernel = 2;
      spec.stride = 2;
    }
    layers.push_back(std::move(spec));
  }
  return layers;
}

ModelManifest vggManifest(VggDepth depth, VggWeights weights) {
  ModelManifest m;
  const bool caffe = weights == VggWeights::Caffe;
  const std::string number = depth == VggDepth::Vgg16 ? "16" : "19";
  m.name = "vgg" + number + (caffe ? "-caffe" : "-torchvision");
  m.title = "VGG-" + number + (caffe ? " (Caffe weights)" : " (torchvision weights)");
  m.format = "pth";
  m.architecture = "vgg" + number;
  if (caffe) {
    m.input.bgr = true;
    m.input.scale = 255.f;
    m.input.mean = {103.939f, 116.779f, 123.68f};
  } else {
    m.input.mean = {0.485f, 0.456f, 0.406f};
    m.input.std = {0.229f, 0.224f, 0.225f};
  }
  for (const auto& layer : vggTopology(depth)) m.layers.push_back(layer.name);
  m.defaultStyleLayers = {"relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1"};
  m.defaultContentLayer = "relu4_2";
  m.license = "VGG: CC BY 4.0 (Simonyan & Zisserman)";
  return m;
}

VggWeights guessVggWeights(const std::string& fileName) {
  for (const char* prefix : {"d01eb7cb", "00b39a1b"})
    if (fileName.find(prefix) != std::string::npos) return VggWeights::Caffe;
  return VggWeights::Torchvision;
}

}  // namespace impasto
