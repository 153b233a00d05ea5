#include <caffe2/serialize/inline_container.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <torch/csrc/jit/serialization/pickle.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>

#include "core/engine/feature_extractor.h"
#include "core/engine/tensor_convert.h"
#include "core/models/caffe_model.h"
#include "core/models/dnn_layers.h"
#include "core/models/layers.h"
#include "core/models/model.h"
#include "core/models/state_dict.h"
#include "core/models/vgg.h"
#include "core/util/error.h"
#include "tests/support/aten_ops.h"
#include "tests/support/onnx_writer.h"
#include "tests/support/pickle_writer.h"
#include "tests/support/test_models.h"
#include "tests/support/test_paths.h"

namespace impasto {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

class ModelLoaderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    at::manual_seed(7);
    std::random_device rd;
    dir_ = fs::temp_directory_path() / ("impasto-model-loader-" + std::to_string(rd()));
    fs::create_directories(dir_);
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  fs::path dir_;
};

void writeText(const fs::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
}

// The message of the Error(Model) fn throws ("" if none).
template <typename Fn>
std::string modelError(Fn&& fn) {
  try {
    fn();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::Model) << e.what();
    return e.what();
  }
  return "";
}

std::vector<LayerKind> kindsOf(const Model& model) {
  std::vector<LayerKind> kinds;
  for (const auto& l : model.layers()) kinds.push_back(l.kind);
  return kinds;
}

// A zip state_dict the way Python's torch.save writes it: an OrderedDict
// (which LibTorch's own unpickler cannot read) with _metadata, one storage per tensor.
void writePythonZipStateDict(const fs::path& path,
                             const std::vector<std::pair<std::string, at::Tensor>>& tensors) {
  std::vector<test::LegacyStorage> storages;
  std::vector<test::LegacyTensor> entries;
  for (std::size_t i = 0; i < tensors.size(); ++i) {
    // The whole storage behind the tensor, so views keep their strides and offset.
    const at::Tensor& t = tensors[i].second;
    const auto storageNumel = static_cast<std::int64_t>(t.storage().nbytes() / t.element_size());
    const at::Tensor base = at::empty({0}, t.options()).set_(t.storage(), 0, {storageNumel}, {1}).clone();
    storages.push_back({std::to_string(i), base});
    test::LegacyTensor entry;
    entry.name = tensors[i].first;
    entry.storageKey = std::to_string(i);
    entry.offset = t.storage_offset();
    entry.size = t.sizes().vec();
    entry.stride = t.strides().vec();
    entries.push_back(entry);
  }
  const std::string pickle = test::legacyStateDictPickle(storages, entries);
  caffe2::serialize::PyTorchStreamWriter writer(path.string());
  writer.writeRecord("data.pkl", pickle.data(), pickle.size());
  for (const auto& s : storages)
    writer.writeRecord("data/" + s.key, s.data.data_ptr(), static_cast<std::size_t>(s.data.nbytes()));
  writer.writeEndOfFile();
}

// conv1 relu1 pool1 conv2 leaky2 pool2, as PyTorch's exporter names nodes.
struct TinyOnnx {
  at::Tensor w1 = at::randn({4, 3, 3, 3});
  at::Tensor b1 = at::randn({4});
  at::Tensor w2 = at::randn({6, 4, 3, 3});

  void save(const fs::path& path) const {
    test::OnnxWriter onnx;
    onnx.conv("/conv1/Conv", "image", "/conv1/Conv_output_0", w1, b1, 1, 1)
        .relu("/relu1/Relu", "/conv1/Conv_output_0", "/relu1/Relu_output_0")
        .maxPool("/pool1/MaxPool", "/relu1/Relu_output_0", "/pool1/MaxPool_output_0", 2, 2)
        .conv("/conv2/Conv", "/pool1/MaxPool_output_0", "/conv2/Conv_output_0", w2, {}, 2, 1)
        .leakyRelu("/leaky2/LeakyRelu", "/conv2/Conv_output_0", "/leaky2/LeakyRelu_output_0", 0.2f)
        .averagePool("pool2", "/leaky2/LeakyRelu_output_0", "out", 2, 2)
        .output("out")
        .save(path);
  }
};

