#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "tests/support/aten_ops.h"

namespace impasto::test {

// Emits pickle opcodes (protocol 2): enough to write what torch.save wrote
// before PyTorch 1.6, and to forge the hostile pickles a reader must refuse.
class PickleWriter {
 public:
  PickleWriter& proto();
  PickleWriter& stop();
  PickleWriter& mark();
  PickleWriter& global(const std::string& module, const std::string& name);
  PickleWriter& integer(std::int64_t value);          // BININT1 / BININT2 / BININT / LONG1
  PickleWriter& longBytes(const std::string& bytes);  // LONG1 with these two's-complement bytes
  PickleWriter& unicode(const std::string& s);        // BINUNICODE (Python 3 str)
  PickleWriter& binstring(const std::string& s);      // SHORT_BINSTRING / BINSTRING (Python 2 str)
  PickleWriter& none();
  PickleWriter& boolean(bool value);
  PickleWriter& binfloat(double value);
  PickleWriter& emptyTuple();
  PickleWriter& tuple();  // MARK ... TUPLE
  PickleWriter& emptyList();
  PickleWriter& appends();
  PickleWriter& emptyDict();
  PickleWriter& setitems();
  PickleWriter& reduce();
  PickleWriter& build();
  PickleWriter& binpersid();
  PickleWriter& put(std::uint32_t index);  // BINPUT / LONG_BINPUT
  PickleWriter& get(std::uint32_t index);  // BINGET / LONG_BINGET
  PickleWriter& intTuple(const std::vector<std::int64_t>& values);
  PickleWriter& op(std::uint8_t opcode);
  PickleWriter& raw(const std::string& bytes);

  const std::string& bytes() const { return out_; }

 private:
  std::string out_;
};

// One storage of a legacy file: its key and its elements (1-D, any dtype).
struct LegacyStorage {
  std::string key;
  at::Tensor data;
  std::int64_t declaredNumel = -1;  // >= 0: claim this many elements instead (forged files)
};

// One state_dict entry: a strided view into a storage.
struct LegacyTensor {
  std::string name;
  std::string storageKey;
  std::int64_t offset = 0;
  std::vector<std::int64_t> size;
  std::vector<std::int64_t> stride;
};

enum class LegacyStyle {
  Python3,  // PyTorch 1.x on Python 3: _rebuild_tensor_v2, unicode keys, OrderedDict + SETITEMS + _metadata
  Python2,  // PyTorch 0.3 on Python 2: _rebuild_tensor, byte-string keys, OrderedDict([[k, v], ...])
  Python2SetState,  // the oldest files: FloatTensor() then BUILD with (storage, offset, size, stride)
};

// The three header pickles: magic number, protocol version 1001, sys info.
std::string legacyHeader();

// The main pickle (the state_dict) on its own.
std::string legacyStateDictPickle(const std::vector<LegacyStorage>& storages,
                                  const std::vector<LegacyTensor>& tensors,
                                  LegacyStyle style = LegacyStyle::Python3);

// The storage-key pickle plus the raw data of each storage, in order.
std::string legacyStorageSection(const std::vector<LegacyStorage>& storages);

// A whole legacy file: header, state_dict, storage keys and data.
std::string legacyFile(const std::vector<LegacyStorage>& storages, const std::vector<LegacyTensor>& tensors,
                       LegacyStyle style = LegacyStyle::Python3);

// A legacy file where every tensor has its own contiguous float storage, as
// torch.save(model.state_dict()) writes.
std::string legacyFile(const std::vector<std::pair<std::string, at::Tensor>>& tensors,
                       LegacyStyle style = LegacyStyle::Python3);

void writeBytes(const std::filesystem::path& path, const std::string& bytes);

// Hostile main pickles for the memory-bound tests; each is a few MB at most.
// A state_dict {"w": 4 floats} whose storage key is keyBytes long and whose
// persistent id is memoised and loaded `references` more times: a reader that
// copies the key per reference needs keyBytes x references bytes.
std::string memoisedKeyBomb(std::size_t keyBytes, std::size_t references);
// A memoised list of `pairs` (int, None) pairs passed to OrderedDict `calls`
// times; the pickle's value is an empty dict. A reader that copies the list
// into every dict needs pairs x calls entries.
std::string orderedDictBomb(std::size_t pairs, std::size_t calls);

}  // namespace impasto::test
