#include "core/legacy_pickle.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <deque>
#include <fstream>
#include <memory>
#include <unordered_map>
#include <vector>

#include "core/error.h"

namespace impasto {
namespace {

// A state_dict pickle holds a few objects per tensor; these bounds are far
// above any real file and keep a hostile one from exhausting memory.
constexpr std::size_t kMaxObjects = std::size_t{1} << 18;
constexpr std::size_t kMaxStack = std::size_t{1} << 20;
constexpr std::size_t kMaxMemo = std::size_t{1} << 20;
constexpr std::size_t kMaxMarks = std::size_t{1} << 16;
constexpr std::size_t kMaxGlobalLine = 256;
constexpr std::size_t kMaxTensorDims = 16;

// torch.save's legacy header: a pickled long, then the format version.
constexpr std::array<std::uint8_t, 10> kMagic = {0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19};
constexpr std::int64_t kProtocolVersion = 1001;

class Failure {
 public:
  explicit Failure(std::string fileName) : fileName_(std::move(fileName)) {}

  [[noreturn]] void corrupt(const std::string& what) const {
    throw Error(ErrorKind::Model,
                "Cannot load '" + fileName_ + "': " + what +
                    ". The file is damaged or not a PyTorch weights file; download it again.");
  }
  [[noreturn]] void unsupported(const std::string& what) const {
    throw Error(ErrorKind::Model, "Cannot load '" + fileName_ + "': " + what + ".");
  }
  [[noreturn]] void refused(const std::string& global) const {
    throw Error(ErrorKind::Model, "Impasto refuses to load '" + fileName_ + "': it references " + global +
                                      ", which a weights file does not need; it may be malicious or not a "
                                      "state_dict (save model.state_dict() rather than the whole model).");
  }
  [[noreturn]] void truncated(std::uint64_t at, std::uint64_t size) const {
    throw Error(ErrorKind::Model,
                "Cannot load '" + fileName_ + "': it ends too early (it has " + std::to_string(size) +
                    " bytes; what starts at byte " + std::to_string(at) +
                    " runs past the end). It is probably an incomplete download; download it "
                    "again.");
  }
  const std::string& fileName() const { return fileName_; }

 private:
  std::string fileName_;
};

// Sequential reader that never reads, or allocates for, more than the file holds.
class ByteReader {
 public:
  ByteReader(const std::filesystem::path& path, const Failure& fail) : fail_(fail) {
    std::error_code ec;
    size_ = std::filesystem::file_size(path, ec);
    if (ec) throw Error(ErrorKind::Model, "Cannot read '" + fail.fileName() + "': " + ec.message() + ".");
    in_.open(path, std::ios::binary);
    if (!in_) throw Error(ErrorKind::Model, "Cannot open '" + fail.fileName() + "' for reading.");
  }

  std::uint64_t size() const { return size_; }
  std::uint64_t position() const { return pos_; }
  std::uint64_t remaining() const { return size_ - pos_; }

  void need(std::uint64_t n) const {
    if (n > remaining()) fail_.truncated(pos_, size_);
  }

  void read(void* dst, std::uint64_t n) {
    need(n);
    if (n == 0) return;
    in_.read(static_cast<char*>(dst), static_cast<std::streamsize>(n));
    if (static_cast<std::uint64_t>(in_.gcount()) != n) fail_.truncated(pos_ + in_.gcount(), size_);
    pos_ += n;
  }

  std::uint8_t u8() {
    std::uint8_t b = 0;
    read(&b, 1);
    return b;
  }

  // Little-endian unsigned integer of n bytes (n <= 8).
  std::uint64_t uintLE(int n) {
    std::uint8_t buf[8] = {};
    read(buf, static_cast<std::uint64_t>(n));
    std::uint64_t v = 0;
    for (int i = n - 1; i >= 0; --i) v = (v << 8) | buf[i];
    return v;
  }

  std::string bytes(std::uint64_t n) {
    need(n);
    std::string s(static_cast<std::size_t>(n), '\0');
    read(s.data(), n);
    return s;
  }