TEST_F(ModelLoaderTest, OnnxChainLoadsWithNamesKindsAndWeights) {
  const TinyOnnx net;
  net.save(dir_ / "tiny.onnx");
  const ModelPtr model = loadModelFile(dir_ / "tiny.onnx");
  EXPECT_EQ(model->layerNames(),
            (std::vector<std::string>{"conv1", "relu1", "pool1", "conv2", "leaky2", "pool2"}));
  EXPECT_EQ(kindsOf(*model),
            (std::vector<LayerKind>{LayerKind::Conv, LayerKind::ReLU, LayerKind::MaxPool, LayerKind::Conv,
                                    LayerKind::LeakyReLU, LayerKind::AvgPool}));
  const auto& l = model->layers();
  EXPECT_TRUE(at::equal(weightTensor(l[0].weight), net.w1));
  EXPECT_TRUE(at::equal(weightTensor(l[0].bias), net.b1));
  EXPECT_EQ(l[0].stride, 1);
  EXPECT_EQ(l[0].padding, 1);
  EXPECT_EQ(l[2].kernel, 2);
  EXPECT_EQ(l[2].stride, 2);
  EXPECT_EQ(l[2].padding, 0);
  EXPECT_EQ(l[2].padAfter, 0);
  EXPECT_FALSE(l[2].ceilMode);
  EXPECT_TRUE(at::equal(weightTensor(l[3].weight), net.w2));
  if (l[3].bias.defined()) {
    EXPECT_EQ(weightTensor(l[3].bias).abs().sum().item<float>(), 0.f) << "no bias in the file";
  }
  EXPECT_EQ(l[3].stride, 2);
  EXPECT_NEAR(l[4].negativeSlope, 0.2, 1e-6);

  // No manifest beside it: the documented defaults.
  const ModelManifest& m = model->manifest();
  EXPECT_EQ(m.name, "tiny");
  EXPECT_EQ(m.format, "onnx");
  EXPECT_FALSE(m.input.bgr);
  EXPECT_FLOAT_EQ(m.input.scale, 1.f);
  EXPECT_EQ(m.layers, model->layerNames());
  EXPECT_EQ(m.defaultStyleLayers, (std::vector<std::string>{"relu1", "leaky2"}));
  EXPECT_EQ(m.defaultContentLayer, "relu1");
}

TEST_F(ModelLoaderTest, OnnxBranchesAreRefused) {
  const auto w = at::randn({4, 3, 3, 3});
  const auto w4 = at::randn({4, 4, 3, 3});
  test::OnnxWriter onnx;
  onnx.conv("conv1", "image", "c1", w, {}, 1, 1)
      .relu("relu1", "c1", "r1")
      .conv("conv2a", "r1", "c2a", w4, {}, 1, 1)
      .conv("conv2b", "r1", "c2b", w4, {}, 1, 1)
      .node("Add", "add", {"c2a", "c2b"}, {"sum"})
      .relu("relu2", "sum", "out")
      .output("out")
      .save(dir_ / "branchy.onnx");
  const std::string message = modelError([&] { loadModelFile(dir_ / "branchy.onnx"); });
  EXPECT_THAT(message, HasSubstr("branchy.onnx is not a sequential CNN"));
  EXPECT_THAT(message, HasSubstr("conv2b"));
  EXPECT_THAT(message, HasSubstr("Impasto supports chains of convolution, ReLU/LeakyReLU and pooling"));
}

TEST_F(ModelLoaderTest, OnnxLayerWithTwoInputsIsRefused) {
  const auto w = at::randn({4, 3, 3, 3});
  test::OnnxWriter onnx;
  onnx.conv("conv1", "image", "c1", w, {}, 1, 1)
      .relu("relu1", "c1", "r1")
      .node("Add", "add", {"r1", "c1"}, {"out"})
      .output("out")
      .save(dir_ / "residual.onnx");
  const std::string message = modelError([&] { loadModelFile(dir_ / "residual.onnx"); });
  EXPECT_THAT(message, HasSubstr("is not a sequential CNN (layer add has 2 inputs)"));
}

TEST_F(ModelLoaderTest, OnnxUnsupportedLayerTypeIsNamed) {
  test::OnnxWriter onnx;
  onnx.conv("conv1", "image", "c1", at::randn({4, 3, 3, 3}), {}, 1, 1)
      .node("Sigmoid", "gate", {"c1"}, {"out"})
      .output("out")
      .save(dir_ / "sigmoid.onnx");
  const std::string message = modelError([&] { loadModelFile(dir_ / "sigmoid.onnx"); });
  EXPECT_THAT(message, HasSubstr("layer gate has type Sigmoid"));
  EXPECT_THAT(message, HasSubstr("Impasto supports chains"));
}

TEST_F(ModelLoaderTest, OnnxClassifierHeadIsCutOff) {
  test::OnnxWriter onnx;
  onnx.conv("conv1", "image", "c1", at::randn({4, 3, 3, 3}), {}, 1, 1)
      .relu("relu1", "c1", "r1")
      .node("Flatten", "flatten", {"r1"}, {"f"})
      .node("Softmax", "softmax", {"f"}, {"out"})
      .output("out")
      .save(dir_ / "classifier.onnx");
  EXPECT_EQ(loadModelFile(dir_ / "classifier.onnx")->layerNames(),
            (std::vector<std::string>{"conv1", "relu1"}));
}

