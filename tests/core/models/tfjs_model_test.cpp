#include "tests/support/test_paths.h"
#include "core/models/tfjs_model.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <iterator>
#include <ATen/ops/constant_pad_nd.h>
#include <nlohmann/json.hpp>

#include "core/util/error.h"
#include "core/engine/tensor_convert.h"
#include "core/models/state_dict.h"
#include "tests/support/aten_ops.h"

namespace impasto {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

struct BatchNorm {
  at::Tensor gamma, beta, mean, var;
  double eps = 1e-3;

  static BatchNorm random(std::int64_t channels) {
    return {at::rand({channels}) + 0.5, at::randn({channels}), at::randn({channels}),
            at::rand({channels}) + 0.1};
  }
  at::Tensor apply(const at::Tensor& x) const {
    auto v = [](const at::Tensor& t) { return t.view({1, -1, 1, 1}); };
    return (x - v(mean)) / at::sqrt(v(var) + eps) * v(gamma) + v(beta);
  }
};

// Writes a Keras-style model.json and its float32 shards, one group per layer.
class TfjsFixture {
 public:
  explicit TfjsFixture(fs::path dir) : dir_(std::move(dir)) { fs::create_directories(dir_); }

  void input() {
    add({{"class_name", "InputLayer"},
         {"config",
          {{"name", "input_1"}, {"batch_input_shape", {nullptr, 256, 256, 3}}, {"dtype", "float32"}}}},
        "input_1");
  }

  // weight is torch's [out, in, kh, kw]; it is stored the Keras way, [kh, kw, in, out].
  void conv(const std::string& name, const at::Tensor& weight, const at::Tensor& bias,
            const std::string& padding = "same", int shardsOfKernel = 1) {
    json config = {{"name", name},
                   {"filters", weight.size(0)},
                   {"kernel_size", {weight.size(2), weight.size(3)}},
                   {"strides", {1, 1}},
                   {"padding", padding},
                   {"data_format", "channels_last"},
                   {"dilation_rate", {1, 1}},
                   {"activation", "linear"},
                   {"use_bias", bias.defined()}};
    add({{"class_name", "Conv2D"}, {"config", config}}, name);
    std::vector<std::pair<std::string, at::Tensor>> weights = {
        {name + "/kernel", weight.permute({2, 3, 1, 0})}};
    if (bias.defined()) weights.emplace_back(name + "/bias", bias);
    group(weights, shardsOfKernel);
  }

  void batchNorm(const std::string& name, const BatchNorm& bn) {
    add({{"class_name", "BatchNormalization"},
         {"config", {{"name", name}, {"axis", -1}, {"epsilon", bn.eps}, {"center", true}, {"scale", true}}}},
        name);
    group({{name + "/gamma", bn.gamma},
           {name + "/beta", bn.beta},
           {name + "/moving_mean", bn.mean},
           {name + "/moving_variance", bn.var}});
  }

  void leaky(const std::string& name, double alpha) {
    add({{"class_name", "LeakyReLU"}, {"config", {{"name", name}, {"alpha", alpha}}}}, name);
  }
  void relu(const std::string& name) {
    add({{"class_name", "Activation"}, {"config", {{"name", name}, {"activation", "relu"}}}}, name);
  }
  void maxPool(const std::string& name, const std::string& padding) {
    add({{"class_name", "MaxPooling2D"},
         {"config", {{"name", name}, {"pool_size", {2, 2}}, {"strides", {2, 2}}, {"padding", padding}}}},
        name);
  }
  void other(const std::string& cls, const std::string& name) {
    add({{"class_name", cls}, {"config", {{"name", name}}}}, name);
  }

  fs::path write() const {
    json root = {{"modelTopology",
                  {{"keras_version", "2.1.4"},
                   {"backend", "tensorflow"},
                   {"model_config",
                    {{"class_name", "Model"}, {"config", {{"name", "model_1"}, {"layers", layers_}}}}}}},
                 {"weightsManifest", manifest_}};
    const fs::path path = dir_ / "model.json";
    std::ofstream(path) << root.dump(1);
    return path;
  }

