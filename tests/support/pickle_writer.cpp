#include "tests/support/pickle_writer.h"

#include <cstring>
#include <fstream>
#include <stdexcept>

namespace impasto::test {
namespace {

void appendLE(std::string& out, std::uint64_t value, int bytes) {
  for (int i = 0; i < bytes; ++i) out.push_back(static_cast<char>((value >> (8 * i)) & 0xff));
}

std::string typePrefix(at::ScalarType dtype) {
  switch (dtype) {
    case at::kFloat:
      return "Float";
    case at::kDouble:
      return "Double";
    case at::kHalf:
      return "Half";
    case at::kLong:
      return "Long";
    case at::kInt:
      return "Int";
    case at::kByte:
      return "Byte";
    default:
      throw std::invalid_argument("pickle_writer: unsupported storage dtype");
  }
}

const LegacyStorage& findStorage(const std::vector<LegacyStorage>& storages, const std::string& key) {
  for (const auto& s : storages)
    if (s.key == key) return s;
  throw std::invalid_argument("pickle_writer: unknown storage key " + key);
}

std::int64_t declaredNumel(const LegacyStorage& s) {
  return s.declaredNumel >= 0 ? s.declaredNumel : s.data.numel();
}

// Writes objects the way CPython's pickler does: each global once, then by memo.
class StateDictPickler {
 public:
  explicit StateDictPickler(LegacyStyle style) : style_(style) {}

  std::string pickle(const std::vector<LegacyStorage>& storages, const std::vector<LegacyTensor>& tensors) {
    w_.proto();
    cachedGlobal("collections", "OrderedDict");
    if (style_ == LegacyStyle::Python3) {
      w_.emptyTuple().reduce();
      memoize();
      w_.mark();
      for (const auto& t : tensors) {
        string(t.name);
        memoize();
        tensor(findStorage(storages, t.storageKey), t);
      }
      w_.setitems();
      // OrderedDict.__reduce__ carries state_dict()._metadata as instance state.
      w_.emptyDict();
      memoize();
      w_.mark().unicode("_metadata");
      cachedGlobal("collections", "OrderedDict");
      w_.emptyTuple().reduce();
      memoize();
      w_.mark().unicode("").emptyDict();
      memoize();
      w_.mark().unicode("version").integer(1).setitems();
      w_.setitems().setitems().build();
    } else {
      w_.emptyList();
      memoize();
      w_.mark();
      for (const auto& t : tensors) {
        w_.emptyList();
        memoize();
        w_.mark();
        string(t.name);
        memoize();
        tensor(findStorage(storages, t.storageKey), t);
        w_.appends();
      }
      w_.appends().op(0x85).reduce();  // TUPLE1: OrderedDict(items)
      memoize();
    }
    w_.stop();
    return w_.bytes();
  }

 private:
  void memoize() { w_.put(next_++); }

  void cachedGlobal(const std::string& module, const std::string& name) {
    const std::string key = module + "." + name;
    auto it = memo_.find(key);
    if (it != memo_.end()) {
      w_.get(it->second);
      return;
    }
    w_.global(module, name);
    memo_[key] = next_;
    memoize();
  }

  void string(const std::string& s) {
    if (style_ == LegacyStyle::Python3)
      w_.unicode(s);
    else
      w_.binstring(s);
  }

  void tensor(const LegacyStorage& storage, const LegacyTensor& t) {
    const bool v2 = style_ == LegacyStyle::Python3;
    const bool setState = style_ == LegacyStyle::Python2SetState;
    if (setState) {
      cachedGlobal("torch", typePrefix(storage.data.scalar_type()) + "Tensor");
      w_.emptyTuple().reduce();
      memoize();
    } else {
      cachedGlobal("torch._utils", v2 ? "_rebuild_tensor_v2" : "_rebuild_tensor");
    }
    w_.mark();
    // persistent id: ('storage', type, key, location, numel, view_metadata)
    w_.mark();
    string("storage");
    memoize();
    cachedGlobal("torch", typePrefix(storage.data.scalar_type()) + "Storage");
    string(storage.key);
    memoize();
    string("cpu");
    memoize();
    w_.integer(declaredNumel(storage)).none().tuple();
    memoize();
    w_.binpersid();
    w_.integer(t.offset);
    w_.intTuple(t.size);
    memoize();
    w_.intTuple(t.stride);
    memoize();
    if (v2) {
      w_.boolean(false);
      cachedGlobal("collections", "OrderedDict");
      w_.emptyTuple().reduce();
      memoize();
    }
    w_.tuple();
    memoize();
    if (setState) {
      w_.build();
    } else {
      w_.reduce();
      memoize();
    }
  }