  std::string line(std::size_t maxLength) {
    std::string s;
    for (;;) {
      const char c = static_cast<char>(u8());
      if (c == '\n') return s;
      if (s.size() >= maxLength)
        fail_.corrupt("a pickle text line is too long at byte " + std::to_string(pos_));
      s.push_back(c);
    }
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
  const Failure& fail_;
  std::ifstream in_;
  std::uint64_t size_ = 0;
  std::uint64_t pos_ = 0;
};

enum class Type { None, Bool, Int, BigInt, Float, Str, Tuple, List, Dict, Global, Storage, Tensor };

struct StorageSlice {
  std::string key;
  std::int64_t viewOffset = 0;  // elements into the root storage
  std::int64_t viewNumel = 0;
};

struct TensorLayout {
  bool awaitingState = false;  // made by torch.FloatTensor(), filled by BUILD
  StorageSlice storage;
  std::int64_t offset = 0;
  std::vector<std::int64_t> sizes;
  std::vector<std::int64_t> strides;
};

// A Python value from the restricted world a state_dict lives in. All
// objects are owned by the Unpickler's arena, so cycles a hostile pickle may
// build (a list appended to itself) cost nothing and leak nothing.
struct Obj;

struct DictData {
  std::vector<std::pair<Obj*, Obj*>> entries;             // in insertion order
  std::unordered_map<std::string, std::size_t> strIndex;  // Str key -> entry
};

struct Obj {
  Type type = Type::None;
  std::int64_t i = 0;
  double f = 0.0;
  std::string s;            // Str; Global "module.name"; BigInt little-endian bytes
  std::vector<Obj*> items;  // Tuple, List
  std::unique_ptr<DictData> dict;
  std::unique_ptr<StorageSlice> storage;
  std::unique_ptr<TensorLayout> tensor;
};

struct StorageType {
  const char* name;
  c10::ScalarType dtype;
};

constexpr StorageType kStorageTypes[] = {
    {"FloatStorage", c10::ScalarType::Float}, {"DoubleStorage", c10::ScalarType::Double},
    {"HalfStorage", c10::ScalarType::Half},   {"BFloat16Storage", c10::ScalarType::BFloat16},
    {"LongStorage", c10::ScalarType::Long},   {"IntStorage", c10::ScalarType::Int},
    {"ShortStorage", c10::ScalarType::Short}, {"CharStorage", c10::ScalarType::Char},
    {"ByteStorage", c10::ScalarType::Byte},   {"BoolStorage", c10::ScalarType::Bool},
};

// "torch.FloatStorage" -> "Float"; GPU-saved files name torch.cuda.*, same bytes.
std::string torchTypePrefix(const std::string& global, const std::string& suffix) {
  std::string name;
  if (global.rfind("torch.cuda.", 0) == 0)
    name = global.substr(11);
  else if (global.rfind("torch.", 0) == 0)
    name = global.substr(6);
  else
    return {};
  if (name.size() <= suffix.size() || name.compare(name.size() - suffix.size(), suffix.size(), suffix) != 0)
    return {};
  return name.substr(0, name.size() - suffix.size());
}

const StorageType* findStorageType(const std::string& global) {
  const std::string prefix = torchTypePrefix(global, "Storage");
  for (const auto& t : kStorageTypes)
    if (!prefix.empty() && prefix + "Storage" == t.name) return &t;
  return nullptr;
}

// torch.FloatTensor etc.: the oldest files pickle a tensor as FloatTensor()
// followed by BUILD with (storage, offset, size, stride).
bool isTensorClass(const std::string& global) {
  const std::string prefix = torchTypePrefix(global, "Tensor");
  for (const auto& t : kStorageTypes)
    if (!prefix.empty() && prefix + "Storage" == t.name) return true;
  return false;
}

bool isAllowedGlobal(const std::string& global) {
  return global == "collections.OrderedDict" || global == "torch._utils._rebuild_tensor_v2" ||
         global == "torch._utils._rebuild_tensor" || global == "torch._utils._rebuild_parameter" ||
         findStorageType(global) != nullptr || isTensorClass(global);
}

struct StorageInfo {
  c10::ScalarType dtype = c10::ScalarType::Float;
  std::int64_t numel = 0;
  torch::Tensor data;  // 1-D, filled from the data section
};

bool mulOverflows(std::int64_t a, std::int64_t b, std::int64_t* out) {
  return __builtin_mul_overflow(a, b, out);
}
bool addOverflows(std::int64_t a, std::int64_t b, std::int64_t* out) {
  return __builtin_add_overflow(a, b, out);
}

class Unpickler {
 public:
  Unpickler(ByteReader& in, const Failure& fail) : in_(in), fail_(fail) {}