  fs::path shard(int group, int index = 1, int count = 1) const {
    return dir_ / ("group" + std::to_string(group) + "-shard" + std::to_string(index) + "of" +
                   std::to_string(count));
  }

 private:
  void add(json layer, const std::string& name) {
    layer["name"] = name;
    layer["inbound_nodes"] =
        previous_.empty() ? json::array()
                          : json::array({json::array({json::array({previous_, 0, 0, json::object()})})});
    layers_.push_back(std::move(layer));
    previous_ = name;
  }

  void group(const std::vector<std::pair<std::string, at::Tensor>>& weights, int shards = 1) {
    const int index = static_cast<int>(manifest_.size()) + 1;
    std::string bytes;
    json entries = json::array();
    for (const auto& [name, t] : weights) {
      const at::Tensor c = t.to(at::kFloat).contiguous();
      bytes.append(static_cast<const char*>(c.data_ptr()), c.numel() * sizeof(float));
      entries.push_back({{"name", name}, {"shape", c.sizes().vec()}, {"dtype", "float32"}});
    }
    json paths = json::array();
    const std::size_t chunk = (bytes.size() + shards - 1) / shards;
    for (int s = 0; s < shards; ++s) {
      const fs::path path = shard(index, s + 1, shards);
      std::ofstream(path, std::ios::binary) << bytes.substr(s * chunk, chunk);
      paths.push_back(path.filename().string());
    }
    manifest_.push_back({{"paths", paths}, {"weights", entries}});
  }

  fs::path dir_;
  json layers_ = json::array();
  json manifest_ = json::array();
  std::string previous_;
};

// Runs the chain the way the feature extractor does.
at::Tensor run(const std::vector<LayerSpec>& layers, at::Tensor x) {
  for (const auto& l : layers) {
    switch (l.kind) {
      case LayerKind::Conv:
        x = at::conv2d(x, weightTensor(l.weight), weightTensor(l.bias), l.stride, l.padding);
        break;
      case LayerKind::ReLU:
        x = at::relu(x);
        break;
      case LayerKind::LeakyReLU:
        x = at::leaky_relu(x, l.negativeSlope);
        break;
      case LayerKind::MaxPool:
        x = at::max_pool2d(x, l.kernel, l.stride, l.padding, 1, l.ceilMode || l.padAfter > 0);
        break;
      case LayerKind::AvgPool:
        ADD_FAILURE() << "unexpected average pooling";
        break;
    }
  }
  return x;
}

// TensorFlow's 'same' 2x2/2 max pooling: pad bottom/right to even, then pool.
at::Tensor tfSameMaxPool(const at::Tensor& x) {
  const std::int64_t padH = x.size(2) % 2, padW = x.size(3) % 2;
  return at::max_pool2d(at::constant_pad_nd(x, {0, padW, 0, padH}, -INFINITY), 2);
}

std::vector<std::string> names(const std::vector<LayerSpec>& layers) {
  std::vector<std::string> out;
  for (const auto& l : layers) out.push_back(l.name);
  return out;
}

class TfjsModelTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("impasto_tfjs_" + std::to_string(::getpid()) + "_" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    at::manual_seed(5);
    w1_ = at::randn({4, 3, 3, 3});
    b1_ = at::randn({4});
    w2_ = at::randn({5, 4, 3, 3});
    bn1_ = BatchNorm::random(4);
    bn2_ = BatchNorm::random(5);
  }
  void TearDown() override { fs::remove_all(dir_); }

  // conv-BN-leaky-pool, conv(no bias, kernel in two shards)-BN-relu-pool, then a classifier head.
  fs::path writeTwoBlockModel() {
    TfjsFixture f(dir_);
    f.input();
    f.conv("conv2d_1", w1_, b1_);                // group 1
    f.batchNorm("batch_normalization_1", bn1_);  // group 2
    f.leaky("leaky_re_lu_1", 0.2);
    f.maxPool("max_pooling2d_1", "same");
    f.conv("conv2d_2", w2_, {}, "same", 2);      // group 3, two shards
    f.batchNorm("batch_normalization_2", bn2_);  // group 4
    f.relu("activation_1");
    f.maxPool("max_pooling2d_2", "same");
    f.other("Flatten", "flatten_1");
    f.other("Dense", "dense_1");
    return f.write();
  }