TEST_F(ModelLoaderTest, OnnxBottomRightPoolPaddingBecomesPadAfter) {
  test::OnnxWriter onnx;
  onnx.conv("conv1", "image", "c1", at::randn({4, 3, 3, 3}), {}, 1, 1)
      .leakyRelu("leaky1", "c1", "l1", 0.1f)
      .maxPool("pool1", "l1", "out", 2, 2, {0, 0, 1, 1})
      .output("out")
      .save(dir_ / "same.onnx");
  const ModelPtr model =
      loadModelFile(dir_ / "same.onnx");  // keeps the layers alive (ASan found a dangling reference)
  const auto& pool = model->layers().at(2);
  EXPECT_EQ(pool.kind, LayerKind::MaxPool);
  EXPECT_EQ(pool.padAfter, 1);
  EXPECT_EQ(pool.padding, 0);
}

TEST_F(ModelLoaderTest, CorruptOnnxIsAModelError) {
  writeText(dir_ / "broken.onnx", "this is not protobuf at all");
  EXPECT_THAT(modelError([&] { loadModelFile(dir_ / "broken.onnx"); }), HasSubstr("broken.onnx"));
}

TEST_F(ModelLoaderTest, ManifestBesideTheFileSuppliesNameAndPreprocessing) {
  TinyOnnx().save(dir_ / "tiny.onnx");
  writeText(dir_ / "tiny.json", R"({"name": "my-net", "title": "My net",
    "input": {"channel_order": "BGR", "scale": 255, "mean": [1, 2, 3]},
    "default_style_layers": ["relu1"], "default_content_layer": "leaky2"})");
  const ModelPtr model = loadModelFile(dir_ / "tiny.onnx");
  const ModelManifest& m = model->manifest();
  EXPECT_EQ(m.name, "my-net");
  EXPECT_TRUE(m.input.bgr);
  EXPECT_FLOAT_EQ(m.input.scale, 255.f);
  EXPECT_EQ(m.defaultStyleLayers, (std::vector<std::string>{"relu1"}));
  EXPECT_EQ(m.defaultContentLayer, "leaky2");
  EXPECT_EQ(m.layers, model->layerNames());

  // Passing the manifest finds the weights beside it.
  EXPECT_EQ(loadModelFile(dir_ / "tiny.json")->manifest().name, "my-net");

  writeText(dir_ / "tiny.json", R"({"name": "my-net", "default_content_layer": "relu9"})");
  EXPECT_THAT(modelError([&] { loadModelFile(dir_ / "tiny.onnx"); }),
              AllOf(HasSubstr("tiny.json"), HasSubstr("relu9"), HasSubstr("conv1, relu1")));
}

TEST_F(ModelLoaderTest, PoolingOverrideReplacesEveryPoolingLayer) {
  TinyOnnx().save(dir_ / "tiny.onnx");
  const ModelPtr model = loadModelFile(dir_ / "tiny.onnx", Pooling::Avg);
  EXPECT_EQ(model->layers()[2].kind, LayerKind::AvgPool);
  EXPECT_EQ(model->layers()[5].kind, LayerKind::AvgPool);
  EXPECT_EQ(loadModelFile(dir_ / "tiny.onnx", Pooling::Max)->layers()[5].kind, LayerKind::MaxPool);
}

TEST_F(ModelLoaderTest, MissingAndUnknownFilesSayWhatToDo) {
  EXPECT_THAT(modelError([&] { loadModelFile(dir_ / "nothing.onnx"); }),
              AllOf(HasSubstr("No such model file"), HasSubstr("nothing.onnx"),
                    HasSubstr("impasto-cli models list")));
  writeText(dir_ / "weights.h5", "HDF");
  EXPECT_THAT(modelError([&] { loadModelFile(dir_ / "weights.h5"); }), HasSubstr(".onnx, .pth/.pt"));
}

// A sequential net described by a manifest topology, its weights in a zip .pth.
const char* kTopologyManifest = R"({"name": "topo", "input": {"range": [0, 255]}, "topology": [
  {"name": "c1", "type": "conv", "key": "features.0", "padding": 1},
  {"name": "a1", "type": "leaky_relu", "slope": 0.1},
  {"name": "p1", "type": "max_pool", "kernel": 2, "stride": 2, "pad_after": 1},
  {"name": "c2", "type": "conv", "stride": 2},
  {"name": "a2", "type": "relu"}]})";

