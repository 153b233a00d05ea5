#include "core/models/manifest.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "core/util/error.h"

namespace impasto {
namespace {

using ::testing::HasSubstr;

// The shape of ../shared/models/darknet-reference/darknet-reference-conv5.json.
const char* kDarknetManifest = R"({
  "name": "darknet-reference",
  "title": "Darknet Reference (ImageNet), conv blocks 1-5",
  "input": {"channel_order": "RGB", "scale": 1.0, "range": [0.0, 1.0], "mean": [0.0, 0.0, 0.0], "std": [1.0, 1.0, 1.0]},
  "layers": ["conv1", "leaky1", "pool1", "conv2", "leaky2"],
  "default_style_layers": ["leaky1", "leaky2"],
  "default_content_layer": "leaky2",
  "license": "public domain"
})";

// Parses json and returns the Error(Model) message it throws ("" if none).
std::string parseError(const std::string& json) {
  try {
    parseManifest(json, "test.json");
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::Model);
    return e.what();
  }
  return "";
}

TEST(ManifestTest, ParsesTheDarknetManifest) {
  const ModelManifest m = parseManifest(kDarknetManifest, "darknet.json");
  EXPECT_EQ(m.name, "darknet-reference");
  EXPECT_EQ(m.title, "Darknet Reference (ImageNet), conv blocks 1-5");
  EXPECT_FALSE(m.input.bgr);
  EXPECT_FLOAT_EQ(m.input.scale, 1.f);
  EXPECT_EQ(m.input.mean, (std::array<float, 3>{0.f, 0.f, 0.f}));
  EXPECT_EQ(m.layers, (std::vector<std::string>{"conv1", "leaky1", "pool1", "conv2", "leaky2"}));
  EXPECT_EQ(m.defaultStyleLayers, (std::vector<std::string>{"leaky1", "leaky2"}));
  EXPECT_EQ(m.defaultContentLayer, "leaky2");
  EXPECT_EQ(m.license, "public domain");
  EXPECT_TRUE(m.format.empty());
  EXPECT_FALSE(m.defaultAlpha.has_value());
  EXPECT_TRUE(m.topology.empty());
}

TEST(ManifestTest, ParsesCaffeStylePreprocessingAndOptionalFields) {
  const ModelManifest m = parseManifest(R"({
    "name": "vgg19", "format": "pth", "architecture": "vgg19",
    "input": {"channel_order": "BGR", "scale": 255, "mean": [103.939, 116.779, 123.68]},
    "default_alpha": 1.5, "default_beta": 1000,
    "files": [{"name": "vgg19-d01eb7cb.pth", "urls": ["https://a/x.pth", "https://b/x.pth"], "size": 12, "sha256": "D01EB7CB"}],
    "weights_file": "vgg19-d01eb7cb.pth",
    "provenance": "unknown fields are ignored"
  })",
                                        "vgg19.json");
  EXPECT_TRUE(m.input.bgr);
  EXPECT_FLOAT_EQ(m.input.scale, 255.f);
  EXPECT_FLOAT_EQ(m.input.mean[2], 123.68f);
  EXPECT_EQ(m.input.std, (std::array<float, 3>{1.f, 1.f, 1.f}));
  EXPECT_EQ(m.format, "pth");
  EXPECT_EQ(m.architecture, "vgg19");
  EXPECT_DOUBLE_EQ(m.defaultAlpha.value(), 1.5);
  EXPECT_DOUBLE_EQ(m.defaultBeta.value(), 1000.0);
  ASSERT_EQ(m.files.size(), 1u);
  EXPECT_EQ(m.files[0].urls.size(), 2u);
  EXPECT_EQ(m.files[0].size, 12);
  EXPECT_EQ(m.files[0].sha256, "d01eb7cb");
  EXPECT_EQ(m.weightsFile, "vgg19-d01eb7cb.pth");
}

TEST(ManifestTest, RangeSetsTheScaleAndFoldsItsLowEndIntoTheMean) {
  const ModelManifest byte = parseManifest(R"({"name": "a", "input": {"range": [0, 255]}})", "a.json");
  EXPECT_FLOAT_EQ(byte.input.scale, 255.f);
  const ModelManifest symmetric =
      parseManifest(R"({"name": "b", "input": {"range": [-1, 1], "mean": [0.5, 0, 0]}})", "b.json");
  // x = rgb * 2 - 1 - mean = rgb * 2 - (mean + 1)
  EXPECT_FLOAT_EQ(symmetric.input.scale, 2.f);
  EXPECT_FLOAT_EQ(symmetric.input.mean[0], 1.5f);
  EXPECT_FLOAT_EQ(symmetric.input.mean[1], 1.f);
  EXPECT_THAT(parseError(R"({"name": "c", "input": {"range": [0, 1], "scale": 255}})"),
              HasSubstr("input.scale"));
}