  fs::path dir_;
  at::Tensor w1_, b1_, w2_;
  BatchNorm bn1_, bn2_;
};

TEST_F(TfjsModelTest, FoldsBatchNormAndMatchesTheKerasComputation) {
  const auto layers = readTfjsLayers(writeTwoBlockModel());
  EXPECT_EQ(names(layers), (std::vector<std::string>{"conv1", "leaky1", "pool1", "conv2", "relu2"}));
  ASSERT_EQ(layers.size(), 5u);
  EXPECT_EQ(layers[0].weight.shape(), (std::vector<std::int64_t>{4, 3, 3, 3}));
  EXPECT_EQ(layers[0].padding, 1);
  EXPECT_DOUBLE_EQ(layers[1].negativeSlope, 0.2);
  EXPECT_EQ(layers[2].kernel, 2);
  EXPECT_EQ(layers[2].stride, 2);
  EXPECT_EQ(layers[2].padAfter, 1);
  EXPECT_FALSE(layers[2].ceilMode);       // padAfter alone; both would round twice where padAfter is padding
  ASSERT_TRUE(layers[3].bias.defined());  // BN supplies a bias to a conv that had none

  // Odd sizes exercise TF's 'same' pooling.
  const at::Tensor x = at::randn({2, 3, 7, 9});
  at::Tensor expected = bn1_.apply(at::conv2d(x, w1_, b1_, 1, 1));
  expected = tfSameMaxPool(at::leaky_relu(expected, 0.2));
  expected = at::relu(bn2_.apply(at::conv2d(expected, w2_, {}, 1, 1)));
  const at::Tensor actual = run(layers, x);
  ASSERT_EQ(actual.sizes(), expected.sizes());
  EXPECT_TRUE(at::allclose(actual, expected, 1e-4, 1e-5)) << (actual - expected).abs().max().item<float>();
}

TEST_F(TfjsModelTest, RefusesAShardOfTheWrongSize) {
  TfjsFixture files(dir_);
  const fs::path model = writeTwoBlockModel();
  std::ofstream(files.shard(2), std::ios::binary | std::ios::app) << "junk";
  try {
    readTfjsLayers(model);
    FAIL() << "a damaged shard was accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::Model);
    EXPECT_NE(std::string(e.what()).find("group2-shard1of1"), std::string::npos) << e.what();
  }
}

TEST_F(TfjsModelTest, AMissingShardEndsTheChainBeforeItsLayer) {
  TfjsFixture files(dir_);
  const fs::path model = writeTwoBlockModel();
  fs::remove(files.shard(3, 2, 2));  // half of conv2's kernel
  const auto layers = readTfjsLayers(model);
  // pool1 would end the chain with nothing after it, so it goes too.
  EXPECT_EQ(names(layers), (std::vector<std::string>{"conv1", "leaky1"}));
}

TEST_F(TfjsModelTest, AMissingBatchNormShardEndsTheChainBeforeItsConv) {
  TfjsFixture files(dir_);
  const fs::path model = writeTwoBlockModel();
  fs::remove(files.shard(4));
  EXPECT_EQ(names(readTfjsLayers(model)), (std::vector<std::string>{"conv1", "leaky1"}));
}

TEST_F(TfjsModelTest, RefusesAModelWhoseFirstWeightsAreMissing) {
  TfjsFixture files(dir_);
  const fs::path model = writeTwoBlockModel();
  fs::remove(files.shard(1));
  try {
    readTfjsLayers(model);
    FAIL() << "a model without weights was accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::Model);
    EXPECT_NE(std::string(e.what()).find("missing"), std::string::npos) << e.what();
  }
}

