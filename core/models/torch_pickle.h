#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/models/weights.h"

namespace impasto {

// The one reader of the pickles torch.save writes (the zip format's data.pkl
// and the pickles of the legacy pre-1.6 format). It is a pickle machine of our
// own: LibTorch 1.13's unpickler turns the OrderedDict of a Python state_dict
// into None, and Python's runs code. Ours runs nothing: only the globals a
// state_dict needs are accepted (anything else is refused as soon as it is
// read), memo, stack and object counts are bounded, lengths are checked
// against the bytes left, and what the objects hold is charged to a byte
// budget that grows with the file (texts are interned, so re-using one costs
// no copy), so a hostile or damaged file ends in Error(ErrorKind::Model),
// never in a crash or a huge allocation.

// Builds the messages every failure of a pickled weights file uses.
class PickleFailure {
 public:
  explicit PickleFailure(std::string fileName) : fileName_(std::move(fileName)) {}

  [[noreturn]] void corrupt(const std::string& what) const;
  [[noreturn]] void unsupported(const std::string& what) const;
  [[noreturn]] void refused(const std::string& global) const;
  [[noreturn]] void truncated(std::uint64_t at, std::uint64_t size) const;
  // Reading it would take memory out of all proportion to its size.
  [[noreturn]] void exhausting(const std::string& what) const;
  const std::string& fileName() const { return fileName_; }

  // A name from the file as messages show it: a long one cut short.
  static std::string shortened(const std::string& text);

 private:
  std::string fileName_;
};

// Where the pickle bytes come from: a file (legacy format) or memory (zip).
// read() never reads, and callers never allocate for, more than remaining().
class PickleInput {
 public:
  virtual ~PickleInput() = default;
  virtual std::uint64_t size() const = 0;
  virtual std::uint64_t position() const = 0;
  // Copies the next n bytes; fails as truncated when fewer are left.
  virtual void read(void* dst, std::uint64_t n) = 0;

  std::uint64_t remaining() const { return size() - position(); }
  std::uint8_t u8();
  std::uint64_t uintLE(int n);  // little-endian, n <= 8
};

class MemoryPickleInput : public PickleInput {
 public:
  MemoryPickleInput(const char* data, std::size_t size, const PickleFailure& fail)
      : data_(data), size_(size), fail_(fail) {}
  std::uint64_t size() const override { return size_; }
  std::uint64_t position() const override { return pos_; }
  void read(void* dst, std::uint64_t n) override;

 private:
  const char* data_;
  std::size_t size_;
  std::size_t pos_ = 0;
  const PickleFailure& fail_;
};

// The element types of torch storages (torch.FloatStorage, ...).
enum class ElementType { Float32, Float64, Float16, BFloat16, Int64, Int32, Int16, Int8, UInt8, Bool };
std::size_t elementSize(ElementType type);

// A storage a pickle refers to by persistent id:
// ('storage', torch.<Type>Storage, key, location, numel[, view]).
struct StorageRef {
  std::string key;
  ElementType dtype = ElementType::Float32;
  std::int64_t numel = 0;
  std::string location;
  std::uint64_t byteSize() const { return static_cast<std::uint64_t>(numel) * elementSize(dtype); }
};

// Reads the pickles of one file, in the order the file holds them, then
// builds the state_dict's tensors once the storages' data is provided.
class TorchUnpickler {
 public:
  TorchUnpickler(PickleInput& in, const PickleFailure& fail);
  ~TorchUnpickler();
  TorchUnpickler(const TorchUnpickler&) = delete;
  TorchUnpickler& operator=(const TorchUnpickler&) = delete;

  // Legacy format: the magic number, protocol version and system-info pickles.
  void checkLegacyHeader();
  // The pickle holding the state_dict, or a checkpoint that nests it under
  // "state_dict", "model", ...
  void loadStateDict();
  // Legacy format: the pickled list of storage keys that orders the data.
  std::vector<std::string> loadStorageKeys();

  // Every storage the pickles referred to, by key.
  const std::map<std::string, StorageRef>& storages() const { return storages_; }
  // Where the caller writes storage `key`'s ref.byteSize() bytes (little-endian,
  // as torch.save writes them); allocated here, once per storage, so the
  // data lands where it stays.
  void* storageBuffer(const std::string& key);

  // The state_dict's tensors as float32 arrays in C order. A float tensor
  // that is its whole storage shares it without a copy (VGG's 548 MB stay
  // 548 MB), and keys naming one view share one array. Copied views may hold
  // at most about twice the storages' values together, or it throws.
  std::map<std::string, WeightArray> tensors() const;

 private:
  struct StorageBytes;
  class Machine;
  std::unique_ptr<Machine> machine_;
  const PickleFailure& fail_;
  std::map<std::string, StorageRef> storages_;
  std::map<const StorageRef*, std::shared_ptr<StorageBytes>> data_;
};

// Writes the storage's ref.byteSize() bytes to destination.
using StorageLoader = std::function<void(const StorageRef& ref, void* destination)>;

// The zip format's data.pkl: unpickles it and asks loader for each storage.
// The storages may need at most storageBytes bytes together (the data the
// file can hold), checked before any is allocated. Throws Error(Model) naming
// origin.
std::map<std::string, WeightArray> unpickleTensors(const char* data, std::size_t size,
                                                   const StorageLoader& loader, const std::string& origin,
                                                   std::uint64_t storageBytes);

}  // namespace impasto