  // Reads one pickle up to its STOP and returns its value.
  Obj* load() {
    stack_.clear();
    marks_.clear();
    memo_.clear();
    for (;;) {
      const std::uint64_t at = in_.position();
      const std::uint8_t op = in_.u8();
      switch (op) {
        case 0x80:  // PROTO
          if (in_.u8() > 5) fail_.unsupported("it uses a pickle protocol newer than 5");
          break;
        case 0x95:  // FRAME: a length hint only
          in_.uintLE(8);
          break;
        case '.': {  // STOP
          if (stack_.size() != 1) fail_.corrupt("a pickle ends with a malformed stack");
          Obj* result = stack_.back();
          stack_.clear();
          return result;
        }
        case '(':  // MARK
          if (marks_.size() >= kMaxMarks) fail_.corrupt("pickle marks nest too deeply");
          marks_.push_back(stack_.size());
          break;
        case '0':  // POP
          pop();
          break;
        case '1':  // POP_MARK
          popMark();
          break;
        case '2':  // DUP
          push(top());
          break;
        case 'c': {  // GLOBAL
          std::string module = in_.line(kMaxGlobalLine);
          std::string name = in_.line(kMaxGlobalLine);
          push(makeGlobal(module + "." + name));
          break;
        }
        case 0x93: {  // STACK_GLOBAL
          Obj* name = pop();
          Obj* module = pop();
          if (name->type != Type::Str || module->type != Type::Str)
            fail_.corrupt("STACK_GLOBAL without names");
          push(makeGlobal(module->s + "." + name->s));
          break;
        }
        case 'q':  // BINPUT
          memoPut(in_.u8());
          break;
        case 'r':  // LONG_BINPUT
          memoPut(static_cast<std::uint32_t>(in_.uintLE(4)));
          break;
        case 0x94:  // MEMOIZE
          memoPut(static_cast<std::uint32_t>(memo_.size()));
          break;
        case 'h':  // BINGET
          push(memoGet(in_.u8()));
          break;
        case 'j':  // LONG_BINGET
          push(memoGet(static_cast<std::uint32_t>(in_.uintLE(4))));
          break;
        case '}':  // EMPTY_DICT
          push(make(Type::Dict));
          break;
        case ']':  // EMPTY_LIST
          push(make(Type::List));
          break;
        case ')':  // EMPTY_TUPLE
          push(make(Type::Tuple));
          break;
        case 'd': {  // DICT
          Obj* dict = make(Type::Dict);
          auto items = popToMark();
          if (items.size() % 2 != 0) fail_.corrupt("a pickled dict has an odd number of items");
          for (std::size_t k = 0; k < items.size(); k += 2) setItem(dict, items[k], items[k + 1]);
          push(dict);
          break;
        }
        case 'l': {  // LIST
          Obj* list = make(Type::List);
          list->items = popToMark();
          push(list);
          break;
        }
        case 't': {  // TUPLE
          Obj* tuple = make(Type::Tuple);
          tuple->items = popToMark();
          push(tuple);
          break;
        }
        case 0x85:    // TUPLE1
        case 0x86:    // TUPLE2
        case 0x87: {  // TUPLE3
          const std::size_t n = op - 0x84u;
          if (stack_.size() < n + base()) fail_.corrupt("a pickled tuple lacks its items");
          Obj* tuple = make(Type::Tuple);
          tuple->items.assign(stack_.end() - static_cast<std::ptrdiff_t>(n), stack_.end());
          stack_.resize(stack_.size() - n);
          push(tuple);
          break;
        }
        case 'J':  // BININT
          push(makeInt(static_cast<std::int32_t>(static_cast<std::uint32_t>(in_.uintLE(4)))));
          break;
        case 'K':  // BININT1
          push(makeInt(in_.u8()));
          break;
        case 'M':  // BININT2
          push(makeInt(static_cast<std::int64_t>(in_.uintLE(2))));
          break;
        case 0x8a:  // LONG1
          push(makeLong(in_.u8()));
          break;
        case 0x8b: {  // LONG4
          const std::uint64_t n = in_.uintLE(4);
          if (n > 64) fail_.unsupported("it holds an integer too large for a weights file");
          push(makeLong(n));
          break;
        }
        case 'X':  // BINUNICODE
          push(makeStr(in_.bytes(in_.uintLE(4))));
          break;
        case 0x8c:  // SHORT_BINUNICODE
          push(makeStr(in_.bytes(in_.u8())));
          break;
        case 0x8d:  // BINUNICODE8
          push(makeStr(in_.bytes(in_.uintLE(8))));
          break;
        case 'U':  // SHORT_BINSTRING (Python 2 str)
        case 'C':  // SHORT_BINBYTES
          push(makeStr(in_.bytes(in_.u8())));
          break;
        case 'T': {  // BINSTRING
          const auto n = static_cast<std::int32_t>(static_cast<std::uint32_t>(in_.uintLE(4)));
          if (n < 0) fail_.corrupt("a pickled string has a negative length");
          push(makeStr(in_.bytes(static_cast<std::uint64_t>(n))));
          break;
        }
        case 'B':  // BINBYTES
          push(makeStr(in_.bytes(in_.uintLE(4))));
          break;
        case 'N':  // NONE
          push(make(Type::None));
          break;
        case 0x88:    // NEWTRUE
        case 0x89: {  // NEWFALSE
          Obj* b = make(Type::Bool);
          b->i = op == 0x88 ? 1 : 0;
          push(b);
          break;
        }
        case 'G': {  // BINFLOAT, big-endian
          std::uint8_t buf[8];
          in_.read(buf, 8);
          std::uint64_t bits = 0;
          for (std::uint8_t byte : buf) bits = (bits << 8) | byte;
          Obj* f = make(Type::Float);
          std::memcpy(&f->f, &bits, sizeof bits);
          push(f);
          break;
        }
        case 'R': {  // REDUCE
          Obj* args = pop();
          Obj* callable = pop();
          push(reduce(callable, args));
          break;
        }
        case 0x81: {  // NEWOBJ: cls.__new__(cls, *args)
          Obj* args = pop();
          Obj* cls = pop();
          push(reduce(cls, args));
          break;
        }
        case 'b': {  // BUILD
          Obj* state = pop();
          build(top(), state);
          break;
        }
        case 's': {  // SETITEM
          Obj* value = pop();
          Obj* key = pop();
          setItem(top(), key, value);
          break;
        }
        case 'u': {  // SETITEMS
          auto items = popToMark();
          if (items.size() % 2 != 0) fail_.corrupt("SETITEMS with an odd number of items");
          Obj* dict = top();
          for (std::size_t k = 0; k < items.size(); k += 2) setItem(dict, items[k], items[k + 1]);
          break;
        }
        case 'a': {  // APPEND
          Obj* value = pop();
          append(top(), value);
          break;
        }
        case 'e': {  // APPENDS
          auto items = popToMark();
          Obj* list = top();
          for (Obj* item : items) append(list, item);
          break;
        }
        case 'Q':  // BINPERSID
          push(persistentLoad(pop()));
          break;
        default: {
          char hex[8];
          std::snprintf(hex, sizeof hex, "0x%02x", op);
          fail_.unsupported(std::string("it uses pickle opcode ") + hex + " at byte " + std::to_string(at) +
                            ", which a PyTorch legacy state_dict does not contain");
        }
      }
    }
  }