TEST_F(ModelLoaderTest, ZipStateDictLoadsThroughAManifestTopology) {
  const auto w1 = at::randn({5, 3, 3, 3});
  const auto b1 = at::randn({5});
  const auto w2 = at::randn({2, 5, 1, 1});
  // A transposed (non-contiguous) view checks that strides are honoured.
  const auto w2stored = w2.permute({1, 0, 2, 3}).contiguous().permute({1, 0, 2, 3});
  ASSERT_FALSE(w2stored.is_contiguous());
  writePythonZipStateDict(dir_ / "topo.pth",
                          {{"features.0.weight", w1}, {"features.0.bias", b1}, {"c2.weight", w2stored}});
  writeText(dir_ / "topo.json", kTopologyManifest);
  const ModelPtr model = loadModelFile(dir_ / "topo.pth");
  EXPECT_EQ(model->layerNames(), (std::vector<std::string>{"c1", "a1", "p1", "c2", "a2"}));
  const auto& l = model->layers();
  EXPECT_TRUE(at::equal(weightTensor(l[0].weight), w1));
  EXPECT_TRUE(at::equal(weightTensor(l[0].bias), b1));
  EXPECT_EQ(l[0].padding, 1);
  EXPECT_NEAR(l[1].negativeSlope, 0.1, 1e-9);
  EXPECT_EQ(l[2].padAfter, 1);
  EXPECT_TRUE(at::equal(weightTensor(l[3].weight), w2));
  EXPECT_FALSE(l[3].bias.defined());
  EXPECT_EQ(l[3].stride, 2);
  EXPECT_FLOAT_EQ(model->manifest().input.scale, 255.f);
  EXPECT_EQ(model->manifest().format, "pth");
  EXPECT_EQ(model->manifest().defaultStyleLayers, (std::vector<std::string>{"a1", "a2"}));
  EXPECT_EQ(model->manifest().defaultContentLayer, "a1");

  writePythonZipStateDict(dir_ / "topo.pth", {{"features.0.weight", w1}, {"features.0.bias", b1}});
  EXPECT_THAT(modelError([&] { loadModelFile(dir_ / "topo.pth"); }),
              AllOf(HasSubstr("c2.weight"), HasSubstr("topo.pth")));

  writePythonZipStateDict(dir_ / "topo.pth",
                          {{"features.0.weight", w1}, {"c2.weight", at::randn({2, 4, 1, 1})}});
  EXPECT_THAT(modelError([&] { loadModelFile(dir_ / "topo.pth"); }),
              AllOf(HasSubstr("layer c2 takes 4 input channels"), HasSubstr("gives 5")));
}

TEST_F(ModelLoaderTest, StateDictReadsLibTorchZipFiles) {
  c10::Dict<std::string, at::Tensor> dict;
  dict.insert("module.a", at::arange(6, at::kFloat).reshape({2, 3}));
  dict.insert("module.b", at::ones({3}, at::kDouble));
  const std::vector<char> bytes = torch::jit::pickle_save(dict);
  std::ofstream(dir_ / "cpp.pt", std::ios::binary)
      .write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  const StateDict loaded = loadStateDict(dir_ / "cpp.pt");
  ASSERT_EQ(loaded.size(), 2u) << "the DataParallel prefix is dropped";
  EXPECT_TRUE(at::equal(weightTensor(loaded.at("a")), dict.at("module.a")));
  EXPECT_TRUE(at::equal(weightTensor(loaded.at("b")), at::ones({3}, at::kFloat)))
      << "doubles arrive as float";
}

TEST_F(ModelLoaderTest, StateDictIsFoundInsideACheckpoint) {
  c10::Dict<std::string, at::Tensor> weights;
  weights.insert("conv.weight", at::randn({2, 3, 1, 1}));
  c10::impl::GenericDict checkpoint(c10::StringType::get(), c10::AnyType::get());
  checkpoint.insert("epoch", 3);
  checkpoint.insert("state_dict", weights);
  const std::vector<char> bytes = torch::jit::pickle_save(checkpoint);
  std::ofstream(dir_ / "ckpt.pth", std::ios::binary)
      .write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  const StateDict loaded = loadStateDict(dir_ / "ckpt.pth");
  ASSERT_EQ(loaded.count("conv.weight"), 1u);
  EXPECT_TRUE(at::equal(weightTensor(loaded.at("conv.weight")), weights.at("conv.weight")));
}

TEST_F(ModelLoaderTest, ForgedTensorBeyondItsStorageIsRefused) {
  const std::vector<test::LegacyStorage> storages{{"0", at::randn({4})}};
  test::LegacyTensor tensor;
  tensor.name = "w";
  tensor.storageKey = "0";
  tensor.size = {10};
  tensor.stride = {1};
  const std::string pickle = test::legacyStateDictPickle(storages, {tensor});
  {
    caffe2::serialize::PyTorchStreamWriter writer((dir_ / "forged.pth").string());
    writer.writeRecord("data.pkl", pickle.data(), pickle.size());
    writer.writeRecord("data/0", storages[0].data.data_ptr(), 16);
    writer.writeEndOfFile();
  }
  EXPECT_THAT(modelError([&] { loadStateDict(dir_ / "forged.pth"); }),
              AllOf(HasSubstr("forged.pth"), HasSubstr("past the end of its storage")));
}

