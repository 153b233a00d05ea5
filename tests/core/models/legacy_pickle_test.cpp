#include "core/models/legacy_pickle.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <random>

#include "core/util/error.h"
#include "tests/support/pickle_writer.h"
#include "tests/support/test_models.h"

namespace impasto {
namespace {

namespace fs = std::filesystem;
using test::LegacyStorage;
using test::LegacyStyle;
using test::LegacyTensor;
using test::PickleWriter;

class LegacyPickleTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("impasto_legacy_" + std::to_string(::getpid()) + "_" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
    at::manual_seed(7);
  }
  void TearDown() override { fs::remove_all(dir_); }

  fs::path write(const std::string& bytes, const std::string& name = "weights.pth") {
    const fs::path path = dir_ / name;
    test::writeBytes(path, bytes);
    return path;
  }

  // Loads bytes that must be refused; returns the message.
  std::string refusal(const std::string& bytes) {
    try {
      readLegacyTorchFile(write(bytes));
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorKind::Model) << e.what();
      return e.what();
    }
    ADD_FAILURE() << "the file was accepted";
    return {};
  }

  static std::vector<std::pair<std::string, at::Tensor>> vggLikeStateDict() {
    return {{"features.0.weight", at::randn({8, 3, 3, 3})},
            {"features.0.bias", at::randn({8})},
            {"features.2.weight", at::randn({4, 8, 3, 3})},
            {"features.2.bias", at::randn({4})}};
  }

  // A header followed by a hand-written main pickle and an empty storage list.
  static std::string withMainPickle(const std::string& mainPickle) {
    return test::legacyHeader() + mainPickle + test::legacyStorageSection({});
  }

  fs::path dir_;
};

std::map<std::string, at::Tensor> readLegacy(const fs::path& path) {
  return test::toTensors(readLegacyTorchFile(path));
}

void expectSameTensors(const std::vector<std::pair<std::string, at::Tensor>>& expected,
                       const std::map<std::string, at::Tensor>& actual) {
  ASSERT_EQ(actual.size(), expected.size());
  for (const auto& [name, tensor] : expected) {
    auto it = actual.find(name);
    ASSERT_NE(it, actual.end()) << name;
    EXPECT_EQ(it->second.scalar_type(), at::kFloat) << name;
    EXPECT_EQ(it->second.sizes(), tensor.sizes()) << name;
    EXPECT_TRUE(at::equal(it->second, tensor)) << name;
  }
}

TEST_F(LegacyPickleTest, ReadsAStateDictAsPyTorch1Wrote) {
  const auto expected = vggLikeStateDict();
  expectSameTensors(expected, readLegacy(write(test::legacyFile(expected))));
}

TEST_F(LegacyPickleTest, ReadsAStateDictAsPyTorch03OnPython2Wrote) {
  const auto expected = vggLikeStateDict();
  expectSameTensors(expected, readLegacy(write(test::legacyFile(expected, LegacyStyle::Python2))));
}

TEST_F(LegacyPickleTest, ReadsTensorsPickledAsFloatTensorWithState) {
  const auto expected = vggLikeStateDict();
  expectSameTensors(expected,
                    readLegacy(write(test::legacyFile(expected, LegacyStyle::Python2SetState))));
}

TEST_F(LegacyPickleTest, RefusesATensorClassThatNeverGetsItsState) {
  PickleWriter w;
  w.proto().global("collections", "OrderedDict").emptyTuple().reduce().mark();
  w.unicode("w").global("torch", "FloatTensor").emptyTuple().reduce().setitems().stop();
  EXPECT_NE(refusal(withMainPickle(w.bytes())).find("no contents"), std::string::npos);
}

TEST_F(LegacyPickleTest, ReadsTensorsSharingAStorageWithOffsetsAndStrides) {
  const at::Tensor storage = at::randn({40});
  const std::vector<LegacyStorage> storages = {{"140", storage}};
  const std::vector<LegacyTensor> tensors = {
      {"a", "140", 0, {2, 3}, {3, 1}},
      {"b", "140", 10, {3, 4}, {1, 3}},  // a transposed view starting at element 10
  };
  const auto result = readLegacy(write(test::legacyFile(storages, tensors)));
  ASSERT_EQ(result.size(), 2u);
  EXPECT_TRUE(at::equal(result.at("a"), storage.slice(0, 0, 6).view({2, 3})));
  EXPECT_TRUE(at::equal(result.at("b"), storage.slice(0, 10, 22).view({4, 3}).t()));
}

