// Model files built to exhaust memory or to smuggle absurd geometry or
// non-finite numbers past the loaders. Readers that could allocate without
// bound run in a child process with a memory limit (test::runBounded), so a
// regression fails the test instead of the machine.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <limits>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/models/manifest.h"
#include "core/models/model.h"
#include "core/models/state_dict.h"
#include "core/models/torch_pickle.h"
#include "core/util/error.h"
#include "tests/support/aten_ops.h"
#include "tests/support/onnx_writer.h"
#include "tests/support/pickle_writer.h"
#include "tests/support/test_support.h"

namespace impasto {
namespace {

namespace fs = std::filesystem;
using test::BoundedOutcome;
using test::PickleWriter;
using ::testing::AllOf;
using ::testing::HasSubstr;

// Far below what the bombs below would take without their defence (tens of
// gigabytes), far above what reading them takes with it.
constexpr std::size_t kMemoryLimit = std::size_t{512} << 20;

// fn must end in Error(Model), within the memory limit; returns the message.
std::string boundedModelError(const std::function<void()>& fn) {
  const BoundedOutcome outcome = test::runBounded(fn, kMemoryLimit);
  EXPECT_EQ(outcome.end, BoundedOutcome::End::ThrewError) << test::describe(outcome);
  EXPECT_EQ(outcome.kind, ErrorKind::Model) << outcome.message;
  EXPECT_LT(outcome.message.size(), 1000u) << "long names from the file are cut short in messages";
  if (std::getenv("IMPASTO_TEST_VERBOSE")) std::printf("    %s\n", test::describe(outcome).c_str());
  return outcome.message;
}

// ------------------------------------------------------------------ zip files

std::uint32_t crc32(const std::string& bytes) {
  std::uint32_t crc = 0xFFFFFFFFu;
  for (unsigned char byte : bytes) {
    crc ^= byte;
    for (int k = 0; k < 8; ++k) crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
  }
  return ~crc;
}

std::string le(std::uint64_t value, int bytes) {
  std::string out;
  for (int i = 0; i < bytes; ++i) out.push_back(static_cast<char>((value >> (8 * i)) & 0xff));
  return out;
}

// One entry of a hand-built zip. The headers may claim sizes or a method the
// data does not have.
struct ZipEntry {
  std::string name;
  std::string data;
  std::uint16_t method = 0;             // 0 stored, 8 deflated
  std::uint32_t claimedSize = 0;        // uncompressed size in both headers; 0: the data's
  std::uint32_t claimedStoredSize = 0;  // compressed size in both headers; 0: the data's
};

std::string handBuiltZip(const std::vector<ZipEntry>& entries) {
  std::string file;
  std::string directory;
  for (const auto& e : entries) {
    const std::uint32_t size = e.claimedSize ? e.claimedSize : static_cast<std::uint32_t>(e.data.size());
    const std::uint32_t stored =
        e.claimedStoredSize ? e.claimedStoredSize : static_cast<std::uint32_t>(e.data.size());
    const std::string common = le(20, 2) + le(0, 2) + le(e.method, 2) + le(0, 2) + le(0x21, 2) +
                               le(crc32(e.data), 4) + le(stored, 4) + le(size, 4) + le(e.name.size(), 2) +
                               le(0, 2);
    directory += std::string("PK\1\2", 4) + le(20, 2) + common + le(0, 2) + le(0, 2) + le(0, 2) + le(0, 4) +
                 le(file.size(), 4) + e.name;
    file += std::string("PK\3\4", 4) + common + e.name + e.data;
  }
  const std::size_t directoryAt = file.size();
  file += directory;
  file += std::string("PK\5\6", 4) + le(0, 2) + le(0, 2) + le(entries.size(), 2) + le(entries.size(), 2) +
          le(directory.size(), 4) + le(directoryAt, 4) + le(0, 2);
  return file;
}

class HostileModelTest : public ::testing::Test {
 protected:
  fs::path write(const std::string& name, const std::string& bytes) const {
    const fs::path path = scratch_.path() / name;
    test::writeBytes(path, bytes);
    return path;
  }