TEST_F(ModelLoaderTest, DamagedZipStateDictIsAModelError) {
  writePythonZipStateDict(dir_ / "ok.pth", {{"w", at::randn({64})}});
  std::ifstream in(dir_ / "ok.pth", std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), {});
  writeText(dir_ / "cut.pth", bytes.substr(0, bytes.size() / 2));
  EXPECT_THAT(modelError([&] { loadStateDict(dir_ / "cut.pth"); }), HasSubstr("cut.pth"));
}

TEST_F(ModelLoaderTest, LegacyStateDictGoesThroughTheLegacyReader) {
  const auto w1 = at::randn({5, 3, 3, 3});
  const auto b1 = at::randn({5});
  const auto w2 = at::randn({2, 5, 1, 1});
  test::writeBytes(dir_ / "topo.pth",
                   test::legacyFile({{"features.0.weight", w1}, {"features.0.bias", b1}, {"c2.weight", w2}}));
  writeText(dir_ / "topo.json", kTopologyManifest);
  const ModelPtr model = loadModelFile(dir_ / "topo.pth");
  EXPECT_TRUE(at::equal(weightTensor(model->layers()[0].weight), w1));
  EXPECT_TRUE(at::equal(weightTensor(model->layers()[3].weight), w2));
}

TEST_F(ModelLoaderTest, UnknownStateDictAsksForAManifest) {
  writePythonZipStateDict(dir_ / "mystery.pth", {{"encoder.0.weight", at::randn({4, 3, 3, 3})}});
  const std::string message = modelError([&] { loadModelFile(dir_ / "mystery.pth"); });
  EXPECT_THAT(message, HasSubstr("encoder.0.weight"));
  EXPECT_THAT(message, HasSubstr("mystery.json"));
  EXPECT_THAT(message, HasSubstr("\"architecture\""));
  EXPECT_THAT(message, HasSubstr("\"topology\""));
}

// Random weights with darknet-reference's shapes (392,608 parameters).
std::vector<std::pair<std::string, at::Tensor>> darknetShapedWeights() {
  std::vector<std::pair<std::string, at::Tensor>> tensors;
  std::int64_t in = 3;
  for (int i = 1; i <= 5; ++i) {
    const std::int64_t out = 16 << (i - 1);
    tensors.emplace_back("conv" + std::to_string(i) + ".weight", at::randn({out, in, 3, 3}) * 0.1);
    tensors.emplace_back("conv" + std::to_string(i) + ".bias", at::randn({out}) * 0.1);
    in = out;
  }
  return tensors;
}

TEST_F(ModelLoaderTest, BuiltInTopologyCompletesAManifestWithoutOne) {
  writePythonZipStateDict(dir_ / "dn.pth", darknetShapedWeights());
  // Like ../shared/models/darknet-reference/darknet-reference-conv5.json: no topology.
  writeText(dir_ / "dn.json", R"({"name": "darknet-reference", "default_content_layer": "leaky4"})");
  const ModelPtr model = loadModelFile(dir_ / "dn.pth");
  EXPECT_EQ(model->manifest().name, "darknet-reference");
  EXPECT_EQ(model->layerNames().size(), 14u);
  EXPECT_EQ(model->layers()[2].padAfter, 1);

  // No manifest at all: the keys and shapes identify the built-in model.
  fs::remove(dir_ / "dn.json");
  const ModelPtr bare = loadModelFile(dir_ / "dn.pth");
  EXPECT_EQ(bare->manifest().name, "darknet-reference");
  EXPECT_EQ(bare->manifest().defaultContentLayer, "leaky4");
  EXPECT_TRUE(bare->manifest().files.empty());
}

TEST(VggTest, TopologyNamesAndTorchvisionIndices) {
  const auto vgg19 = vggTopology(VggDepth::Vgg19);
  ASSERT_EQ(vgg19.size(), 37u);
  EXPECT_EQ(vgg19.front().name, "conv1_1");
  EXPECT_EQ(vgg19[1].name, "relu1_1");
  EXPECT_EQ(vgg19[4].name, "pool1");
  EXPECT_EQ(vgg19.back().name, "pool5");
  std::vector<int> convIndices;
  for (const auto& l : vgg19)
    if (l.kind == LayerKind::Conv) convIndices.push_back(l.featureIndex);
  EXPECT_EQ(convIndices, (std::vector<int>{0, 2, 5, 7, 10, 12, 14, 16, 19, 21, 23, 25, 28, 30, 32, 34}));
  for (std::size_t i = 0; i < vgg19.size(); ++i) EXPECT_EQ(vgg19[i].featureIndex, static_cast<int>(i));

  const auto vgg16 = vggTopology(VggDepth::Vgg16);
  ASSERT_EQ(vgg16.size(), 31u);
  EXPECT_EQ(vgg16[28].name, "conv5_3");
  EXPECT_EQ(vgg16[28].inChannels, 512);
  EXPECT_EQ(vgg16[29].name, "relu5_3");
  EXPECT_EQ(vgg16[10].name, "conv3_1");
  EXPECT_EQ(vgg16[10].inChannels, 128);
  EXPECT_EQ(vgg16[10].outChannels, 256);

  const ModelManifest caffe = vggManifest(VggDepth::Vgg19, VggWeights::Caffe);
  EXPECT_TRUE(caffe.input.bgr);
  EXPECT_FLOAT_EQ(caffe.input.scale, 255.f);
  EXPECT_FLOAT_EQ(caffe.input.mean[0], 103.939f);
  EXPECT_EQ(caffe.defaultStyleLayers,
            (std::vector<std::string>{"relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1"}));
  EXPECT_EQ(caffe.defaultContentLayer, "relu4_2");
  const ModelManifest tv = vggManifest(VggDepth::Vgg16, VggWeights::Torchvision);
  EXPECT_FALSE(tv.input.bgr);
  EXPECT_FLOAT_EQ(tv.input.std[2], 0.225f);
  EXPECT_EQ(guessVggWeights("vgg19-d01eb7cb.pth"), VggWeights::Caffe);
  EXPECT_EQ(guessVggWeights("vgg19-dcbb9e9d.pth"), VggWeights::Torchvision);
}