// tests/data/legacy_state_dict.pth comes from CPython's own pickler driven the
// way torch.save did (see make_legacy_pth.py), so this checks the reader
// against bytes we did not write ourselves.
TEST_F(LegacyPickleTest, ReadsTheFixtureWrittenByCPythonsPickler) {
  const auto result = readLegacy(fs::path(IMPASTO_TEST_DATA_DIR) / "legacy_state_dict.pth");
  ASSERT_EQ(result.size(), 5u);
  const at::Tensor s0 = (at::arange(112, at::kFloat) - 50) / 8;
  EXPECT_TRUE(at::equal(result.at("features.0.weight"), s0.slice(0, 0, 108).view({4, 3, 3, 3})));
  EXPECT_TRUE(at::equal(result.at("features.0.bias"), s0.slice(0, 108, 112)));
  const at::Tensor s1 = at::arange(6, at::kFloat) + 0.25;
  EXPECT_TRUE(at::equal(result.at("features.2.weight"), s1.view({2, 3}).t()));
  EXPECT_TRUE(at::equal(result.at("features.2.bias"), at::tensor({-0.25f, -0.5f})));
  const at::Tensor count = result.at("bn.num_batches_tracked");
  EXPECT_EQ(count.dim(), 0);
  EXPECT_EQ(count.item<float>(), 7.0f);
  for (const auto& [name, t] : result) EXPECT_EQ(t.scalar_type(), at::kFloat) << name;
}

TEST_F(LegacyPickleTest, RefusesAPickleThatCallsASystemFunction) {
  PickleWriter w;
  w.proto().global("posix", "system").unicode("touch pwned").op(0x85).reduce().stop();
  const std::string message = refusal(withMainPickle(w.bytes()));
  EXPECT_NE(message.find("refuses to load"), std::string::npos) << message;
  EXPECT_NE(message.find("posix.system"), std::string::npos) << message;
}

TEST_F(LegacyPickleTest, RefusesAnUnknownGlobalInsideAStateDict) {
  // OrderedDict([("x", builtins.eval("..."))]): the call hides where a tensor belongs.
  PickleWriter w;
  w.proto().global("collections", "OrderedDict").put(0).emptyTuple().reduce().put(1).mark();
  w.unicode("x").global("builtins", "eval").unicode("__import__('os').system('id')").op(0x85).reduce();
  w.setitems().stop();
  const std::string message = refusal(withMainPickle(w.bytes()));
  EXPECT_NE(message.find("builtins.eval"), std::string::npos) << message;
}

TEST_F(LegacyPickleTest, RefusesAWholePickledModule) {
  PickleWriter w;
  w.proto().global("torch.nn.modules.conv", "Conv2d").op(0x29).op(0x81).stop();  // Conv2d.__new__(Conv2d)
  const std::string message = refusal(withMainPickle(w.bytes()));
  EXPECT_NE(message.find("torch.nn.modules.conv.Conv2d"), std::string::npos) << message;
  EXPECT_NE(message.find("state_dict"), std::string::npos) << message;
}

TEST_F(LegacyPickleTest, RefusesPersistentObjectsOtherThanStorages) {
  PickleWriter w;
  w.proto().unicode("module").unicode("evil").op(0x86).binpersid().stop();
  EXPECT_NE(refusal(withMainPickle(w.bytes())).find("refuses"), std::string::npos);
}

TEST_F(LegacyPickleTest, RefusesAStorageLargerThanTheFileWithoutAllocatingIt) {
  const std::int64_t huge = std::int64_t{1} << 40;  // 4 TiB of floats
  LegacyStorage storage{"1", at::ones({4}), huge};
  const std::string message = refusal(test::legacyFile({storage}, {{"w", "1", 0, {4}, {1}}}));
  EXPECT_NE(message.find("ends too early"), std::string::npos) << message;
}

TEST_F(LegacyPickleTest, RefusesADataSectionThatDisagreesWithThePickle) {
  std::string bytes = test::legacyFile({{"w", at::ones({4})}});
  // The storage's element count sits 16 bytes before the end (int64 + 4 floats).
  bytes[bytes.size() - 24] = 5;
  EXPECT_NE(refusal(bytes).find("holds 5 elements"), std::string::npos);
}

