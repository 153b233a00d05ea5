#include "core/models/legacy_pickle.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <set>

#include "core/models/torch_pickle.h"
#include "core/util/error.h"

namespace impasto {
namespace {

// The file read sequentially: the storages' data follows the pickles and is
// read straight into the tensors, never the whole file into memory.
class FileInput : public PickleInput {
 public:
  FileInput(const std::filesystem::path& path, const PickleFailure& fail) : fail_(fail) {
    std::error_code ec;
    size_ = std::filesystem::file_size(path, ec);
    if (ec) throw Error(ErrorKind::Model, "Cannot read '" + fail.fileName() + "': " + ec.message() + ".");
    in_.open(path, std::ios::binary);
    if (!in_) throw Error(ErrorKind::Model, "Cannot open '" + fail.fileName() + "' for reading.");
  }

  std::uint64_t size() const override { return size_; }
  std::uint64_t position() const override { return pos_; }

  void read(void* dst, std::uint64_t n) override {
    if (n > remaining()) fail_.truncated(pos_, size_);
    if (n == 0) return;
    in_.read(static_cast<char*>(dst), static_cast<std::streamsize>(n));
    if (static_cast<std::uint64_t>(in_.gcount()) != n) fail_.truncated(pos_ + in_.gcount(), size_);
    pos_ += n;
  }

  std::array<std::uint8_t, 4> peek4() {
    std::array<std::uint8_t, 4> head{};
    in_.read(reinterpret_cast<char*>(head.data()),
             static_cast<std::streamsize>(std::min<std::uint64_t>(size_, 4)));
    in_.clear();
    in_.seekg(static_cast<std::streamoff>(pos_));
    return head;
  }

  bool hasTarHeader() {
    if (size_ < 262) return false;
    char magic[5] = {};
    in_.seekg(257);
    in_.read(magic, 5);
    in_.seekg(static_cast<std::streamoff>(pos_));
    return std::memcmp(magic, "ustar", 5) == 0;
  }

 private:
  const PickleFailure& fail_;
  std::ifstream in_;
  std::uint64_t size_ = 0;
  std::uint64_t pos_ = 0;
};

bool hostIsLittleEndian() {
  const std::uint16_t probe = 1;
  std::uint8_t first = 0;
  std::memcpy(&first, &probe, 1);
  return first == 1;
}

// After the pickles: for each listed storage, its element count and raw bytes.
void readStorageData(FileInput& in, TorchUnpickler& unpickler, const PickleFailure& fail) {
  const auto& storages = unpickler.storages();
  std::set<std::string> seen;
  for (const std::string& key : unpickler.loadStorageKeys()) {
    auto it = storages.find(key);
    if (it == storages.end())
      fail.corrupt("it lists data for storage '" + PickleFailure::shortened(key) + "', which no tensor uses");
    if (!seen.insert(key).second)
      fail.corrupt("it lists storage '" + PickleFailure::shortened(key) + "' twice");
    const StorageRef& ref = it->second;
    const auto numel = static_cast<std::int64_t>(in.uintLE(8));
    if (numel != ref.numel)
      fail.corrupt("storage '" + PickleFailure::shortened(key) + "' holds " + std::to_string(numel) +
                   " elements, not the " + std::to_string(ref.numel) + " its tensors expect");
    // Checked before allocating, so a forged size cannot ask for terabytes.
    if (static_cast<std::uint64_t>(numel) > in.remaining() / elementSize(ref.dtype))
      fail.truncated(in.position(), in.size());
    in.read(unpickler.storageBuffer(key), ref.byteSize());
  }
  for (const auto& [key, ref] : storages)
    if (seen.count(key) == 0)
      fail.corrupt("the data of storage '" + PickleFailure::shortened(key) + "' is missing");
}

}  // namespace

std::map<std::string, WeightArray> readLegacyTorchFile(const std::filesystem::path& path) {
  const PickleFailure fail(path.filename().string());
  if (!hostIsLittleEndian()) fail.unsupported("this reader needs a little-endian machine");
  FileInput in(path, fail);

  const auto head = in.peek4();
  if (head[0] == 'P' && head[1] == 'K' && head[2] == 3 && head[3] == 4)
    fail.unsupported(
        "it is a zip archive (the PyTorch 1.6+ format), not the legacy format; load it as a zip "
        "state_dict");
  if (in.hasTarHeader())
    fail.unsupported("it uses the tar format of PyTorch before 0.1.10; re-save it with a newer PyTorch");
  if (in.size() == 0 || head[0] != 0x80) fail.corrupt("it is not a pickle");

  return wrapErrors(ErrorKind::Model, "Cannot load '" + fail.fileName() + "'", [&] {
    TorchUnpickler unpickler(in, fail);
    unpickler.checkLegacyHeader();
    unpickler.loadStateDict();
    readStorageData(in, unpickler, fail);
    return unpickler.tensors();
  });
}

}  // namespace impasto