  std::unordered_map<std::string, StorageInfo>& storages() { return storages_; }

 private:
  Obj* make(Type type) {
    if (arena_.size() >= kMaxObjects)
      fail_.unsupported("its pickle holds more objects than a weights file would");
    arena_.emplace_back();
    Obj* o = &arena_.back();
    o->type = type;
    if (type == Type::Dict) o->dict = std::make_unique<DictData>();
    if (type == Type::Storage) o->storage = std::make_unique<StorageSlice>();
    if (type == Type::Tensor) o->tensor = std::make_unique<TensorLayout>();
    return o;
  }
  Obj* makeInt(std::int64_t v) {
    Obj* o = make(Type::Int);
    o->i = v;
    return o;
  }
  Obj* makeStr(std::string s) {
    Obj* o = make(Type::Str);
    o->s = std::move(s);
    return o;
  }
  // Python longs: two's complement, little-endian. Those that fit stay Int.
  Obj* makeLong(std::uint64_t n) {
    std::string bytes = in_.bytes(n);
    if (n <= 8) {
      std::uint64_t v = 0;
      for (std::size_t k = n; k-- > 0;) v = (v << 8) | static_cast<std::uint8_t>(bytes[k]);
      if (n > 0 && n < 8 && (static_cast<std::uint8_t>(bytes[n - 1]) & 0x80))
        v |= ~std::uint64_t{0} << (8 * n);
      return makeInt(static_cast<std::int64_t>(v));
    }
    Obj* o = make(Type::BigInt);
    o->s = std::move(bytes);
    return o;
  }
  Obj* makeGlobal(const std::string& name) {
    if (!isAllowedGlobal(name)) fail_.refused(name);
    Obj* o = make(Type::Global);
    o->s = name;
    return o;
  }

