#include "core/models/tfjs_weights.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <nlohmann/json.hpp>

#include "tests/support/test_support.h"

namespace impasto {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

TEST(DequantizeTest, MapsEachCodeToMinPlusScaleTimesCode) {
  const std::uint8_t codes[] = {0, 1, 128, 255};
  const std::vector<float> values = dequantize(codes, 4, 0.5, -2.0);
  ASSERT_EQ(values.size(), 4u);
  EXPECT_FLOAT_EQ(values[0], -2.0f);
  EXPECT_FLOAT_EQ(values[1], -1.5f);
  EXPECT_FLOAT_EQ(values[2], 62.0f);
  EXPECT_FLOAT_EQ(values[3], 125.5f);

  const std::uint16_t wide[] = {0, 65535};
  const std::vector<float> wideValues = dequantize(wide, 2, 0.001, 1.0);
  EXPECT_FLOAT_EQ(wideValues[0], 1.0f);
  EXPECT_NEAR(wideValues[1], 66.535, 1e-4);
}

// A standalone weights manifest whose one shard holds a uint8-quantized, a
// float32 and a uint16-quantized tensor back to back (odd sizes, so the later
// ones start unaligned).
class QuantizedManifest {
 public:
  QuantizedManifest() : dir_("tfjs-weights") {
    std::string shard;
    for (std::uint8_t q : {3, 0, 255}) shard.push_back(static_cast<char>(q));
    const float floats[] = {1.25f, -7.5f};
    shard.append(reinterpret_cast<const char*>(floats), sizeof floats);
    const std::uint16_t wide[] = {2, 1000};
    shard.append(reinterpret_cast<const char*>(wide), sizeof wide);
    test::writeAll(dir_.path() / "net.bin", shard);
    manifest_ = json::array({{{"paths", {"net.bin"}},
                              {"weights",
                               {{{"name", "a/filters"},
                                 {"shape", {3}},
                                 {"dtype", "float32"},
                                 {"quantization", {{"dtype", "uint8"}, {"scale", 0.25}, {"min", -1.0}}}},
                                {{"name", "a/bias"}, {"shape", {1, 2}}, {"dtype", "float32"}},
                                {{"name", "b/weights"},
                                 {"shape", {2}},
                                 {"dtype", "float32"},
                                 {"quantization", {{"dtype", "uint16"}, {"scale", 0.5}, {"min", 10.0}}}}}}}});
    write();
  }
  void write() { test::writeAll(path(), manifest_.dump()); }
  fs::path path() const { return dir_.path() / "net-weights_manifest.json"; }
  json& manifest() { return manifest_; }
  const fs::path& dir() const { return dir_.path(); }

 private:
  test::ScratchDir dir_;
  json manifest_;
};

TEST(TfjsWeightStoreTest, DequantizesUint8AndUint16AndReadsFloat32BetweenThem) {
  QuantizedManifest fixture;
  TfjsWeightStore store = TfjsWeightStore::fromManifestFile(fixture.path());
  const WeightArray a = store.get("a/filters");
  EXPECT_EQ(a.shape(), (std::vector<std::int64_t>{3}));
  EXPECT_EQ(a.values(), (std::vector<float>{-1.0f + 0.25f * 3, -1.0f, -1.0f + 0.25f * 255}));
  const WeightArray bias = store.get("a/bias");
  EXPECT_EQ(bias.shape(), (std::vector<std::int64_t>{1, 2}));
  EXPECT_EQ(bias.values(), (std::vector<float>{1.25f, -7.5f}));
  EXPECT_EQ(store.get("b/weights").values(), (std::vector<float>{11.0f, 510.0f}));
  EXPECT_EQ(store.resolve("weights"), "b/weights");
}

TEST(TfjsWeightStoreTest, AShardOfTheWrongSizeIsAModelErrorThatSaysDownloadAgain) {
  QuantizedManifest fixture;
  test::writeAll(fixture.dir() / "net.bin", std::string(5, '\0'));
  TfjsWeightStore store = TfjsWeightStore::fromManifestFile(fixture.path());
  const Error error = test::captureError([&] { store.get("a/filters"); });
  EXPECT_EQ(error.kind(), ErrorKind::Model);
  EXPECT_NE(std::string(error.what()).find("download it again"), std::string::npos) << error.what();
}

TEST(TfjsWeightStoreTest, UnknownQuantizationAndUnknownNamesAreRefused) {
  QuantizedManifest fixture;
  fixture.manifest()[0]["weights"][0]["quantization"]["dtype"] = "float16";
  fixture.write();
  EXPECT_EQ(test::captureError([&] { TfjsWeightStore::fromManifestFile(fixture.path()); }).kind(),
            ErrorKind::Model);

  QuantizedManifest good;
  TfjsWeightStore store = TfjsWeightStore::fromManifestFile(good.path());
  EXPECT_EQ(test::captureError([&] { store.get("no/such"); }).kind(), ErrorKind::Model);
}

}  // namespace
}  // namespace impasto