  // A torch.save-style zip of {"w": 16 floats}, as entries that tests may forge.
  static std::vector<ZipEntry> zipStateDictEntries(std::int64_t claimedNumel = -1) {
    const at::Tensor values = at::arange(16, at::kFloat);
    test::LegacyStorage storage{"0", values, claimedNumel};
    const std::string pickle = test::legacyStateDictPickle({storage}, {{"w", "0", 0, {16}, {1}}});
    return {{"archive/data.pkl", pickle},
            {"archive/data/0", std::string(static_cast<const char*>(values.data_ptr()), 64)}};
  }

  test::ScratchDir scratch_{"impasto-hostile-models"};
};

TEST_F(HostileModelTest, TheHandBuiltZipIsAValidStateDict) {
  const StateDict dict = loadStateDict(write("valid.pth", handBuiltZip(zipStateDictEntries())));
  ASSERT_EQ(dict.count("w"), 1u);
  EXPECT_EQ(dict.at("w").values()[15], 15.f);
}

// An entry whose headers declare 4 GB is refused from the headers; nothing
// is allocated for the size it merely claims.
TEST_F(HostileModelTest, ZipEntriesClaimingHugeSizesAreRefusedWithoutAllocating) {
  constexpr std::uint32_t kHuge = 0xFFFFFFF0u;
  struct Forgery {
    const char* name;
    std::size_t entry;  // 0 data.pkl, 1 data/0
    std::uint16_t method;
    std::uint32_t claimedSize;
    std::uint32_t claimedStoredSize;
    const char* expected;
  };
  const std::vector<Forgery> forgeries = {
      {"pickle size", 0, 0, kHuge, 0, "claims 4294967280 bytes"},
      {"pickle sizes", 0, 0, kHuge, kHuge, "valid.pth"},
      {"deflated pickle", 0, 8, kHuge, 0, "compressed"},
      {"storage size", 1, 0, kHuge, 0, "claims 4294967280 bytes"},
      {"deflated storage", 1, 8, kHuge, 0, "compressed"},
  };
  for (const auto& forgery : forgeries) {
    SCOPED_TRACE(forgery.name);
    auto entries = zipStateDictEntries();
    ZipEntry& e = entries[forgery.entry];
    e.method = forgery.method;
    e.claimedSize = forgery.claimedSize;
    e.claimedStoredSize = forgery.claimedStoredSize;
    const fs::path path = write("valid.pth", handBuiltZip(entries));
    EXPECT_THAT(boundedModelError([&] { loadStateDict(path); }),
                AllOf(HasSubstr("valid.pth"), HasSubstr(forgery.expected)));
  }
}

// The pickle may claim any element count for a storage; the storages are
// allocated only once the file is known to hold that much data.
TEST_F(HostileModelTest, AZipStorageClaimingMoreThanTheFileHoldsIsRefusedBeforeAllocating) {
  const fs::path path = write("claims.pth", handBuiltZip(zipStateDictEntries(std::int64_t{1} << 36)));
  EXPECT_THAT(boundedModelError([&] { loadStateDict(path); }),
              AllOf(HasSubstr("claims.pth"), HasSubstr("storages need more bytes than the file's"),
                    HasSubstr("68719476736 elements")));
}

// ------------------------------------------------------------------ pickles

// A 1 MiB storage key in a persistent id fetched from the memo 200 000 times:
// 200 GB when each reference copies the key. Shared, it costs nothing; the
// file then fails for an honest reason (its data is missing), named with the
// key cut short.
TEST_F(HostileModelTest, AMegabyteKeyReferencedAgainAndAgainIsNeverCopied) {
  const std::string bomb = test::memoisedKeyBomb(1 << 20, 200000);
  EXPECT_LT(bomb.size(), std::size_t{2} << 20);
  const fs::path path = write("key-bomb.pth", test::legacyHeader() + bomb + test::legacyStorageSection({}));
  EXPECT_THAT(boundedModelError([&] { loadStateDict(path); }),
              AllOf(HasSubstr("key-bomb.pth"), HasSubstr("is missing"), HasSubstr("(1048576 bytes)")));
}

// A list of 100 000 pairs handed to OrderedDict 40 000 times: 4 billion dict
// entries if each call copies the list. The byte budget stops it early.
TEST_F(HostileModelTest, AListFedToOrderedDictAgainAndAgainExhaustsTheBudgetNotTheMachine) {
  const std::string bomb = test::orderedDictBomb(100000, 40000);
  EXPECT_LT(bomb.size(), std::size_t{2} << 20);
  const fs::path legacy =
      write("dict-bomb.pth", test::legacyHeader() + bomb + test::legacyStorageSection({}));
  EXPECT_THAT(boundedModelError([&] { loadStateDict(legacy); }),
              AllOf(HasSubstr("dict-bomb.pth"), HasSubstr("exhaust memory"), HasSubstr("MB of memory")));

  const fs::path zip = write("dict-bomb-zip.pth", handBuiltZip({{"archive/data.pkl", bomb}}));
  EXPECT_THAT(boundedModelError([&] { loadStateDict(zip); }),
              AllOf(HasSubstr("dict-bomb-zip.pth"), HasSubstr("exhaust memory")));
}

// The storage keys listed after a legacy state_dict: one key repeated is
// refused at its first repeat, not copied a million times.
TEST_F(HostileModelTest, ALegacyStorageListRepeatingAKeyIsRefused) {
  const at::Tensor values = at::arange(4, at::kFloat);
  const std::string main = test::legacyStateDictPickle({{"0", values}}, {{"w", "0", 0, {4}, {1}}});
  PickleWriter keys;
  keys.proto().emptyList().mark().unicode(std::string(1 << 20, 'k')).put(1);
  for (int i = 0; i < 200000; ++i) keys.get(1);
  keys.appends().stop();
  const fs::path path = write("keys.pth", test::legacyHeader() + main + keys.bytes());
  EXPECT_THAT(boundedModelError([&] { loadStateDict(path); }),
              AllOf(HasSubstr("keys.pth"), HasSubstr("twice")));
}

// 10 000 keys naming views of one 4 MB storage, each a tensor of its own.
class ViewBombTest : public ::testing::Test {
 protected:
  static constexpr std::int64_t kStorage = 1 << 20;  // floats
  static constexpr std::int64_t kView = kStorage - 10000;
  static constexpr int kKeys = 10000;