  std::size_t base() const { return marks_.empty() ? 0 : marks_.back(); }
  void push(Obj* o) {
    if (stack_.size() >= kMaxStack)
      fail_.unsupported("its pickle stack grows deeper than a weights file's would");
    stack_.push_back(o);
  }
  Obj* pop() {
    if (stack_.size() <= base()) fail_.corrupt("a pickle pops from an empty stack");
    Obj* o = stack_.back();
    stack_.pop_back();
    return o;
  }
  Obj* top() {
    if (stack_.size() <= base()) fail_.corrupt("a pickle reads from an empty stack");
    return stack_.back();
  }
  std::vector<Obj*> popToMark() {
    if (marks_.empty()) fail_.corrupt("a pickle lacks a MARK");
    const std::size_t mark = marks_.back();
    marks_.pop_back();
    std::vector<Obj*> items(stack_.begin() + static_cast<std::ptrdiff_t>(mark), stack_.end());
    stack_.resize(mark);
    return items;
  }
  void popMark() { popToMark(); }

  void memoPut(std::uint32_t index) {
    if (memo_.size() >= kMaxMemo && memo_.count(index) == 0)
      fail_.unsupported("its pickle memo is too large");
    memo_[index] = top();
  }
  Obj* memoGet(std::uint32_t index) {
    auto it = memo_.find(index);
    if (it == memo_.end())
      fail_.corrupt("a pickle refers to memo entry " + std::to_string(index) + " before setting it");
    return it->second;
  }

  void setItem(Obj* dict, Obj* key, Obj* value) {
    if (dict->type != Type::Dict) fail_.corrupt("a pickle sets an item on something that is not a dict");
    if (key->type == Type::Str) {
      auto it = dict->dict->strIndex.find(key->s);
      if (it != dict->dict->strIndex.end()) {
        dict->dict->entries[it->second].second = value;
        return;
      }
      dict->dict->strIndex.emplace(key->s, dict->dict->entries.size());
    }
    dict->dict->entries.emplace_back(key, value);
  }
  void append(Obj* list, Obj* value) {
    if (list->type != Type::List) fail_.corrupt("a pickle appends to something that is not a list");
    list->items.push_back(value);
  }

  std::int64_t intArg(const Obj* o, const char* what) const {
    if (o->type != Type::Int) fail_.corrupt(std::string("a tensor's ") + what + " is not an integer");
    return o->i;
  }
  std::vector<std::int64_t> intTuple(const Obj* o, const char* what) const {
    if (o->type != Type::Tuple && o->type != Type::List)
      fail_.corrupt(std::string("a tensor's ") + what + " is not a tuple");
    if (o->items.size() > kMaxTensorDims) fail_.unsupported(std::string("a tensor has too many dimensions"));
    std::vector<std::int64_t> values;
    for (const Obj* item : o->items) values.push_back(intArg(item, what));
    return values;
  }

