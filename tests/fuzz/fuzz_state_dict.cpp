// libFuzzer harness for the PyTorch weights readers: loadStateDict on the input
// as a .pth file (a zip archive through libzip, or the legacy pickle stream),
// and the unpickler on the input as a zip's data.pkl, without the container
// (whose CRCs keep most mutations of a zip from reaching the pickle).

#include <cstring>

#include "core/models/state_dict.h"
#include "core/models/torch_pickle.h"
#include "tests/fuzz/fuzz_support.h"

namespace {

using namespace impasto;

// Storages are zero-filled here rather than read from a container; larger
// ones are skipped (a real archive bounds them by its entries' sizes).
constexpr std::uint64_t kMaxStorageBytes = 64u << 20;

void checkArrays(const std::map<std::string, WeightArray>& arrays) {
  for (const auto& [name, array] : arrays) {
    if (!array.defined()) fuzz::violated("tensor " + name + " has no values");
    if (static_cast<std::uint64_t>(array.numel()) != array.values().size())
      fuzz::violated("tensor " + name + " has a shape that disagrees with its values");
  }
}

void unpickleAsDataPkl(const char* data, std::size_t size) {
  const PickleFailure fail("data.pkl");
  MemoryPickleInput in(data, size, fail);
  TorchUnpickler unpickler(in, fail);
  unpickler.loadStateDict();
  for (const auto& [key, ref] : unpickler.storages())
    if (ref.byteSize() > kMaxStorageBytes) return;
  for (const auto& [key, ref] : unpickler.storages())
    std::memset(unpickler.storageBuffer(key), 0, static_cast<std::size_t>(ref.byteSize()));
  checkArrays(unpickler.tensors());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto* bytes = reinterpret_cast<const char*>(data);
  const auto path = fuzz::writeScratch("weights.pth", bytes, size);
  fuzz::expectCleanFailure([&] { checkArrays(loadStateDict(path)); });
  if (size < 2 || std::memcmp(bytes, "PK", 2) != 0)
    fuzz::expectCleanFailure([&] { unpickleAsDataPkl(bytes, size); });
  return 0;
}