  LegacyStyle style_;
  PickleWriter w_;
  std::map<std::string, std::uint32_t> memo_;
  std::uint32_t next_ = 0;
};

}  // namespace

PickleWriter& PickleWriter::proto() { return op(0x80).op(2); }
PickleWriter& PickleWriter::stop() { return op('.'); }
PickleWriter& PickleWriter::mark() { return op('('); }

PickleWriter& PickleWriter::global(const std::string& module, const std::string& name) {
  op('c');
  out_ += module + "\n" + name + "\n";
  return *this;
}

PickleWriter& PickleWriter::integer(std::int64_t value) {
  if (value >= 0 && value < 256) {
    op('K');
    appendLE(out_, static_cast<std::uint64_t>(value), 1);
  } else if (value >= 0 && value < 65536) {
    op('M');
    appendLE(out_, static_cast<std::uint64_t>(value), 2);
  } else if (value >= INT32_MIN && value <= INT32_MAX) {
    op('J');
    appendLE(out_, static_cast<std::uint64_t>(value), 4);
  } else {
    std::string bytes;
    appendLE(bytes, static_cast<std::uint64_t>(value), 8);
    longBytes(bytes);
  }
  return *this;
}

PickleWriter& PickleWriter::longBytes(const std::string& bytes) {
  op(0x8a);
  appendLE(out_, bytes.size(), 1);
  out_ += bytes;
  return *this;
}

PickleWriter& PickleWriter::unicode(const std::string& s) {
  op('X');
  appendLE(out_, s.size(), 4);
  out_ += s;
  return *this;
}

PickleWriter& PickleWriter::binstring(const std::string& s) {
  if (s.size() < 256) {
    op('U');
    appendLE(out_, s.size(), 1);
  } else {
    op('T');
    appendLE(out_, s.size(), 4);
  }
  out_ += s;
  return *this;
}

PickleWriter& PickleWriter::none() { return op('N'); }
PickleWriter& PickleWriter::boolean(bool value) { return op(value ? 0x88 : 0x89); }

PickleWriter& PickleWriter::binfloat(double value) {
  std::uint64_t bits = 0;
  std::memcpy(&bits, &value, sizeof bits);
  op('G');
  for (int i = 7; i >= 0; --i) out_.push_back(static_cast<char>((bits >> (8 * i)) & 0xff));
  return *this;
}

PickleWriter& PickleWriter::emptyTuple() { return op(')'); }
PickleWriter& PickleWriter::tuple() { return op('t'); }
PickleWriter& PickleWriter::emptyList() { return op(']'); }
PickleWriter& PickleWriter::appends() { return op('e'); }
PickleWriter& PickleWriter::emptyDict() { return op('}'); }
PickleWriter& PickleWriter::setitems() { return op('u'); }
PickleWriter& PickleWriter::reduce() { return op('R'); }
PickleWriter& PickleWriter::build() { return op('b'); }
PickleWriter& PickleWriter::binpersid() { return op('Q'); }

PickleWriter& PickleWriter::put(std::uint32_t index) {
  if (index < 256) {
    op('q');
    appendLE(out_, index, 1);
  } else {
    op('r');
    appendLE(out_, index, 4);
  }
  return *this;
}

PickleWriter& PickleWriter::get(std::uint32_t index) {
  if (index < 256) {
    op('h');
    appendLE(out_, index, 1);
  } else {
    op('j');
    appendLE(out_, index, 4);
  }
  return *this;
}

PickleWriter& PickleWriter::intTuple(const std::vector<std::int64_t>& values) {
  if (values.empty()) return emptyTuple();
  if (values.size() > 3) mark();
  for (std::int64_t v : values) integer(v);
  if (values.size() > 3) return tuple();
  return op(static_cast<std::uint8_t>(0x84 + values.size()));  // TUPLE1..3
}

PickleWriter& PickleWriter::op(std::uint8_t opcode) {
  out_.push_back(static_cast<char>(opcode));
  return *this;
}

PickleWriter& PickleWriter::raw(const std::string& bytes) {
  out_ += bytes;
  return *this;
}

std::string legacyHeader() {
  PickleWriter w;
  // 0x1950a86a20f9469cfc6c, little-endian
  w.proto().longBytes(std::string("\x6c\xfc\x9c\x46\xf9\x20\x6a\xa8\x50\x19", 10)).stop();
  w.proto().integer(1001).stop();
  w.proto().emptyDict().put(0).mark();
  w.unicode("protocol_version").integer(1001);
  w.unicode("little_endian").boolean(true);
  w.unicode("type_sizes").emptyDict().put(1).mark();
  w.unicode("short").integer(2).unicode("int").integer(4).unicode("long").integer(4).setitems();
  w.setitems().stop();
  return w.bytes();
}

std::string legacyStateDictPickle(const std::vector<LegacyStorage>& storages,
                                  const std::vector<LegacyTensor>& tensors, LegacyStyle style) {
  return StateDictPickler(style).pickle(storages, tensors);
}

std::string legacyStorageSection(const std::vector<LegacyStorage>& storages) {
  PickleWriter keys;
  keys.proto().emptyList().put(0).mark();
  for (const auto& s : storages) keys.unicode(s.key);
  keys.appends().stop();
  std::string out = keys.bytes();
  for (const auto& s : storages) {
    const at::Tensor data = s.data.contiguous();
    appendLE(out, static_cast<std::uint64_t>(declaredNumel(s)), 8);
    out.append(static_cast<const char*>(data.data_ptr()), data.numel() * data.element_size());
  }
  return out;
}

std::string legacyFile(const std::vector<LegacyStorage>& storages, const std::vector<LegacyTensor>& tensors,
                       LegacyStyle style) {
  return legacyHeader() + legacyStateDictPickle(storages, tensors, style) + legacyStorageSection(storages);
}

std::string legacyFile(const std::vector<std::pair<std::string, at::Tensor>>& tensors, LegacyStyle style) {
  std::vector<LegacyStorage> storages;
  std::vector<LegacyTensor> views;
  for (std::size_t i = 0; i < tensors.size(); ++i) {
    const at::Tensor t = tensors[i].second.contiguous();
    // torch keys storages by their address; any distinct strings do.
    const std::string key = std::to_string(94000000000000ull + i * 4096);
    storages.push_back({key, t.reshape({-1})});
    views.push_back({tensors[i].first, key, 0, t.sizes().vec(), t.strides().vec()});
  }
  return legacyFile(storages, views, style);
}

void writeBytes(const std::filesystem::path& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!out) throw std::runtime_error("cannot write " + path.string());
}