  Obj* reduce(Obj* callable, Obj* args) {
    if (callable->type != Type::Global) fail_.corrupt("a pickle calls something that is not a function");
    if (args->type != Type::Tuple)
      fail_.corrupt("a pickle calls " + callable->s + " without an argument tuple");
    const std::string& name = callable->s;
    const auto& a = args->items;
    if (name == "collections.OrderedDict") {
      Obj* dict = make(Type::Dict);
      // Python 2 pickled OrderedDict as OrderedDict([[key, value], ...]).
      if (a.size() == 1 && (a[0]->type == Type::List || a[0]->type == Type::Tuple)) {
        for (Obj* pair : a[0]->items) {
          if ((pair->type != Type::List && pair->type != Type::Tuple) || pair->items.size() != 2)
            fail_.corrupt("an OrderedDict item is not a key-value pair");
          setItem(dict, pair->items[0], pair->items[1]);
        }
      } else if (!a.empty()) {
        fail_.corrupt("OrderedDict is called with unexpected arguments");
      }
      return dict;
    }
    if (name == "torch._utils._rebuild_tensor_v2" || name == "torch._utils._rebuild_tensor") {
      const bool v2 = name == "torch._utils._rebuild_tensor_v2";
      if (v2 ? (a.size() < 6 || a.size() > 7) : a.size() != 4)
        fail_.corrupt(name + " is called with " + std::to_string(a.size()) + " arguments");
      Obj* t = make(Type::Tensor);
      setTensor(*t->tensor, a);
      return t;
    }
    if (isTensorClass(name)) {
      if (!a.empty()) fail_.corrupt(name + " is called with arguments");
      Obj* t = make(Type::Tensor);
      t->tensor->awaitingState = true;
      return t;
    }
    if (name == "torch._utils._rebuild_parameter") {
      if (a.size() != 3 || a[0]->type != Type::Tensor) fail_.corrupt("a parameter is not built on a tensor");
      return a[0];
    }
    fail_.corrupt("a pickle calls " + name + ", which is not a function");
  }

  // (storage, storage_offset, size, stride, ...)
  void setTensor(TensorLayout& t, const std::vector<Obj*>& a) const {
    if (a.size() < 4 || a[0]->type != Type::Storage) fail_.corrupt("a tensor is not built on a storage");
    t.storage = *a[0]->storage;
    t.offset = intArg(a[1], "storage offset");
    t.sizes = intTuple(a[2], "size");
    t.strides = intTuple(a[3], "stride");
    t.awaitingState = false;
    validate(t);
  }

  // Object state: a tensor's contents in the oldest files; otherwise
  // (OrderedDict._metadata) nothing a weights file needs.
  void build(Obj* target, const Obj* state) const {
    if (target->type != Type::Tensor || !target->tensor->awaitingState) return;
    if (state->type != Type::Tuple || state->items.size() != 4)
      fail_.corrupt("a tensor's state is malformed");
    setTensor(*target->tensor, state->items);
  }

