#include "core/models/torch_pickle.h"

#include <gtest/gtest.h>

#include <cstring>

#include "core/util/error.h"
#include "tests/support/pickle_writer.h"
#include "tests/support/test_models.h"

namespace impasto {
namespace {

using test::PickleWriter;

// The zip path: the pickle in memory, storages handed out by key.
class TorchPickleTest : public ::testing::Test {
 protected:
  std::map<std::string, at::Tensor> unpickle(const std::string& pickle) {
    const StorageLoader loader = [&](const StorageRef& ref, void* destination) {
      ++loads_;
      const at::Tensor& data = storages_.at(ref.key);
      ASSERT_EQ(static_cast<std::uint64_t>(data.numel() * data.element_size()), ref.byteSize()) << ref.key;
      std::memcpy(destination, data.data_ptr(), ref.byteSize());
    };
    return test::toTensors(
        unpickleTensors(pickle.data(), pickle.size(), loader, "data.pkl of zip.pth", storedBytes()));
  }

  // What a zip holding storages_ would hold besides the pickle.
  std::uint64_t storedBytes() const {
    std::uint64_t bytes = 0;
    for (const auto& [key, data] : storages_) bytes += static_cast<std::uint64_t>(data.nbytes());
    return bytes;
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

  std::map<std::string, at::Tensor> storages_;
  int loads_ = 0;
};

TEST_F(TorchPickleTest, ConvertsEveryStoredTypeToFloatAndLoadsEachStorageOnce) {
  const at::Tensor values = at::tensor({-3.0, -1.5, 0.0, 0.25, 1.0, 65504.0}, at::kDouble);
  for (const auto type : {at::kDouble, at::kFloat, at::kHalf, at::kLong, at::kInt, at::kByte}) {
    SCOPED_TRACE(c10::toString(type));
    const at::Tensor stored = type == at::kByte ? values.abs().to(type) : values.to(type);
    storages_["0"] = stored;
    loads_ = 0;
    const auto result = unpickle(test::legacyStateDictPickle(
        {{"0", stored}}, {{"a", "0", 0, {2, 3}, {3, 1}}, {"b", "0", 2, {2, 2}, {1, 2}}}));
    ASSERT_EQ(result.size(), 2u);
    EXPECT_EQ(loads_, 1);
    const at::Tensor expected = stored.to(at::kFloat);
    EXPECT_TRUE(at::equal(result.at("a"), expected.view({2, 3})));
    EXPECT_TRUE(at::equal(result.at("b"), expected.slice(0, 2, 6).view({2, 2}).t()));
  }
}

TEST_F(TorchPickleTest, KeysNamingOneTensorShareOneArray) {
  storages_["0"] = at::arange(8, at::kFloat);
  PickleWriter w;
  w.proto().emptyDict().mark().unicode("a");
  w.global("torch._utils", "_rebuild_tensor_v2").mark();
  w.mark().unicode("storage").global("torch", "FloatStorage").unicode("0").unicode("cpu").integer(8);
  w.tuple().binpersid().integer(2).intTuple({4}).intTuple({1}).boolean(false);
  w.global("collections", "OrderedDict").emptyTuple().reduce().tuple().reduce().put(9);
  w.unicode("b").get(9).unicode("c").get(9).setitems().stop();
  const auto arrays = [&] {
    const StorageLoader loader = [&](const StorageRef& ref, void* destination) {
      std::memcpy(destination, storages_.at(ref.key).data_ptr(), ref.byteSize());
    };
    return unpickleTensors(w.bytes().data(), w.bytes().size(), loader, "shared.pth", storedBytes());
  }();
  ASSERT_EQ(arrays.size(), 3u);
  EXPECT_EQ(arrays.at("a").values(), (std::vector<float>{2, 3, 4, 5}));
  // A view into part of a storage is built once, not once per key.
  EXPECT_EQ(arrays.at("a").data(), arrays.at("b").data());
  EXPECT_EQ(arrays.at("a").data(), arrays.at("c").data());
}

// LibTorch's pickler wraps containers in restore_type_tag; checkpoints nest
// the weights under "model".
TEST_F(TorchPickleTest, ReadsTypeTaggedCheckpoints) {
  storages_["7"] = at::randn({3});
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
  EXPECT_TRUE(at::equal(result.at("w"), storages_["7"]));
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
  w.proto()
      .op(0x8d)
      .raw(std::string("\xff\xff\xff\xff\xff\xff\x00\x00", 8))
      .stop();  // BINUNICODE8, 2^48 bytes
  EXPECT_NE(refusal(w.bytes()).find("ends too early"), std::string::npos);
}

TEST_F(TorchPickleTest, RefusesABroadcastTensorLargerThanItsStorage) {
  storages_["0"] = at::ones({1});
  const std::string message =
      refusal(test::legacyStateDictPickle({{"0", storages_["0"]}}, {{"w", "0", 0, {1 << 30}, {0}}}));
  EXPECT_NE(message.find("past the end"), std::string::npos) << message;
}

}  // namespace
}  // namespace impasto