TEST(ManifestTest, ParsesATopologyWithDefaults) {
  const ModelManifest m = parseManifest(R"({"name": "t", "topology": [
    {"name": "conv1", "type": "conv", "stride": 1, "padding": 1},
    {"name": "leaky1", "type": "leaky_relu", "slope": 0.1},
    {"name": "pool1", "type": "max_pool", "kernel": 2, "pad_after": 1},
    {"name": "conv2", "type": "conv", "key": "features.3"},
    {"name": "relu2", "type": "relu"},
    {"name": "pool2", "type": "avg_pool", "kernel": 3, "stride": 2, "ceil_mode": true}
  ]})",
                                        "t.json");
  ASSERT_EQ(m.topology.size(), 6u);
  EXPECT_EQ(m.topology[0].type, "conv");
  EXPECT_EQ(m.topology[0].padding, 1);
  EXPECT_DOUBLE_EQ(m.topology[1].slope, 0.1);
  EXPECT_EQ(m.topology[2].kernel, 2);
  EXPECT_EQ(m.topology[2].stride, 2) << "pooling stride defaults to the kernel";
  EXPECT_EQ(m.topology[2].padAfter, 1);
  EXPECT_EQ(m.topology[3].key, "features.3");
  EXPECT_EQ(m.topology[3].stride, 1);
  EXPECT_EQ(m.topology[3].padding, 0);
  EXPECT_TRUE(m.topology[5].ceilMode);
  EXPECT_EQ(m.topology[5].stride, 2);
}

TEST(ManifestTest, ErrorsNameTheFileAndTheField) {
  EXPECT_THAT(parseError(R"({"title": "x"})"),
              AllOf(HasSubstr("test.json"), HasSubstr("\"name\" is missing")));
  EXPECT_THAT(parseError(R"({"name": 3})"), HasSubstr("\"name\" must be a string"));
  EXPECT_THAT(parseError(R"({"name": "a", "input": {"channel_order": "RBG"}})"),
              HasSubstr("input.channel_order"));
  EXPECT_THAT(parseError(R"({"name": "a", "input": {"mean": [1, 2]}})"), HasSubstr("input.mean"));
  EXPECT_THAT(parseError(R"({"name": "a", "input": {"std": [1, 0, 1]}})"), HasSubstr("input.std"));
  EXPECT_THAT(parseError(R"({"name": "a", "input": {"scale": -1}})"), HasSubstr("input.scale"));
  EXPECT_THAT(parseError(R"({"name": "a", "layers": ["x", "y"], "default_content_layer": "z"})"),
              AllOf(HasSubstr("default_content_layer"), HasSubstr("\"z\"")));
  EXPECT_THAT(parseError(R"({"name": "a", "layers": ["x"], "default_style_layers": ["x", "q"]})"),
              HasSubstr("default_style_layers"));
  EXPECT_THAT(parseError(R"({"name": "a", "layers": ["x", "x"]})"), HasSubstr("twice"));
  EXPECT_THAT(parseError(R"({"name": "a", "format": "keras"})"), HasSubstr("\"format\""));
  EXPECT_THAT(parseError(R"({"name": "a", "files": [{"name": "w.pth", "sha256": "xyz"}]})"),
              HasSubstr("files[0].sha256"));
  EXPECT_THAT(parseError(R"({"name": "a", "files": [{"name": "../w.pth"}]})"), HasSubstr("files[0].name"));
  EXPECT_THAT(parseError(R"({"name": "a", "files": [{"name": "w.pth", "max_size": -1}]})"),
              HasSubstr("files[0].max_size"));
  EXPECT_THAT(parseError(R"({"name": "a", "files": [{"name": "w.pth", "size": 10, "max_size": 9}]})"),
              AllOf(HasSubstr("files[0].max_size"), HasSubstr("smaller than \"size\"")));
  EXPECT_THAT(parseError(R"({"name": "a", "files": [{"name": "w.pth"}], "weights_file": "v.pth"})"),
              HasSubstr("weights_file"));
  EXPECT_THAT(
      parseError(
          R"({"name": "a", "topology": [{"name": "c", "type": "conv"}, {"name": "d", "type": "gelu"}]})"),
      AllOf(HasSubstr("topology[1].type"), HasSubstr("gelu")));
  EXPECT_THAT(parseError(R"({"name": "a", "topology": [{"name": "c", "type": "conv", "stride": 0}]})"),
              HasSubstr("topology[0].stride"));
  EXPECT_THAT(
      parseError(
          R"({"name": "a", "topology": [{"name": "c", "type": "conv"}, {"name": "c", "type": "relu"}]})"),
      HasSubstr("topology[1].name"));
  EXPECT_THAT(parseError(R"({"name": "a", "default_alpha": "big"})"), HasSubstr("default_alpha"));
  EXPECT_THAT(parseError("{\"name\": \"a\",,}"), AllOf(HasSubstr("test.json"), HasSubstr("not valid JSON")));
  EXPECT_THAT(parseError("[1, 2]"), HasSubstr("JSON object"));
}