  Obj* persistentLoad(Obj* pid) {
    const auto& p = pid->items;
    if (pid->type != Type::Tuple || p.empty() || p[0]->type != Type::Str)
      fail_.corrupt("a persistent id is not a tuple");
    if (p[0]->s != "storage") fail_.refused("a persistent object of type '" + p[0]->s + "'");
    if (p.size() != 5 && p.size() != 6)
      fail_.corrupt("a storage reference has " + std::to_string(p.size()) + " fields");
    if (p[1]->type != Type::Global) fail_.corrupt("a storage reference lacks its type");
    const StorageType* type = findStorageType(p[1]->s);
    if (type == nullptr) fail_.corrupt("a storage reference names " + p[1]->s + " as its type");
    if (p[2]->type != Type::Str) fail_.corrupt("a storage key is not a string");
    const std::int64_t numel = intArg(p[4], "storage size");
    if (numel < 0) fail_.corrupt("a storage has a negative size");
    if (storages_.size() > kMaxObjects) fail_.unsupported("it holds too many storages");

    auto [it, inserted] = storages_.try_emplace(p[2]->s);
    if (inserted) {
      it->second.dtype = type->dtype;
      it->second.numel = numel;
    } else if (it->second.dtype != type->dtype || it->second.numel != numel) {
      fail_.corrupt("storage '" + p[2]->s + "' is described twice, differently");
    }

    Obj* s = make(Type::Storage);
    s->storage->key = p[2]->s;
    s->storage->viewNumel = numel;
    if (p.size() == 6 && p[5]->type != Type::None) {
      // Old PyTorch saved views into a storage as (view_key, offset, size).
      const Obj* view = p[5];
      if (view->type != Type::Tuple || view->items.size() != 3) fail_.corrupt("a storage view is malformed");
      const std::int64_t offset = intArg(view->items[1], "storage view offset");
      const std::int64_t size = intArg(view->items[2], "storage view size");
      if (offset < 0 || size < 0 || offset > numel || size > numel - offset)
        fail_.corrupt("a storage view lies outside its storage");
      s->storage->viewOffset = offset;
      s->storage->viewNumel = size;
    }
    return s;
  }

  // Every element the tensor addresses must lie inside its storage (view).
  void validate(const TensorLayout& t) const {
    if (t.sizes.size() != t.strides.size()) fail_.corrupt("a tensor's size and stride disagree");
    if (t.offset < 0) fail_.corrupt("a tensor has a negative storage offset");
    std::int64_t last = t.offset;
    bool empty = false;
    for (std::size_t d = 0; d < t.sizes.size(); ++d) {
      if (t.sizes[d] < 0 || t.strides[d] < 0) fail_.corrupt("a tensor has a negative size or stride");
      if (t.sizes[d] == 0) empty = true;
      std::int64_t span = 0;
      if (t.sizes[d] > 0 &&
          (mulOverflows(t.sizes[d] - 1, t.strides[d], &span) || addOverflows(last, span, &last)))
        fail_.corrupt("a tensor's shape overflows");
    }
    if (!empty && last >= t.storage.viewNumel) fail_.corrupt("a tensor reaches past the end of its storage");
  }