StateDict vggStateDict(VggDepth depth) {
  StateDict dict;
  for (const auto& l : vggTopology(depth))
    if (l.kind == LayerKind::Conv) {
      const std::string key = "features." + std::to_string(l.featureIndex);
      dict[key + ".weight"] = weightArray(at::empty({l.outChannels, l.inChannels, 3, 3}));
      dict[key + ".bias"] = weightArray(at::empty({l.outChannels}));
    }
  dict["classifier.0.weight"] = weightArray(at::empty({4, 8}));
  return dict;
}

TEST(VggTest, MapsTorchvisionKeysAndChecksShapes) {
  StateDict dict = vggStateDict(VggDepth::Vgg19);
  EXPECT_EQ(guessVggDepth(dict), VggDepth::Vgg19);
  const auto layers = vggLayers(VggDepth::Vgg19, dict, "vgg19.pth");
  ASSERT_EQ(layers.size(), 37u);
  EXPECT_EQ(layers[21].name, "conv4_2");
  EXPECT_EQ(layers[21].weight.data(), dict.at("features.21.weight").data()) << "shared, not copied";
  EXPECT_EQ(layers[21].padding, 1);
  EXPECT_EQ(layers[36].kind, LayerKind::MaxPool);
  EXPECT_EQ(layers[36].kernel, 2);
  EXPECT_EQ(layers[36].stride, 2);

  EXPECT_EQ(guessVggDepth(vggStateDict(VggDepth::Vgg16)), VggDepth::Vgg16);
  StateDict notVgg;
  notVgg["features.0.weight"] = weightArray(at::empty({64, 3, 3, 3}));
  EXPECT_FALSE(guessVggDepth(notVgg).has_value());

  dict["features.10.weight"] = weightArray(at::empty({256, 64, 3, 3}));
  const std::string message = modelError([&] { vggLayers(VggDepth::Vgg19, dict, "vgg19.pth"); });
  EXPECT_THAT(message, HasSubstr("features.10.weight has shape [256, 64, 3, 3], expected [256, 128, 3, 3]"));
  EXPECT_THAT(message, HasSubstr("is this a VGG-19 file?"));
  EXPECT_THAT(modelError([&] { vggLayers(VggDepth::Vgg19, vggStateDict(VggDepth::Vgg16), "x.pth"); }),
              HasSubstr("is this a VGG-19 file?"));
}

// Caffe's protobuf field numbers (caffe.proto).
test::ProtoWriter caffeBlob(const at::Tensor& t) {
  test::ProtoWriter shape;
  shape.packedVarints(1, t.sizes().vec());
  const at::Tensor c = t.contiguous();
  test::ProtoWriter blob;
  blob.message(7, shape).packedFloats(
      5, std::vector<float>(c.data_ptr<float>(), c.data_ptr<float>() + c.numel()));
  return blob;
}

test::ProtoWriter caffeLayer(const std::string& name, const std::string& type,
                             const std::vector<at::Tensor>& blobs) {
  test::ProtoWriter layer;
  layer.bytes(1, name).bytes(2, type);
  for (const auto& b : blobs) layer.message(7, caffeBlob(b));
  return layer;
}

