#include "tests/support/test_models.h"

#include <cmath>

#include "core/engine/tensor_convert.h"
#include "core/models/layers.h"
#include "tests/support/aten_ops.h"
#include "tests/support/onnx_writer.h"

namespace impasto::test {

ModelPtr makeTinyModel(std::uint64_t seed, int width) {
  at::manual_seed(seed);
  std::vector<LayerSpec> layers;
  int channels = 3;
  for (int block = 1; block <= 3; ++block) {
    const int out = width * block;
    LayerSpec conv;
    conv.kind = LayerKind::Conv;
    conv.name = "conv" + std::to_string(block);
    conv.weight = weightArray(at::randn({out, channels, 3, 3}) * std::sqrt(2.0 / (9.0 * channels)));
    conv.bias = weightArray(at::randn({out}) * 0.01);
    conv.padding = 1;
    layers.push_back(conv);
    LayerSpec relu;
    relu.kind = LayerKind::ReLU;
    relu.name = "relu" + std::to_string(block);
    layers.push_back(relu);
    if (block < 3) {
      LayerSpec pool;
      pool.kind = LayerKind::MaxPool;
      pool.name = "pool" + std::to_string(block);
      pool.kernel = 2;
      pool.stride = 2;
      layers.push_back(pool);
    }
    channels = out;
  }
  ModelManifest manifest;
  manifest.name = "tiny";
  manifest.title = "Tiny test network";
  for (const auto& l : layers) manifest.layers.push_back(l.name);
  manifest.defaultStyleLayers = {"relu1", "relu2", "relu3"};
  manifest.defaultContentLayer = "relu2";
  manifest.defaultAlpha = 1.0;
  manifest.defaultBeta = 1000.0;
  return std::make_shared<const Model>(manifest, std::move(layers));
}

void writeTinyOnnx(const std::filesystem::path& path, std::uint64_t seed, int width) {
  at::manual_seed(seed);
  OnnxWriter onnx;
  onnx.conv("conv1", "image", "c1", at::randn({width, 3, 3, 3}) * 0.3, at::zeros({width}), 1, 1)
      .relu("relu1", "c1", "r1")
      .maxPool("pool1", "r1", "p1", 2, 2)
      .conv("conv2", "p1", "c2", at::randn({width, width, 3, 3}) * 0.2, at::zeros({width}), 1, 1)
      .relu("relu2", "c2", "r2")
      .output("r2");
  onnx.save(path);
}

std::map<std::string, at::Tensor> toTensors(const std::map<std::string, WeightArray>& arrays) {
  std::map<std::string, at::Tensor> tensors;
  for (const auto& [name, array] : arrays) tensors[name] = weightTensor(array);
  return tensors;
}

}  // namespace impasto::test