  ByteReader& in_;
  const Failure& fail_;
  std::deque<Obj> arena_;
  std::vector<Obj*> stack_;
  std::vector<std::size_t> marks_;
  std::unordered_map<std::uint32_t, Obj*> memo_;
  std::unordered_map<std::string, StorageInfo> storages_;
};

bool hostIsLittleEndian() {
  const std::uint16_t probe = 1;
  std::uint8_t first = 0;
  std::memcpy(&first, &probe, 1);
  return first == 1;
}

void checkHeader(Unpickler& unpickler, const Failure& fail) {
  const Obj* magic = unpickler.load();
  if (magic->type != Type::BigInt || magic->s.size() != kMagic.size() ||
      std::memcmp(magic->s.data(), kMagic.data(), kMagic.size()) != 0)
    fail.corrupt("it does not start with PyTorch's magic number");
  const Obj* version = unpickler.load();
  if (version->type != Type::Int || version->i != kProtocolVersion)
    fail.unsupported("it uses PyTorch serialization protocol " +
                     (version->type == Type::Int ? std::to_string(version->i) : std::string("?")) +
                     ", not 1001; re-save it with a recent PyTorch");
  const Obj* sysInfo = unpickler.load();
  if (sysInfo->type != Type::Dict) fail.corrupt("its system information is not a dict");
  for (const auto& [key, value] : sysInfo->dict->entries)
    if (key->type == Type::Str && key->s == "little_endian" && value->type == Type::Bool && value->i == 0)
      fail.unsupported("it was saved on a big-endian machine");
}

// The state_dict itself, or the one a training checkpoint wraps as 'state_dict'.
const Obj* findStateDict(const Obj* root, const Failure& fail) {
  if (root->type != Type::Dict)
    fail.unsupported("it holds no state_dict (its top-level object is not a dict)");
  for (const auto& [key, value] : root->dict->entries)
    if (value->type == Type::Tensor) return root;
  for (const auto& [key, value] : root->dict->entries)
    if (key->type == Type::Str && key->s == "state_dict" && value->type == Type::Dict)
      return findStateDict(value, fail);
  fail.unsupported("it holds no tensors");
}

void readStorageData(ByteReader& in, Unpickler& unpickler, const Obj* keys, const Failure& fail) {
  auto& storages = unpickler.storages();
  if (keys->type != Type::List) fail.corrupt("its list of storages is not a list");
  for (const Obj* key : keys->items) {
    if (key->type != Type::Str) fail.corrupt("a storage key is not a string");
    auto it = storages.find(key->s);
    if (it == storages.end())
      fail.corrupt("it lists data for storage '" + key->s + "', which no tensor uses");
    StorageInfo& info = it->second;
    if (info.data.defined()) fail.corrupt("it lists storage '" + key->s + "' twice");
    const auto numel = static_cast<std::int64_t>(in.uintLE(8));
    if (numel != info.numel)
      fail.corrupt("storage '" + key->s + "' holds " + std::to_string(numel) + " elements, not the " +
                   std::to_string(info.numel) + " its tensors expect");
    const std::int64_t elementSize = static_cast<std::int64_t>(c10::elementSize(info.dtype));
    // Checked before allocating, so a forged size cannot ask for terabytes.
    if (static_cast<std::uint64_t>(numel) > in.remaining() / static_cast<std::uint64_t>(elementSize))
      fail.truncated(in.position(), in.size());
    info.data = torch::empty({numel}, torch::TensorOptions().dtype(info.dtype));
    in.read(info.data.data_ptr(), static_cast<std::uint64_t>(numel * elementSize));
  }
  for (const auto& [key, info] : storages)
    if (!info.data.defined()) fail.corrupt("the data of storage '" + key + "' is missing");
}

torch::Tensor materialize(const TensorLayout& ref, std::unordered_map<std::string, StorageInfo>& storages) {
  const torch::Tensor& root = storages.at(ref.storage.key).data;
  const std::int64_t offset = ref.storage.viewOffset + ref.offset;
  torch::Tensor t = root.as_strided(ref.sizes, ref.strides, offset);
  // A tensor that is its whole float storage needs no copy (VGG's 548 MB stay 548 MB).
  if (root.scalar_type() == torch::kFloat && offset == 0 && t.numel() == root.numel() && t.is_contiguous())
    return t;
  return t.to(torch::kFloat).clone(at::MemoryFormat::Contiguous);
}

}  // namespace

std::map<std::string, torch::Tensor> readLegacyTorchFile(const std::filesystem::path& path) {
  const Failure fail(path.filename().string());
  if (!hostIsLittleEndian()) fail.unsupported("this reader needs a little-endian machine");
  ByteReader in(path, fail);

  const auto head = in.peek4();
  if (head[0] == 'P' && head[1] == 'K' && head[2] == 3 && head[3] == 4)
    fail.unsupported(
        "it is a zip archive (the PyTorch 1.6+ format), not the legacy format; load it as a zip "
        "state_dict");
  if (in.hasTarHeader())
    fail.unsupported(
        "it uses the tar format of PyTorch before 0.1.10; re-save it with a newer "
        "PyTorch");
  if (in.size() == 0 || head[0] != 0x80) fail.corrupt("it is not a pickle");

  return wrapErrors(ErrorKind::Model, "Cannot load '" + fail.fileName() + "'", [&] {
    Unpickler unpickler(in, fail);
    checkHeader(unpickler, fail);
    const Obj* root = unpickler.load();
    const Obj* keys = unpickler.load();
    readStorageData(in, unpickler, keys, fail);

    std::map<std::string, torch::Tensor> result;
    for (const auto& [key, value] : findStateDict(root, fail)->dict->entries) {
      if (value->type != Type::Tensor) continue;
      if (key->type != Type::Str) fail.corrupt("a state_dict key is not a string");
      if (value->tensor->awaitingState) fail.corrupt("tensor '" + key->s + "' has no contents");
      result[key->s] = materialize(*value->tensor, unpickler.storages());
    }
    return result;
  });
}

}  // namespace impasto
