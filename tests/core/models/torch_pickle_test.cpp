#include "core/models/torch_pickle.h"

#include <gtest/gtest.h>

#include "core/util/error.h"
#include "tests/support/pickle_writer.h"

namespace impasto {
namespace {

using test::PickleWriter;

// The zip path: the pickle in memory, storages handed out by key.
class TorchPickleTest : public ::testing::Test {
 protected:
  std::map<std::string, torch::Tensor> unpickle(const std::string& pickle) {
    const StorageLoader loader = [&](const StorageRef& ref) {
      ++loads_;
      return storages_.at(ref.key).to(ref.dtype);
    };
    return unpickleTensors(pickle.data(), pickle.size(), loader, "data.pkl of zip.pth");
  }

  std::string refusal(const std::string& pickle) {
    try {
      unpickle(pickle);
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorKind::Model) << e.what();
      EXPECT_NE(std::string(e.what()).find("zip.pth"), std::string::npos) << e.what();
      return e.what();
    }
    ADD_FAILURE() << "the pickle was accepted";
    return {};
  }

  std::map<std::string, torch::Tensor> storages_;
  int loads_ = 0;
};

TEST_F(TorchPickleTest, KeepsTheStoredDtypeAndLoadsEachStorageOnce) {
  storages_["0"] = torch::arange(12, torch::kDouble);
  const std::vector<test::LegacyStorage> storages = {{"0", storages_["0"]}};
  const auto result = unpickle(test::legacyStateDictPickle(
      storages, {{"a", "0", 0, {2, 3}, {3, 1}}, {"b", "0", 6, {3, 2}, {1, 3}}}));
  ASSERT_EQ(result.size(), 2u);
  EXPECT_EQ(loads_, 1);
  EXPECT_EQ(result.at("a").scalar_type(), torch::kDouble);
  EXPECT_TRUE(torch::equal(result.at("a"), storages_["0"].slice(0, 0, 6).view({2, 3})));
  EXPECT_TRUE(torch::equal(result.at("b"), storages_["0"].slice(0, 6, 12).view({2, 3}).t()));
}

// LibTorch's pickler wraps containers in restore_type_tag; checkpoints nest
// the weights under "model".
TEST_F(TorchPickleTest, ReadsTypeTaggedCheckpoints) {
  storages_["7"] = torch::randn({3});
  PickleWriter w;
  w.proto().emptyDict().mark().unicode("epoch").integer(4).unicode("model");
  w.global("torch.jit._pickle", "restore_type_tag").emptyDict().mark().unicode("w");
  w.global("torch._utils", "_rebuild_tensor_v2").mark();
  w.mark().unicode("storage").global("torch", "FloatStorage").unicode("7").unicode("cpu").integer(3);
  w.tuple().binpersid().integer(0).intTuple({3}).intTuple({1}).boolean(false);
  w.global("collections", "OrderedDict").emptyTuple().reduce().tuple().reduce();
  w.setitems().unicode("Dict[str, Tensor]").op(0x86).reduce().setitems().stop();
  const auto result = unpickle(w.bytes());
  ASSERT_EQ(result.size(), 1u);
  EXPECT_TRUE(torch::equal(result.at("w"), storages_["7"]));
}

TEST_F(TorchPickleTest, RefusesUnknownGlobalsInsteadOfKeepingThemOpaque) {
  PickleWriter w;
  w.proto().emptyDict().mark().unicode("args").global("argparse", "Namespace").emptyTuple().op(0x81);
  w.setitems().stop();
  const std::string message = refusal(w.bytes());
  EXPECT_NE(message.find("refuses"), std::string::npos) << message;
  EXPECT_NE(message.find("argparse.Namespace"), std::string::npos) << message;
  EXPECT_EQ(loads_, 0);
}

TEST_F(TorchPickleTest, RefusesAStringLongerThanThePickleWithoutAllocatingIt) {
  PickleWriter w;
  w.proto().op(0x8d).raw(std::string("\xff\xff\xff\xff\xff\xff\x00\x00", 8)).stop();  // BINUNICODE8, 2^48 bytes
  EXPECT_NE(refusal(w.bytes()).find("ends too early"), std::string::npos);
}

TEST_F(TorchPickleTest, RefusesABroadcastTensorLargerThanItsStorage) {
  storages_["0"] = torch::ones({1});
  const std::string message =
      refusal(test::legacyStateDictPickle({{"0", storages_["0"]}}, {{"w", "0", 0, {1 << 30}, {0}}}));
  EXPECT_NE(message.find("past the end"), std::string::npos) << message;
}

TEST_F(TorchPickleTest, RefusesAStorageOfTheWrongSize) {
  storages_["0"] = torch::ones({3});
  const std::string pickle =
      test::legacyStateDictPickle({{"0", torch::ones({4})}}, {{"w", "0", 0, {4}, {1}}});
  EXPECT_NE(refusal(pickle).find("elements"), std::string::npos);
}

}  // namespace
}  // namespace impasto