TEST_F(ModelLoaderTest, CaffeModelLoadsWithItsPrototxt) {
  writeText(dir_ / "tiny.prototxt", R"(name: "tiny"
input: "data"
input_shape { dim: 1 dim: 3 dim: 16 dim: 16 }
layer { name: "conv1_1" type: "Convolution" bottom: "data" top: "conv1_1"
        convolution_param { num_output: 4 pad: 1 kernel_size: 3 } }
layer { name: "relu1_1" type: "ReLU" bottom: "conv1_1" top: "conv1_1" relu_param { negative_slope: 0.25 } }
layer { name: "pool1" type: "Pooling" bottom: "conv1_1" top: "pool1" pooling_param { pool: MAX kernel_size: 2 stride: 2 } }
layer { name: "conv2_1" type: "Convolution" bottom: "pool1" top: "conv2_1"
        convolution_param { num_output: 2 kernel_size: 1 } }
layer { name: "relu2_1" type: "ReLU" bottom: "conv2_1" top: "conv2_1" }
layer { name: "fc6" type: "InnerProduct" bottom: "conv2_1" top: "fc6" inner_product_param { num_output: 3 } }
)");
  const auto w1 = at::randn({4, 3, 3, 3});
  const auto b1 = at::randn({4});
  const auto w2 = at::randn({2, 4, 1, 1});
  const auto b2 = at::randn({2});
  test::ProtoWriter net;
  net.bytes(1, "tiny");
  net.message(100, caffeLayer("conv1_1", "Convolution", {w1, b1}));
  net.message(100, caffeLayer("relu1_1", "ReLU", {}));
  net.message(100, caffeLayer("conv2_1", "Convolution", {w2, b2}));
  net.message(100, caffeLayer("fc6", "InnerProduct", {at::randn({3, 128}), at::randn({3})}));
  writeText(dir_ / "tiny.caffemodel", net.str());

  const ModelPtr model = loadModelFile(dir_ / "tiny.caffemodel");
  EXPECT_EQ(model->layerNames(),
            (std::vector<std::string>{"conv1_1", "relu1_1", "pool1", "conv2_1", "relu2_1"}));
  const auto& l = model->layers();
  EXPECT_TRUE(at::equal(weightTensor(l[0].weight), w1));
  EXPECT_TRUE(at::equal(weightTensor(l[0].bias), b1));
  EXPECT_EQ(l[0].padding, 1);
  EXPECT_EQ(l[1].kind, LayerKind::LeakyReLU);
  EXPECT_NEAR(l[1].negativeSlope, 0.25, 1e-6);
  EXPECT_EQ(l[2].kind, LayerKind::MaxPool);
  EXPECT_TRUE(l[2].ceilMode) << "Caffe pools in ceil mode";
  EXPECT_TRUE(at::equal(weightTensor(l[3].weight), w2));
  EXPECT_EQ(l[4].kind, LayerKind::ReLU);
  EXPECT_EQ(model->manifest().format, "caffe");

  fs::remove(dir_ / "tiny.prototxt");
  EXPECT_THAT(modelError([&] { loadModelFile(dir_ / "tiny.caffemodel"); }), HasSubstr("tiny.prototxt"));
}

TEST(CaffeVggPrototxtTest, BuiltInDeployFilesHaveTheClassicLayerNames) {
  for (const VggDepth depth : {VggDepth::Vgg16, VggDepth::Vgg19}) {
    const std::string stem = depth == VggDepth::Vgg16 ? "VGG_ILSVRC_16_layers" : "VGG_ILSVRC_19_layers";
    const auto prototxt = findCaffePrototxt("/nowhere/" + stem + ".caffemodel");
    ASSERT_TRUE(prototxt.has_value()) << stem;
    EXPECT_TRUE(prototxt->file.empty()) << "compiled in, not read from the source tree";
    const std::string text(prototxt->builtinText);
    cv::dnn::Net net = cv::dnn::readNetFromCaffe(text.data(), text.size());
    std::vector<std::string> names;
    for (const auto& n : net.getLayerNames()) names.push_back(n);
    std::vector<std::string> expected;
    for (const auto& l : vggTopology(depth)) expected.push_back(l.name);
    EXPECT_EQ(names, expected) << stem;
  }
  EXPECT_FALSE(findCaffePrototxt("/somewhere/other.caffemodel").has_value());
}

TEST_F(ModelLoaderTest, VggCaffeWeightsWithoutADeployFileUseTheBuiltInOne) {
  // Not real VGG weights: OpenCV refuses them, and the message shows which
  // prototxt was tried.
  writeText(dir_ / "VGG_ILSVRC_19_layers.caffemodel", "not a caffemodel");
  EXPECT_THAT(modelError([&] { loadModelFile(dir_ / "VGG_ILSVRC_19_layers.caffemodel"); }),
              HasSubstr("vgg19_deploy.prototxt (built in)"));
  // A deploy file beside the weights wins over the built-in one.
  writeText(dir_ / "VGG_ILSVRC_19_layers.prototxt", "name: \"broken\"");
  EXPECT_THAT(modelError([&] { loadModelFile(dir_ / "VGG_ILSVRC_19_layers.caffemodel"); }),
              HasSubstr((dir_ / "VGG_ILSVRC_19_layers.prototxt").string()));
}