TEST_F(LegacyPickleTest, RefusesATensorReachingPastItsStorage) {
  const std::string message = refusal(test::legacyFile({{"1", at::ones({4})}}, {{"w", "1", 2, {3}, {1}}}));
  EXPECT_NE(message.find("past the end"), std::string::npos) << message;
}

TEST_F(LegacyPickleTest, RefusesEveryTruncationWithAClearMessage) {
  const std::string bytes =
      test::legacyFile({{"a.weight", at::randn({2, 3})}, {"a.bias", at::randn({2})}});
  ASSERT_NO_THROW(readLegacyTorchFile(write(bytes)));
  for (std::size_t length = 1; length < bytes.size(); ++length) {
    const std::string message = refusal(bytes.substr(0, length));
    EXPECT_NE(message.find("ends too early"), std::string::npos) << "cut at " << length << ": " << message;
  }
  EXPECT_NE(refusal("").find("not a pickle"), std::string::npos);
}

TEST_F(LegacyPickleTest, RefusesGarbage) {
  std::mt19937 rng(11);
  for (int trial = 0; trial < 50; ++trial) {
    std::string bytes(1 + rng() % 2000, '\0');
    for (auto& c : bytes) c = static_cast<char>(rng());
    if (trial % 2 == 1) bytes.replace(0, 2, "\x80\x02");  // past the first check, into the unpickler
    refusal(bytes);
  }
  EXPECT_NE(refusal("<html>404 Not Found</html>").find("not a pickle"), std::string::npos);
}

// Damaged files must end in a Model error (or load, when the damage is in
// the float data), never in a crash or another kind of exception.
TEST_F(LegacyPickleTest, SurvivesRandomlyDamagedFiles) {
  const std::string good = test::legacyFile(vggLikeStateDict());
  std::mt19937 rng(3);
  int refused = 0;
  for (int trial = 0; trial < 300; ++trial) {
    std::string bytes = good;
    const int flips = 1 + static_cast<int>(rng() % 3);
    // Most of the file is float data; aim most damage at the pickles in front.
    for (int f = 0; f < flips; ++f)
      bytes[rng() % std::min<std::size_t>(bytes.size(), 1200)] = static_cast<char>(rng());
    try {
      readLegacyTorchFile(write(bytes));
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorKind::Model) << e.what();
      ++refused;
    } catch (const std::exception& e) {
      ADD_FAILURE() << "trial " << trial << " threw a non-impasto exception: " << e.what();
    }
  }
  EXPECT_GT(refused, 100);
}

TEST_F(LegacyPickleTest, RefusesHostileSizesAndMemoUse) {
  PickleWriter objects;
  objects.proto();
  for (int i = 0; i < (1 << 18) + 1; ++i) objects.emptyList();
  EXPECT_NE(refusal(withMainPickle(objects.bytes())).find("more objects"), std::string::npos);

  PickleWriter stack;  // one object, pushed a million times from the memo
  stack.proto().emptyList().put(0);
  for (int i = 0; i < (1 << 20); ++i) stack.get(0);
  EXPECT_NE(refusal(withMainPickle(stack.bytes())).find("stack"), std::string::npos);

  PickleWriter marks;
  marks.proto();
  for (int i = 0; i < (1 << 16) + 1; ++i) marks.mark();
  EXPECT_NE(refusal(withMainPickle(marks.bytes())).find("nest"), std::string::npos);

  PickleWriter memo;
  memo.proto().get(5).stop();
  EXPECT_NE(refusal(withMainPickle(memo.bytes())).find("memo entry 5"), std::string::npos);
}

TEST_F(LegacyPickleTest, RefusesAFileWithoutTheMagicNumber) {
  PickleWriter w;
  w.proto().longBytes(std::string("\x6c\xfc\x9c\x46\xf9\x20\x6a\xa8\x50\x18", 10)).stop();
  EXPECT_NE(refusal(w.bytes() + "rest").find("magic number"), std::string::npos);
}

TEST_F(LegacyPickleTest, SaysAZipArchiveIsNotTheLegacyFormat) {
  const std::string message = refusal(std::string("PK\x03\x04", 4) + std::string(60, '\0'));
  EXPECT_NE(message.find("zip archive"), std::string::npos) << message;
}

}  // namespace
}  // namespace impasto