// A downloaded model names its shards; none may be read from outside its folder.
TEST_F(TfjsModelTest, ShardPathsThatLeaveTheModelFolderAreRefused) {
  TfjsFixture files(dir_);
  const fs::path model = writeTwoBlockModel();
  const fs::path outside = dir_.parent_path() / (dir_.filename().string() + "-outside");
  fs::create_directories(outside);
  fs::copy_file(files.shard(1), outside / "stolen", fs::copy_options::overwrite_existing);
  json root = json::parse(std::ifstream(model));
  const std::pair<std::string, std::string> cases[] = {
      {"../" + outside.filename().string() + "/stolen", "climbs out"},
      {(outside / "stolen").string(), "absolute path"},
      {"link-out", "a link that leads out"},
  };
  fs::create_symlink(outside / "stolen", dir_ / "link-out");
  for (const auto& [path, why] : cases) {
    root["weightsManifest"][0]["paths"][0] = path;
    std::ofstream(model) << root.dump();
    try {
      readTfjsLayers(model);
      ADD_FAILURE() << "read a shard from " << path;
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorKind::Model);
      EXPECT_NE(std::string(e.what()).find(why), std::string::npos) << e.what();
    }
  }
  fs::remove_all(outside);
}

TEST_F(TfjsModelTest, AModelJsonNestedAMillionLevelsDeepIsRefusedWithoutCrashing) {
  fs::create_directories(dir_);
  const fs::path path = dir_ / "model.json";
  std::ofstream(path) << R"({"modelTopology": )" << std::string(1000000, '[') << std::string(1000000, ']') << "}";
  try {
    readTfjsLayers(path);
    FAIL() << "a hostile model.json was read";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::Model);
    EXPECT_NE(std::string(e.what()).find("nests deeper than 64 levels"), std::string::npos) << e.what();
  }
}

TEST_F(TfjsModelTest, RefusesMalformedModelJson) {
  fs::create_directories(dir_);
  const fs::path path = dir_ / "model.json";
  for (const std::string text :
       {"{not json", "[]", R"({"modelTopology": {}})",
        R"({"modelTopology": {"config": {"layers": [{"class_name": "Conv2D", "config": 3}]}},
                                     "weightsManifest": []})"}) {
    std::ofstream(path) << text;
    EXPECT_THROW(
        {
          try {
            readTfjsLayers(path);
          } catch (const Error& e) {
            EXPECT_EQ(e.kind(), ErrorKind::Model) << e.what();
            throw;
          }
        },
        Error)
        << text;
  }
}

// The real Darknet Reference download (blocks 1-5 only) against the folded
// weights of its ONNX/.pth export.
TEST(TfjsModelRealTest, DarknetReferenceMatchesItsFoldedExport) {
  const fs::path dir = test::sharedDir() / "models" / "darknet-reference";
  if (!fs::exists(dir / "tfjs" / "model.json") || !fs::exists(dir / "darknet-reference-conv5.pth"))
    GTEST_SKIP() << "no shared models at " << dir;

  const auto layers = readTfjsLayers(dir / "tfjs" / "model.json");
  std::ifstream facts(dir / "darknet-reference-conv5.json");
  const auto expectedNames = json::parse(facts).at("layers").get<std::vector<std::string>>();
  EXPECT_EQ(names(layers), expectedNames);

  // The .pth through the production state_dict reader (zip format).
  const StateDict dict = loadStateDict(dir / "darknet-reference-conv5.pth");
  int convs = 0;
  for (const auto& l : layers) {
    if (l.kind == LayerKind::Conv) {
      ++convs;
      const at::Tensor w = weightTensor(dict.at(l.name + ".weight"));
      const at::Tensor b = weightTensor(dict.at(l.name + ".bias"));
      ASSERT_EQ(l.weight.shape(), w.sizes().vec()) << l.name;
      const float weightDiff = (weightTensor(l.weight) - w).abs().max().item<float>();
      const float biasDiff = (weightTensor(l.bias) - b).abs().max().item<float>();
      EXPECT_LT(weightDiff, 2e-6) << l.name;
      EXPECT_LT(biasDiff, 2e-6) << l.name;
      EXPECT_EQ(l.padding, 1);
    } else if (l.kind == LayerKind::LeakyReLU) {
      EXPECT_NEAR(l.negativeSlope, 0.1, 1e-6);
    } else if (l.kind == LayerKind::MaxPool) {
      EXPECT_EQ(l.kernel, 2);
      EXPECT_EQ(l.padAfter, 1);
    }
  }
  EXPECT_EQ(convs, 5);
}

}  // namespace
}  // namespace impasto