TEST(DnnLayerNamesTest, PyTorchExportNamesBecomeModuleNames) {
  EXPECT_EQ(friendlyLayerName("onnx_node!/conv1/Conv"), "conv1");
  EXPECT_EQ(friendlyLayerName("/features/features.0/Conv"), "features.0");
  EXPECT_EQ(friendlyLayerName("/leaky1/LeakyRelu_output_0"), "leaky1");
  EXPECT_EQ(friendlyLayerName("leaky5"), "leaky5");
  EXPECT_EQ(friendlyLayerName("conv1_1"), "conv1_1");
  EXPECT_EQ(friendlyLayerName("inception/3x3"), "inception/3x3");
}

// The real darknet-reference files, when this machine has them.
fs::path sharedDarknetDir() { return test::sharedDir() / "models" / "darknet-reference"; }

std::map<std::string, at::Tensor> activations(const Model& model, const at::Tensor& image) {
  at::NoGradGuard noGrad;
  const std::vector<std::string> layers{"leaky1", "leaky2", "leaky3", "leaky4", "leaky5"};
  FeatureExtractor extractor(model, layers);
  return extractor.forward(image);
}

TEST(SharedDarknetTest, OnnxAndPthFormsGiveTheSameActivations) {
  const fs::path dir = sharedDarknetDir();
  if (!fs::exists(dir / "darknet-reference-conv5.onnx") || !fs::exists(dir / "darknet-reference-conv5.pth"))
    GTEST_SKIP() << "no darknet-reference in " << dir << " (set IMPASTO_SHARED_DIR)";
  const ModelPtr onnx = loadModelFile(dir / "darknet-reference-conv5.onnx");
  const ModelPtr pth = loadModelFile(dir / "darknet-reference-conv5.pth");
  EXPECT_EQ(onnx->layerNames(), pth->layerNames());
  EXPECT_EQ(onnx->manifest().name, "darknet-reference");
  EXPECT_EQ(onnx->manifest().defaultContentLayer, "leaky4");
  // The ONNX export pools 2x2/2 without padding (floor); the .pth topology
  // uses Darknet's 'same' (bottom/right). They agree on even sizes.
  const LayerSpec& onnxPool = onnx->layers().at(2);
  EXPECT_EQ(onnxPool.kind, LayerKind::MaxPool);
  EXPECT_EQ(onnxPool.kernel, 2);
  EXPECT_EQ(onnxPool.stride, 2);
  EXPECT_EQ(onnxPool.padding, 0);
  EXPECT_EQ(onnxPool.padAfter, 0);
  EXPECT_FALSE(onnxPool.ceilMode);
  EXPECT_EQ(pth->layers().at(2).padAfter, 1);
  for (std::size_t i = 0; i < onnx->layers().size(); ++i)
    if (onnx->layers()[i].kind == LayerKind::Conv) {
      EXPECT_EQ(onnx->layers()[i].weight.values(), pth->layers()[i].weight.values())
          << onnx->layers()[i].name;
      EXPECT_EQ(onnx->layers()[i].bias.values(), pth->layers()[i].bias.values()) << onnx->layers()[i].name;
    }

  const at::Tensor image = at::rand({1, 3, 64, 96});
  const auto a = activations(*onnx, image);
  const auto b = activations(*pth, image);
  for (const auto& [name, value] : a) {
    EXPECT_EQ(value.sizes(), b.at(name).sizes()) << name;
    EXPECT_TRUE(at::allclose(value, b.at(name), 1e-5, 1e-6)) << name;
  }
  EXPECT_EQ(a.at("leaky5").size(1), 256);
  EXPECT_EQ(a.at("leaky5").size(2), 4);
}

TEST(SharedDarknetTest, PthTopologyPoolsLikeTheTensorFlowJsOriginalAtOddSizes) {
  const fs::path dir = sharedDarknetDir();
  if (!fs::exists(dir / "darknet-reference-conv5.pth") || !fs::exists(dir / "tfjs" / "model.json"))
    GTEST_SKIP() << "no darknet-reference in " << dir << " (set IMPASTO_SHARED_DIR)";
  const ModelPtr pth = loadModelFile(dir / "darknet-reference-conv5.pth");
  const ModelPtr tfjs = loadModelFile(dir / "tfjs" / "model.json");
  // Odd sizes: 'same' pooling rounds up (45 -> 23 -> 12 -> 6 -> 3).
  const at::Tensor image = at::rand({1, 3, 45, 67});
  const auto a = activations(*pth, image);
  const auto b = activations(*tfjs, image);
  for (const auto& [name, value] : a) {
    ASSERT_EQ(value.sizes(), b.at(name).sizes()) << name;
    EXPECT_TRUE(at::allclose(value, b.at(name), 1e-4, 1e-4)) << name << ": batch norm folded differently?";
  }
  EXPECT_EQ(a.at("leaky5").size(2), 3);
  EXPECT_EQ(a.at("leaky5").size(3), 5);
}

}  // namespace
}  // namespace impasto