  // Every key's tensor is rebuilt from the same memoised arguments, or from
  // arguments of its own with the offset `key % 10000`.
  static std::string pickle(bool sameView) {
    PickleWriter w;
    w.proto().emptyDict().mark().unicode("k0");
    w.global("torch._utils", "_rebuild_tensor_v2").put(1).mark();
    w.mark().unicode("storage").global("torch", "FloatStorage").unicode("0").unicode("cpu").integer(kStorage);
    w.tuple().binpersid().put(2).integer(0).intTuple({kView}).put(3).intTuple({1}).put(4).boolean(false).put(
        5);
    w.global("collections", "OrderedDict").put(6).emptyTuple().put(7).reduce().tuple().put(8).reduce();
    for (int key = 1; key < kKeys; ++key) {
      w.unicode("k" + std::to_string(key)).get(1);
      if (sameView)
        w.get(8);
      else
        w.mark().get(2).integer(key % 10000).get(3).get(4).get(5).get(6).get(7).reduce().tuple();
      w.reduce();
    }
    w.setitems().stop();
    return w.bytes();
  }

  static std::map<std::string, WeightArray> load(const std::string& pickle) {
    const std::vector<float> values(static_cast<std::size_t>(kStorage), 0.5f);
    const StorageLoader loader = [&](const StorageRef& ref, void* destination) {
      std::memcpy(destination, values.data(), ref.byteSize());
    };
    return unpickleTensors(pickle.data(), pickle.size(), loader, "views.pth", kStorage * sizeof(float));
  }
};

TEST_F(ViewBombTest, KeysNamingTheSameViewShareOneArray) {
  const std::string bytes = pickle(true);
  const BoundedOutcome outcome = test::runBounded(
      [&] {
        const auto arrays = load(bytes);
        if (arrays.size() != static_cast<std::size_t>(kKeys)) throw std::runtime_error("keys are missing");
        for (const auto& [key, array] : arrays)
          if (array.data() != arrays.begin()->second.data() || array.numel() != kView)
            throw std::runtime_error("key " + key + " has an array of its own");
      },
      kMemoryLimit);
  EXPECT_EQ(outcome.end, BoundedOutcome::End::Returned) << test::describe(outcome);
  if (std::getenv("IMPASTO_TEST_VERBOSE")) std::printf("    %s\n", test::describe(outcome).c_str());
}

TEST_F(ViewBombTest, DistinctOverlappingViewsAreRefusedOnceTheyOutgrowTheStorage) {
  const std::string bytes = pickle(false);
  EXPECT_THAT(boundedModelError([&] { load(bytes); }),
              AllOf(HasSubstr("views.pth"), HasSubstr("overlapping views"), HasSubstr("exhaust memory")));
}

// ------------------------------------------------------------------ geometry

std::string modelError(const fs::path& path) {
  try {
    loadModelFile(path);
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::Model) << e.what();
    return e.what();
  }
  ADD_FAILURE() << path << " was accepted";
  return {};
}

TEST_F(HostileModelTest, OnnxGeometryBeyondTheBoundsIsRefusedAtLoad) {
  at::manual_seed(3);
  const at::Tensor w = at::randn({2, 3, 1, 1});
  const at::Tensor b = at::zeros({2});
  {
    test::OnnxWriter onnx;
    onnx.conv("conv1", "image", "c1", w, b, 1, 1000000000).relu("relu1", "c1", "out").output("out");
    onnx.save(scratch_.path() / "padded.onnx");
  }
  EXPECT_THAT(modelError(scratch_.path() / "padded.onnx"),
              AllOf(HasSubstr("padded.onnx"), HasSubstr("layer conv1"), HasSubstr("padding is 1000000000"),
                    HasSubstr("0 to 64")));
  {
    test::OnnxWriter onnx;
    onnx.conv("conv1", "image", "c1", w, b, 999999, 0).relu("relu1", "c1", "out").output("out");
    onnx.save(scratch_.path() / "strided.onnx");
  }
  EXPECT_THAT(modelError(scratch_.path() / "strided.onnx"), HasSubstr("stride is 999999"));
  {
    test::OnnxWriter onnx;
    onnx.conv("conv1", "image", "c1", w, b)
        .maxPool("pool1", "c1", "p1", 100001, 1, {50000, 50000, 50000, 50000})
        .conv("conv2", "p1", "c2", at::randn({2, 2, 1, 1}), b)
        .output("c2");
    onnx.save(scratch_.path() / "pooled.onnx");
  }
  EXPECT_THAT(modelError(scratch_.path() / "pooled.onnx"),
              AllOf(HasSubstr("layer pool1"), HasSubstr("pooling window is 100001")));
  {
    test::OnnxWriter onnx;  // 20 000 channels from 240 KB of weights
    onnx.conv("conv1", "image", "c1", at::randn({20000, 3, 1, 1}), {}).output("c1");
    onnx.save(scratch_.path() / "wide.onnx");
  }
  EXPECT_THAT(modelError(scratch_.path() / "wide.onnx"), HasSubstr("number of output channels is 20000"));
}

// A state_dict read through a manifest's topology: the manifest bounds its
// own numbers, the chain check the shapes that come from the weights.
TEST_F(HostileModelTest, ManifestTopologyGeometryBeyondTheBoundsIsRefused) {
  const std::string pth = test::legacyFile({{"c.weight", at::ones({20000, 3, 1, 1}, at::kByte)}});
  write("wide.pth", pth);
  write("wide.json", R"({"name": "wide", "topology": [{"name": "c", "type": "conv"}]})");
  EXPECT_THAT(
      modelError(scratch_.path() / "wide.pth"),
      AllOf(HasSubstr("wide.pth"), HasSubstr("layer c"), HasSubstr("number of output channels is 20000")));

  write("padded.pth", test::legacyFile({{"c.weight", at::ones({2, 3, 1, 1})}}));
  write("padded.json",
        R"({"name": "padded", "topology": [{"name": "c", "type": "conv", "padding": 1000000}]})");
  EXPECT_THAT(modelError(scratch_.path() / "padded.pth"),
              AllOf(HasSubstr("padded.json"), HasSubstr("topology[0].padding"), HasSubstr("from 0 to 64")));

  nlohmann::json many = {{"name", "deep"}, {"topology", {{{"name", "c"}, {"type", "conv"}}}}};
  for (int i = 0; i < 5000; ++i)
    many["topology"].push_back({{"name", "r" + std::to_string(i)}, {"type", "relu"}});
  write("deep.pth", test::legacyFile({{"c.weight", at::ones({2, 3, 1, 1})}}));
  write("deep.json", many.dump());
  EXPECT_THAT(modelError(scratch_.path() / "deep.pth"),
              HasSubstr("has 5001 layers; Impasto uses at most 4096"));
}

TEST_F(HostileModelTest, TfjsGeometryBeyondTheBoundsIsRefused) {
  const std::vector<float> weights = {1, 2, 3, 4, 5, 6, 0, 0};  // kernel [1, 1, 3, 2], bias [2]
  write("group1-shard1of1.bin", std::string(reinterpret_cast<const char*>(weights.data()), 32));
  auto modelJson = [](const nlohmann::json& strides, const nlohmann::json& kernel) {
    nlohmann::json layers = nlohmann::json::array();
    layers.push_back({{"class_name", "InputLayer"}, {"config", {{"name", "input_1"}}}});
    layers.push_back({{"class_name", "Conv2D"},
                      {"config",
                       {{"name", "conv"},
                        {"kernel_size", kernel},
                        {"strides", strides},
                        {"padding", "valid"},
                        {"activation", "relu"}}}});
    return nlohmann::json{{"modelTopology", {{"model_config", {{"config", {{"layers", layers}}}}}}},
                          {"weightsManifest",
                           {{{"paths", {"group1-shard1of1.bin"}},
                             {"weights",
                              {{{"name", "conv/kernel"}, {"shape", {1, 1, 3, 2}}, {"dtype", "float32"}},
                               {{"name", "conv/bias"}, {"shape", {2}}, {"dtype", "float32"}}}}}}}}
        .dump();
  };
  write("model.json", modelJson({1, 1}, {1, 1}));
  EXPECT_NO_THROW(loadModelFile(scratch_.path() / "model.json")) << "the fixture itself is valid";
  write("model.json", modelJson({100000, 100000}, {1, 1}));
  EXPECT_THAT(modelError(scratch_.path() / "model.json"), HasSubstr("stride is 100000"));
  // 2^32 + 1 used to be read as int, that is as 1, which matches the weights.
  write("model.json", modelJson({1, 1}, {4294967297LL, 4294967297LL}));
  EXPECT_THAT(modelError(scratch_.path() / "model.json"), HasSubstr("kernel_size is 4294967297"));
}

// ------------------------------------------------------------------ non-finite numbers

TEST_F(HostileModelTest, NonFiniteWeightsAreRefusedAtLoadNamingTheLayer) {
  at::Tensor w = at::randn({2, 3, 1, 1});
  w[1][2][0][0] = std::numeric_limits<float>::quiet_NaN();
  {
    test::OnnxWriter onnx;
    onnx.conv("conv1", "image", "c1", w, at::zeros({2})).output("c1");
    onnx.save(scratch_.path() / "nan.onnx");
  }
  EXPECT_THAT(modelError(scratch_.path() / "nan.onnx"),
              AllOf(HasSubstr("nan.onnx"), HasSubstr("layer conv1"), HasSubstr("weights hold nan (value 5)"),
                    HasSubstr("not a finite number")));

  const at::Tensor bias = at::tensor({0.f, std::numeric_limits<float>::infinity()});
  write("inf.pth", test::legacyFile({{"c.weight", at::ones({2, 3, 1, 1})}, {"c.bias", bias}}));
  write("inf.json", R"({"name": "inf", "topology": [{"name": "c", "type": "conv"}]})");
  EXPECT_THAT(modelError(scratch_.path() / "inf.pth"),
              AllOf(HasSubstr("inf.pth"), HasSubstr("layer c"), HasSubstr("biases hold inf (value 1)")));

  {
    test::OnnxWriter onnx;
    onnx.conv("conv1", "image", "c1", at::ones({2, 3, 1, 1}), {})
        .leakyRelu("leaky1", "c1", "out", std::numeric_limits<float>::infinity())
        .output("out");
    onnx.save(scratch_.path() / "slope.onnx");
  }
  EXPECT_THAT(
      modelError(scratch_.path() / "slope.onnx"),
      AllOf(HasSubstr("layer leaky1"), HasSubstr("negative slope is inf"), HasSubstr("-1000 to 1000")));
}

// JSON has no NaN or infinity and nlohmann refuses 1e999, but finite numbers
// can still overflow float32 (the input, a LeakyReLU) or the cost (α, β).
// Such a manifest used to load and end a render with "try smaller α, β".
TEST(HostileManifestTest, NumbersThatWouldOverflowAreRefusedNamingTheField) {
  auto error = [](const std::string& json) {
    try {
      parseManifest(json, "hostile.json");
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorKind::Model);
      return std::string(e.what());
    }
    return std::string("accepted");
  };
  EXPECT_THAT(error(R"({"name": "a", "default_alpha": 1e999})"),
              AllOf(HasSubstr("hostile.json"), HasSubstr("cannot be read"), HasSubstr("1e999")));
  EXPECT_THAT(
      error(R"({"name": "a", "default_alpha": 1e300})"),
      AllOf(HasSubstr("hostile.json"), HasSubstr("\"default_alpha\" must be a number from 0 to 1e12")));
  EXPECT_THAT(error(R"({"name": "a", "default_beta": -2})"),
              HasSubstr("\"default_beta\" must be a number from 0"));
  EXPECT_THAT(error(R"({"name": "a", "input": {"mean": [0, 1e39, 0]}})"), HasSubstr("\"input.mean\""));
  EXPECT_THAT(error(R"({"name": "a", "input": {"std": [1, 1e-40, 1]}})"), HasSubstr("\"input.std\""));
  EXPECT_THAT(error(R"({"name": "a", "input": {"scale": 1e300}})"), HasSubstr("\"input.scale\""));
  EXPECT_THAT(error(R"({"name": "a", "input": {"range": [0, 1e300]}})"), HasSubstr("\"input.range\""));
  EXPECT_THAT(error(R"({"name": "a", "topology": [{"name": "l", "type": "leaky_relu", "slope": 1e300}]})"),
              HasSubstr("\"topology[0].slope\" must be a number from -1000 to 1000"));
  EXPECT_EQ(error(R"({"name": "a", "default_alpha": 1e4, "default_beta": 0, "input": {"scale": 255}})"),
            "accepted");
}

}  // namespace
}  // namespace impasto