std::string memoisedKeyBomb(std::size_t keyBytes, std::size_t references) {
  PickleWriter w;
  w.proto().emptyDict().mark().unicode("w");
  w.global("torch._utils", "_rebuild_tensor_v2").mark();
  w.mark().unicode("storage").global("torch", "FloatStorage").unicode(std::string(keyBytes, 'k'));
  w.unicode("cpu").integer(4).tuple().put(1);
  for (std::size_t i = 0; i < references; ++i) w.get(1).binpersid().op('0');  // POP
  w.binpersid().integer(0).intTuple({4}).intTuple({1}).boolean(false);
  w.global("collections", "OrderedDict").emptyTuple().reduce().tuple().reduce();
  w.setitems().stop();
  return w.bytes();
}

std::string orderedDictBomb(std::size_t pairs, std::size_t calls) {
  PickleWriter w;
  w.proto().global("collections", "OrderedDict").put(0).op('0');
  w.none().put(1).op('0');
  w.emptyList().mark();
  for (std::size_t i = 0; i < pairs; ++i) w.integer(static_cast<std::int64_t>(i)).get(1).op(0x86);  // TUPLE2
  w.appends().op(0x85).put(2).op('0');  // (list,), memoised
  for (std::size_t i = 0; i < calls; ++i) w.get(0).get(2).reduce().op('0');
  w.emptyDict().stop();
  return w.bytes();
}

}  // namespace impasto::test