// Found by tests/fuzz/fuzz_manifest: nlohmann::json reports a number too large
// for a double as out_of_range, not parse_error, and it escaped as such.
TEST(ManifestTest, ANumberBeyondDoubleRangeIsAnErrorNotAnEscapedJsonException) {
  EXPECT_THAT(parseError(R"({"name": "a", "input": {"scale": 1e400}})"),
              AllOf(HasSubstr("test.json"), HasSubstr("not valid JSON"), HasSubstr("1e400")));
  EXPECT_THAT(parseError(R"({"name": 1e400})"), HasSubstr("not valid JSON"));
}

TEST(ManifestTest, JsonRoundTripKeepsEveryField) {
  ModelManifest m = parseManifest(R"({
    "name": "net", "title": "A net", "format": "pth", "license": "MIT",
    "input": {"channel_order": "BGR", "scale": 255, "mean": [1, 2, 3], "std": [4, 5, 6]},
    "layers": ["c", "r", "p"], "default_style_layers": ["r"], "default_content_layer": "r",
    "default_alpha": 2, "default_beta": 3,
    "files": [{"name": "w.pth", "urls": ["https://x/w.pth"], "size": 10, "sha256": "abcd", "max_size": 12}],
    "weights_file": "w.pth",
    "topology": [{"name": "c", "type": "conv", "key": "features.0", "padding": 1},
                 {"name": "r", "type": "leaky_relu", "slope": 0.2},
                 {"name": "p", "type": "max_pool", "kernel": 2, "pad_after": 1}]
  })",
                                  "net.json");
  const ModelManifest back = parseManifest(manifestToJson(m), "round trip");
  EXPECT_EQ(back.name, m.name);
  EXPECT_EQ(back.title, m.title);
  EXPECT_EQ(back.format, m.format);
  EXPECT_EQ(back.license, m.license);
  EXPECT_EQ(back.input.bgr, true);
  EXPECT_FLOAT_EQ(back.input.scale, 255.f);
  EXPECT_EQ(back.input.mean, m.input.mean);
  EXPECT_EQ(back.input.std, m.input.std);
  EXPECT_EQ(back.layers, m.layers);
  EXPECT_EQ(back.defaultStyleLayers, m.defaultStyleLayers);
  EXPECT_EQ(back.defaultContentLayer, m.defaultContentLayer);
  EXPECT_EQ(back.defaultAlpha, m.defaultAlpha);
  EXPECT_EQ(back.defaultBeta, m.defaultBeta);
  ASSERT_EQ(back.files.size(), 1u);
  EXPECT_EQ(back.files[0].urls, m.files[0].urls);
  EXPECT_EQ(back.files[0].size, 10);
  EXPECT_EQ(back.files[0].sha256, "abcd");
  EXPECT_TRUE(back.files[0].sha256PrefixOnly());
  EXPECT_EQ(back.files[0].maxSize, 12);
  EXPECT_EQ(back.weightsFile, "w.pth");
  ASSERT_EQ(back.topology.size(), 3u);
  EXPECT_EQ(back.topology[0].key, "features.0");
  EXPECT_EQ(back.topology[0].padding, 1);
  EXPECT_DOUBLE_EQ(back.topology[1].slope, 0.2);
  EXPECT_EQ(back.topology[2].padAfter, 1);
  EXPECT_EQ(back.topology[2].stride, 2);
}

TEST(ManifestTest, ReadManifestReportsAMissingFile) {
  try {
    readManifest("/nonexistent/impasto/missing.json");
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::Model);
    EXPECT_THAT(e.what(), HasSubstr("missing.json"));
  }
}

TEST(ManifestTest, BuiltInDarknetManifestDescribesThePthLayout) {
  const ModelManifest m =
      readManifest(std::filesystem::path(IMPASTO_RESOURCE_DIR) / "models" / "darknet-reference.json");
  EXPECT_EQ(m.name, "darknet-reference");
  ASSERT_EQ(m.topology.size(), 14u);
  std::vector<std::string> names;
  for (const auto& t : m.topology) names.push_back(t.name);
  EXPECT_EQ(names, m.layers);
  EXPECT_EQ(m.topology[0].type, "conv");
  EXPECT_EQ(m.topology[0].padding, 1);
  EXPECT_DOUBLE_EQ(m.topology[1].slope, 0.1);
  EXPECT_EQ(m.topology[2].type, "max_pool");
  EXPECT_EQ(m.topology[2].stride, 2);
  EXPECT_EQ(m.topology[2].padAfter, 1) << "TensorFlow/Darknet 'same' pooling";
  EXPECT_EQ(m.defaultContentLayer, "leaky4");
  EXPECT_EQ(m.files.size(), 11u);
  EXPECT_EQ(m.weightsFile, "model.json");
}

}  // namespace
}  // namespace impasto
