#include "core/models/torch_pickle.h"

#include <array>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <deque>
#include <tuple>
#include <unordered_map>
#include <unordered_set>

#include "core/util/error.h"

namespace impasto {

void PickleFailure::corrupt(const std::string& what) const {
  throw Error(ErrorKind::Model,
              "Cannot load '" + fileName_ + "': " + what +
                  ". The file is damaged or not a PyTorch weights file; download it again.");
}

void PickleFailure::unsupported(const std::string& what) const {
  throw Error(ErrorKind::Model, "Cannot load '" + fileName_ + "': " + what + ".");
}

void PickleFailure::refused(const std::string& global) const {
  throw Error(ErrorKind::Model, "Impasto refuses to load '" + fileName_ + "': it references " +
                                    shortened(global) +
                                    ", which a weights file does not need; it may be malicious or not a "
                                    "state_dict (save model.state_dict() rather than the whole model).");
}

void PickleFailure::truncated(std::uint64_t at, std::uint64_t size) const {
  throw Error(ErrorKind::Model, "Cannot load '" + fileName_ + "': it ends too early (it has " +
                                    std::to_string(size) + " bytes; what starts at byte " +
                                    std::to_string(at) +
                                    " runs past the end). It is probably an incomplete download; download it "
                                    "again.");
}

void PickleFailure::exhausting(const std::string& what) const {
  throw Error(ErrorKind::Model, "Impasto refuses to load '" + fileName_ + "': " + what +
                                    ", far more than a weights file of its size needs. It is damaged or was "
                                    "made to exhaust memory; download it again from a source you trust.");
}

std::string PickleFailure::shortened(const std::string& text) {
  constexpr std::size_t kShown = 60;
  if (text.size() <= kShown) return text;
  return text.substr(0, kShown) + "... (" + std::to_string(text.size()) + " bytes)";
}

std::uint8_t PickleInput::u8() {
  std::uint8_t b = 0;
  read(&b, 1);
  return b;
}

std::uint64_t PickleInput::uintLE(int n) {
  std::uint8_t buf[8] = {};
  read(buf, static_cast<std::uint64_t>(n));
  std::uint64_t v = 0;
  for (int i = n - 1; i >= 0; --i) v = (v << 8) | buf[i];
  return v;
}

void MemoryPickleInput::read(void* dst, std::uint64_t n) {
  if (n > remaining()) fail_.truncated(pos_, size_);
  if (n == 0) return;
  std::memcpy(dst, data_ + pos_, static_cast<std::size_t>(n));
  pos_ += static_cast<std::size_t>(n);
}

namespace {

// A state_dict pickle holds a few objects per tensor; these bounds are far
// above any real file and keep a hostile one from exhausting memory.
constexpr std::size_t kMaxObjects = std::size_t{1} << 18;
constexpr std::size_t kMaxStack = std::size_t{1} << 20;
constexpr std::size_t kMaxMemo = std::size_t{1} << 20;
constexpr std::size_t kMaxMarks = std::size_t{1} << 16;
constexpr std::size_t kMaxLine = 256;
constexpr std::size_t kMaxTensorDims = 16;
constexpr int kMaxStateDictDepth = 3;  // a dict may contain itself

// The counts above bound the objects; what they hold (strings, tuple and list
// slots, dict entries, memo entries, tensor shapes) is charged to a byte budget
// that grows with the file. Memoised objects cost a pickle two bytes to fetch
// again, so without it a list fed to OrderedDict over and over, or a megabyte
// string copied by every reference, turns a small file into gigabytes. Real
// state_dicts use a few times their pickle's size.
constexpr std::uint64_t kBudgetBase = std::uint64_t{64} << 20;
constexpr std::uint64_t kBudgetPerInputByte = 16;
constexpr std::uint64_t kSlotBytes = sizeof(void*);
constexpr std::uint64_t kEntryBytes = 64;   // a dict or memo entry with its index node
constexpr std::uint64_t kStringBytes = 64;  // a string's node besides its characters

// tensors() copies the values of views and of non-float storages; together
// they may hold at most twice the storages' elements (plus some slack), so
// keys naming overlapping views of one big storage cannot multiply it.
constexpr std::uint64_t kGatherFactor = 2;
constexpr std::uint64_t kGatherSlack = std::uint64_t{4} << 20;  // elements

// torch.save's legacy header: a pickled long, then the format version.
constexpr std::array<std::uint8_t, 10> kMagic = {0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19};
constexpr std::int64_t kProtocolVersion = 1001;

enum class Type { None, Bool, Int, BigInt, Float, Str, Tuple, List, Dict, Global, Storage, Tensor };

struct StorageSlice {
  const StorageRef* ref = nullptr;  // the machine's entry for the storage, shared by every reference
  std::int64_t viewOffset = 0;      // elements into the root storage
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
// objects are owned by the machine's arena, so cycles a hostile pickle may
// build (a list appended to itself) cost nothing and leak nothing.
struct Obj;

struct DictData {
  std::vector<std::pair<Obj*, Obj*>> entries;                    // in insertion order
  std::unordered_map<const std::string*, std::size_t> strIndex;  // interned Str key -> entry
};

struct Obj {
  Type type = Type::None;
  std::int64_t i = 0;
  double f = 0.0;
  // Str; Global "module.name"; BigInt little-endian bytes. Interned: equal
  // texts share one string, so references never copy it and compare by address.
  const std::string* text = nullptr;
  std::vector<Obj*> items;  // Tuple, List
  std::unique_ptr<DictData> dict;
  std::unique_ptr<StorageSlice> storage;
  std::unique_ptr<TensorLayout> tensor;
  const std::string& s() const { return *text; }
};

struct StorageType {
  const char* name;
  ElementType dtype;
};

constexpr StorageType kStorageTypes[] = {
    {"FloatStorage", ElementType::Float32}, {"DoubleStorage", ElementType::Float64},
    {"HalfStorage", ElementType::Float16},  {"BFloat16Storage", ElementType::BFloat16},
    {"LongStorage", ElementType::Int64},    {"IntStorage", ElementType::Int32},
    {"ShortStorage", ElementType::Int16},   {"CharStorage", ElementType::Int8},
    {"ByteStorage", ElementType::UInt8},    {"BoolStorage", ElementType::Bool},
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

bool isRebuildTensor(const std::string& g) {
  return g == "torch._utils._rebuild_tensor_v2" || g == "torch._utils._rebuild_tensor";
}
bool isRebuildParameter(const std::string& g) {
  return g == "torch._utils._rebuild_parameter" || g == "torch._utils._rebuild_parameter_with_state";
}
bool isRebuildFromType(const std::string& g) {
  return g == "torch._tensor._rebuild_from_type_v2" || g == "torch._tensor._rebuild_from_type";
}
bool isDictType(const std::string& g) {
  return g == "collections.OrderedDict" || g == "builtins.dict" || g == "__builtin__.dict";
}
// Classes _rebuild_from_type names; never called.
bool isTensorType(const std::string& g) { return g == "torch.Tensor" || g == "torch.nn.parameter.Parameter"; }

bool isAllowedGlobal(const std::string& g) {
  return isDictType(g) || isRebuildTensor(g) || isRebuildParameter(g) || isRebuildFromType(g) ||
         isTensorType(g) || g == "torch.jit._pickle.restore_type_tag" || findStorageType(g) != nullptr ||
         isTensorClass(g);
}

bool mulOverflows(std::int64_t a, std::int64_t b, std::int64_t* out) {
  return __builtin_mul_overflow(a, b, out);
}
bool addOverflows(std::int64_t a, std::int64_t b, std::int64_t* out) {
  return __builtin_add_overflow(a, b, out);
}

std::int64_t parseInteger(std::string s, const PickleFailure& fail) {
  if (!s.empty() && s.back() == 'L') s.pop_back();  // Python 2 long
  try {
    std::size_t used = 0;
    const long long v = std::stoll(s, &used);
    if (used == s.size()) return v;
  } catch (const std::exception&) {
  }
  fail.corrupt("a pickle holds the malformed integer \"" + s + "\"");
}

}  // namespace

class TorchUnpickler::Machine {
 public:
  Machine(PickleInput& in, const PickleFailure& fail, std::map<std::string, StorageRef>& storages)
      : in_(in), fail_(fail), storages_(storages), budget_(kBudgetBase + kBudgetPerInputByte * in.size()) {}

  const Obj* stateDict = nullptr;  // set by TorchUnpickler::loadStateDict

  // Reads one pickle up to its STOP and returns its value.
  Obj* load() {
    stack_.clear();
    marks_.clear();
    memo_.clear();
    for (;;) {
      const std::uint64_t at = in_.position();
      const std::uint8_t op = in_.u8();
      if (op == '.') {  // STOP
        if (stack_.size() != 1) fail_.corrupt("a pickle ends with a malformed stack");
        Obj* result = stack_.back();
        stack_.clear();
        return result;
      }
      step(op, at);
    }
  }

 private:
  void step(std::uint8_t op, std::uint64_t at) {
    switch (op) {
      case 0x80:  // PROTO
        if (in_.u8() > 5) fail_.unsupported("it uses a pickle protocol newer than 5");
        break;
      case 0x95:  // FRAME: a length hint only
        in_.uintLE(8);
        break;
      case '(':  // MARK
        if (marks_.size() >= kMaxMarks) fail_.corrupt("pickle marks nest too deeply");
        marks_.push_back(stack_.size());
        break;
      case '0':  // POP
        pop();
        break;
      case '1':  // POP_MARK
        popToMark();
        break;
      case '2':  // DUP
        push(top());
        break;
      case 'c': {  // GLOBAL
        std::string module = line();
        std::string name = line();
        push(makeGlobal(module + "." + name));
        break;
      }
      case 0x93: {  // STACK_GLOBAL
        Obj* name = pop();
        Obj* module = pop();
        if (name->type != Type::Str || module->type != Type::Str) fail_.corrupt("STACK_GLOBAL without names");
        push(makeGlobal(module->s() + "." + name->s()));
        break;
      }
      case 'i': {  // INST: a class instance; a state_dict holds none
        std::string module = line();
        std::string name = line();
        fail_.refused(module + "." + name);
      }
      case 'q':  // BINPUT
        memoPut(in_.u8());
        break;
      case 'r':  // LONG_BINPUT
        memoPut(in_.uintLE(4));
        break;
      case 'p':  // PUT
        memoPut(memoIndex(parseInteger(line(), fail_)));
        break;
      case 0x94:  // MEMOIZE
        memoPut(memo_.size());
        break;
      case 'h':  // BINGET
        push(memoGet(in_.u8()));
        break;
      case 'j':  // LONG_BINGET
        push(memoGet(in_.uintLE(4)));
        break;
      case 'g':  // GET
        push(memoGet(memoIndex(parseInteger(line(), fail_))));
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
        setItems(dict, popToMark());
        push(dict);
        break;
      }
      case 'l': {  // LIST
        Obj* list = make(Type::List);
        list->items = popToMark();
        charge(list->items.size() * kSlotBytes);
        push(list);
        break;
      }
      case 't': {  // TUPLE
        Obj* tuple = make(Type::Tuple);
        tuple->items = popToMark();
        charge(tuple->items.size() * kSlotBytes);
        push(tuple);
        break;
      }
      case 0x85:    // TUPLE1
      case 0x86:    // TUPLE2
      case 0x87: {  // TUPLE3
        const std::size_t n = op - 0x84u;
        if (stack_.size() < n + base()) fail_.corrupt("a pickled tuple lacks its items");
        Obj* tuple = make(Type::Tuple);
        charge(n * kSlotBytes);
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
      case 'I': {  // INT (protocol 0); "00"/"01" are False/True
        const std::string s = line();
        if (s == "00" || s == "01") {
          Obj* b = make(Type::Bool);
          b->i = s == "01";
          push(b);
        } else {
          push(makeInt(parseInteger(s, fail_)));
        }
        break;
      }
      case 'L':  // LONG (protocol 0)
        push(makeInt(parseInteger(line(), fail_)));
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
      case 'B':  // BINBYTES
        push(makeStr(bytes(in_.uintLE(4))));
        break;
      case 0x8c:  // SHORT_BINUNICODE
      case 'U':   // SHORT_BINSTRING (Python 2 str)
      case 'C':   // SHORT_BINBYTES
        push(makeStr(bytes(in_.u8())));
        break;
      case 0x8d:  // BINUNICODE8
      case 0x8e:  // BINBYTES8
      case 0x96:  // BYTEARRAY8
        push(makeStr(bytes(in_.uintLE(8))));
        break;
      case 'T': {  // BINSTRING
        const auto n = static_cast<std::int32_t>(static_cast<std::uint32_t>(in_.uintLE(4)));
        if (n < 0) fail_.corrupt("a pickled string has a negative length");
        push(makeStr(bytes(static_cast<std::uint64_t>(n))));
        break;
      }
      case 'V':  // UNICODE (protocol 0)
        push(makeStr(line()));
        break;
      case 'S': {  // STRING (protocol 0), quoted
        std::string s = line();
        if (s.size() >= 2 && (s.front() == '\'' || s.front() == '"') && s.back() == s.front())
          s = s.substr(1, s.size() - 2);
        push(makeStr(std::move(s)));
        break;
      }
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
      case 'F': {  // FLOAT (protocol 0)
        const std::string s = line();
        Obj* f = make(Type::Float);
        try {
          f->f = std::stod(s);
        } catch (const std::exception&) {
          fail_.corrupt("a pickle holds the malformed number \"" + s + "\"");
        }
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
        setItems(top(), items);
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
                          ", which a PyTorch state_dict does not contain");
      }
    }
  }

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
    o->text = intern(std::move(s));
    return o;
  }
  // Python longs: two's complement, little-endian. Those that fit stay Int.
  Obj* makeLong(std::uint64_t n) {
    std::string b = bytes(n);
    if (n <= 8) {
      std::uint64_t v = 0;
      for (std::size_t k = n; k-- > 0;) v = (v << 8) | static_cast<std::uint8_t>(b[k]);
      if (n > 0 && n < 8 && (static_cast<std::uint8_t>(b[n - 1]) & 0x80)) v |= ~std::uint64_t{0} << (8 * n);
      return makeInt(static_cast<std::int64_t>(v));
    }
    Obj* o = make(Type::BigInt);
    o->text = intern(std::move(b));
    return o;
  }
  Obj* makeGlobal(const std::string& name) {
    if (!isAllowedGlobal(name)) {
      if (name.rfind("torch._utils._rebuild_", 0) == 0)
        fail_.unsupported("it holds quantized, sparse or other special tensors (" +
                          PickleFailure::shortened(name) + "), which Impasto cannot use");
      fail_.refused(name);
    }
    Obj* o = make(Type::Global);
    o->text = intern(name);
    return o;
  }

  // The one copy of a text every object holding it shares. Each new text is
  // read from the file, so the strings together stay within its size.
  const std::string* intern(std::string s) {
    if (auto it = strings_.find(s); it != strings_.end()) return &*it;
    charge(s.size() + kStringBytes);
    return &*strings_.insert(std::move(s)).first;
  }

  void charge(std::uint64_t bytes) {
    if (bytes <= budget_ - used_) {
      used_ += bytes;
      return;
    }
    fail_.exhausting("reading its pickle would take more than " + std::to_string(budget_ >> 20) +
                     " MB of memory (it re-uses the same objects over and over)");
  }

  // Sized by the bytes left, so a forged length cannot make us allocate.
  std::string bytes(std::uint64_t n) {
    if (n > in_.remaining()) fail_.truncated(in_.position(), in_.size());
    std::string s(static_cast<std::size_t>(n), '\0');
    in_.read(s.data(), n);
    return s;
  }
  std::string line() {
    std::string s;
    for (;;) {
      const char c = static_cast<char>(in_.u8());
      if (c == '\n') return s;
      if (s.size() >= kMaxLine)
        fail_.corrupt("a pickle text line is too long at byte " + std::to_string(in_.position()));
      s.push_back(c);
    }
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

  std::uint64_t memoIndex(std::int64_t v) const {
    if (v < 0) fail_.corrupt("a pickle uses a negative memo index");
    return static_cast<std::uint64_t>(v);
  }
  void memoPut(std::uint64_t index) {
    auto [it, inserted] = memo_.try_emplace(index, nullptr);
    if (inserted) {
      if (memo_.size() > kMaxMemo) fail_.unsupported("its pickle memo is too large");
      charge(kEntryBytes);
    }
    it->second = top();
  }
  Obj* memoGet(std::uint64_t index) {
    auto it = memo_.find(index);
    if (it == memo_.end())
      fail_.corrupt("a pickle refers to memo entry " + std::to_string(index) + " before setting it");
    return it->second;
  }

  void setItems(Obj* dict, const std::vector<Obj*>& items) {
    if (items.size() % 2 != 0) fail_.corrupt("a pickled dict has an odd number of items");
    for (std::size_t k = 0; k < items.size(); k += 2) setItem(dict, items[k], items[k + 1]);
  }
  // Charged even when it replaces an entry: OrderedDict(list) walks a list
  // that may be fetched from the memo again and again.
  void setItem(Obj* dict, Obj* key, Obj* value) {
    if (dict->type != Type::Dict) fail_.corrupt("a pickle sets an item on something that is not a dict");
    charge(kEntryBytes);
    if (key->type == Type::Str) {
      auto [it, inserted] = dict->dict->strIndex.try_emplace(key->text, dict->dict->entries.size());
      if (!inserted) {
        dict->dict->entries[it->second].second = value;
        return;
      }
    }
    dict->dict->entries.emplace_back(key, value);
  }
  void append(Obj* list, Obj* value) {
    if (list->type != Type::List) fail_.corrupt("a pickle appends to something that is not a list");
    charge(kSlotBytes);
    list->items.push_back(value);
  }

  std::int64_t intArg(const Obj* o, const char* what) const {
    if (o->type != Type::Int) fail_.corrupt(std::string("a tensor's ") + what + " is not an integer");
    return o->i;
  }
  std::vector<std::int64_t> intTuple(const Obj* o, const char* what) {
    if (o->type != Type::Tuple && o->type != Type::List)
      fail_.corrupt(std::string("a tensor's ") + what + " is not a tuple");
    if (o->items.size() > kMaxTensorDims) fail_.unsupported("a tensor has too many dimensions");
    charge(o->items.size() * sizeof(std::int64_t));
    std::vector<std::int64_t> values;
    for (const Obj* item : o->items) values.push_back(intArg(item, what));
    return values;
  }

  Obj* reduce(Obj* callable, Obj* args) {
    if (callable->type != Type::Global) fail_.corrupt("a pickle calls something that is not a function");
    if (args->type != Type::Tuple)
      fail_.corrupt("a pickle calls " + callable->s() + " without an argument tuple");
    const std::string& name = callable->s();
    const auto& a = args->items;
    if (isDictType(name)) {
      Obj* dict = make(Type::Dict);
      // Python 2 pickled OrderedDict as OrderedDict([[key, value], ...]).
      if (a.size() == 1 && (a[0]->type == Type::List || a[0]->type == Type::Tuple)) {
        for (Obj* pair : a[0]->items) {
          if ((pair->type != Type::List && pair->type != Type::Tuple) || pair->items.size() != 2)
            fail_.corrupt("an OrderedDict item is not a key-value pair");
          setItem(dict, pair->items[0], pair->items[1]);
        }
      } else if (!a.empty()) {
        fail_.corrupt(name + " is called with unexpected arguments");
      }
      return dict;
    }
    if (isRebuildTensor(name)) {
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
    if (isRebuildParameter(name)) {
      if (a.size() < 3 || a.size() > 4 || a[0]->type != Type::Tensor)
        fail_.corrupt("a parameter is not built on a tensor");
      return a[0];
    }
    // LibTorch's pickler tags dicts and lists with their TorchScript type.
    if (name == "torch.jit._pickle.restore_type_tag") {
      if (a.size() != 2) fail_.corrupt(name + " is called with unexpected arguments");
      return a[0];
    }
    // Tensor subclasses: (rebuild function, class, its arguments[, state]).
    if (isRebuildFromType(name)) {
      if (a.size() < 3 || a[0]->type != Type::Global || !isRebuildTensor(a[0]->s()) ||
          a[1]->type != Type::Global || !isTensorType(a[1]->s()))
        fail_.corrupt(name + " is called with unexpected arguments");
      return reduce(a[0], a[2]);
    }
    fail_.corrupt("a pickle calls " + name + ", which is not a function");
  }

  // (storage, storage_offset, size, stride, ...)
  void setTensor(TensorLayout& t, const std::vector<Obj*>& a) {
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
  void build(Obj* target, const Obj* state) {
    if (target->type != Type::Tensor || !target->tensor->awaitingState) return;
    if (state->type != Type::Tuple || state->items.size() != 4)
      fail_.corrupt("a tensor's state is malformed");
    setTensor(*target->tensor, state->items);
  }

  Obj* persistentLoad(Obj* pid) {
    const auto& p = pid->items;
    if (pid->type != Type::Tuple || p.empty() || p[0]->type != Type::Str)
      fail_.corrupt("a persistent id is not a tuple");
    if (p[0]->s() != "storage")
      fail_.refused("a persistent object of type '" + PickleFailure::shortened(p[0]->s()) + "'");
    if (p.size() != 5 && p.size() != 6)
      fail_.corrupt("a storage reference has " + std::to_string(p.size()) + " fields");
    if (p[1]->type != Type::Global) fail_.corrupt("a storage reference lacks its type");
    const StorageType* type = findStorageType(p[1]->s());
    if (type == nullptr) fail_.corrupt("a storage reference names " + p[1]->s() + " as its type");
    if (p[2]->type != Type::Str) fail_.corrupt("a storage key is not a string");
    const std::int64_t numel = intArg(p[4], "storage size");
    if (numel < 0) fail_.corrupt("a storage has a negative size");

    // Found by the interned key's address: a memoised reference fetched again
    // and again costs neither a copy nor a comparison of a long key.
    const StorageRef* ref = nullptr;
    if (auto known = storageByKey_.find(p[2]->text); known != storageByKey_.end()) {
      ref = known->second;
      if (ref->dtype != type->dtype || ref->numel != numel)
        fail_.corrupt("storage '" + PickleFailure::shortened(ref->key) + "' is described twice, differently");
    } else {
      if (storages_.size() >= kMaxObjects) fail_.unsupported("it holds too many storages");
      StorageRef fresh;
      fresh.key = p[2]->s();
      fresh.dtype = type->dtype;
      fresh.numel = numel;
      if (p[3]->type == Type::Str) fresh.location = p[3]->s();
      charge(fresh.key.size() + fresh.location.size() + 2 * kEntryBytes);
      ref = &storages_.emplace(fresh.key, std::move(fresh)).first->second;
      storageByKey_.emplace(p[2]->text, ref);
    }

    Obj* s = make(Type::Storage);
    s->storage->ref = ref;
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

  // Every element the tensor addresses lies inside its storage (view), and a
  // state_dict's tensors do not overlap themselves, so building one never
  // allocates more than the storage holds.
  void validate(const TensorLayout& t) const {
    if (t.sizes.size() != t.strides.size()) fail_.corrupt("a tensor's size and stride disagree");
    if (t.offset < 0) fail_.corrupt("a tensor has a negative storage offset");
    std::int64_t last = t.offset;
    std::int64_t numel = 1;
    for (std::size_t d = 0; d < t.sizes.size(); ++d) {
      if (t.sizes[d] < 0 || t.strides[d] < 0) fail_.corrupt("a tensor has a negative size or stride");
      std::int64_t span = 0;
      if (mulOverflows(numel, t.sizes[d], &numel) ||
          (t.sizes[d] > 0 &&
           (mulOverflows(t.sizes[d] - 1, t.strides[d], &span) || addOverflows(last, span, &last))))
        fail_.corrupt("a tensor's shape overflows");
    }
    if (numel > 0 && (last >= t.storage.viewNumel || numel > t.storage.viewNumel))
      fail_.corrupt("a tensor reaches past the end of its storage");
  }

  PickleInput& in_;
  const PickleFailure& fail_;
  std::map<std::string, StorageRef>& storages_;
  std::unordered_map<const std::string*, const StorageRef*> storageByKey_;
  std::unordered_set<std::string> strings_;  // every text the pickles hold, once
  const std::uint64_t budget_;
  std::uint64_t used_ = 0;
  std::deque<Obj> arena_;
  std::vector<Obj*> stack_;
  std::vector<std::size_t> marks_;
  std::unordered_map<std::uint64_t, Obj*> memo_;
};

namespace {

// The dict that holds the weights: the top level, or a checkpoint's
// "state_dict"/"model"/... entry.
const Obj* findStateDict(const Obj* root, int depth = 0) {
  if (root->type != Type::Dict || depth > kMaxStateDictDepth) return nullptr;
  for (const auto& [key, value] : root->dict->entries)
    if (value->type == Type::Tensor) return root;
  for (const char* name : {"state_dict", "model_state_dict", "model", "net", "network", "params"})
    for (const auto& [key, value] : root->dict->entries)
      if (key->type == Type::Str && key->s() == name)
        if (const Obj* found = findStateDict(value, depth + 1)) return found;
  return nullptr;
}

}  // namespace

TorchUnpickler::TorchUnpickler(PickleInput& in, const PickleFailure& fail)
    : machine_(std::make_unique<Machine>(in, fail, storages_)), fail_(fail) {}

TorchUnpickler::~TorchUnpickler() = default;

void TorchUnpickler::checkLegacyHeader() {
  const Obj* magic = machine_->load();
  if (magic->type != Type::BigInt || magic->s().size() != kMagic.size() ||
      std::memcmp(magic->s().data(), kMagic.data(), kMagic.size()) != 0)
    fail_.corrupt("it does not start with PyTorch's magic number");
  const Obj* version = machine_->load();
  if (version->type != Type::Int || version->i != kProtocolVersion)
    fail_.unsupported("it uses PyTorch serialization protocol " +
                      (version->type == Type::Int ? std::to_string(version->i) : std::string("?")) +
                      ", not 1001; re-save it with a recent PyTorch");
  const Obj* sysInfo = machine_->load();
  if (sysInfo->type != Type::Dict) fail_.corrupt("its system information is not a dict");
  for (const auto& [key, value] : sysInfo->dict->entries)
    if (key->type == Type::Str && key->s() == "little_endian" && value->type == Type::Bool && value->i == 0)
      fail_.unsupported("it was saved on a big-endian machine");
}

void TorchUnpickler::loadStateDict() {
  const Obj* root = machine_->load();
  if (root->type != Type::Dict)
    fail_.unsupported("it holds no state_dict (its top-level object is not a dict)");
  machine_->stateDict = findStateDict(root);
  if (machine_->stateDict == nullptr) fail_.unsupported("it holds no tensors");
}

std::vector<std::string> TorchUnpickler::loadStorageKeys() {
  const Obj* keys = machine_->load();
  if (keys->type != Type::List) fail_.corrupt("its list of storages is not a list");
  // Refused at the first repeat, before a key listed a million times is copied
  // a million times.
  std::unordered_set<const std::string*> seen;
  std::vector<std::string> result;
  for (const Obj* key : keys->items) {
    if (key->type != Type::Str) fail_.corrupt("a storage key is not a string");
    if (!seen.insert(key->text).second)
      fail_.corrupt("it lists storage '" + PickleFailure::shortened(key->s()) + "' twice");
    result.push_back(key->s());
  }
  return result;
}

namespace {

float halfToFloat(std::uint16_t h) {
  const int exponent = (h >> 10) & 0x1f;
  const int mantissa = h & 0x3ff;
  float v = 0.0f;
  if (exponent == 0)
    v = std::ldexp(float(mantissa), -24);  // subnormal
  else if (exponent == 31)
    v = mantissa ? NAN : INFINITY;
  else
    v = std::ldexp(float(mantissa + 1024), exponent - 25);
  return (h & 0x8000) ? -v : v;
}

template <typename T>
float load(const std::uint8_t* p) {
  T v;
  std::memcpy(&v, p, sizeof v);
  return static_cast<float>(v);
}

// Element `index` of a storage of `type`, as float.
float elementAsFloat(const std::uint8_t* base, ElementType type, std::int64_t index) {
  const std::uint8_t* p = base + static_cast<std::size_t>(index) * elementSize(type);
  switch (type) {
    case ElementType::Float32:
      return load<float>(p);
    case ElementType::Float64:
      return load<double>(p);
    case ElementType::Float16: {
      std::uint16_t h;
      std::memcpy(&h, p, 2);
      return halfToFloat(h);
    }
    case ElementType::BFloat16: {
      std::uint16_t b;
      std::memcpy(&b, p, 2);
      const std::uint32_t bits = std::uint32_t(b) << 16;
      float f;
      std::memcpy(&f, &bits, 4);
      return f;
    }
    case ElementType::Int64:
      return load<std::int64_t>(p);
    case ElementType::Int32:
      return load<std::int32_t>(p);
    case ElementType::Int16:
      return load<std::int16_t>(p);
    case ElementType::Int8:
      return load<std::int8_t>(p);
    case ElementType::UInt8:
    case ElementType::Bool:
      return load<std::uint8_t>(p);
  }
  return 0.0f;
}

bool isContiguous(const std::vector<std::int64_t>& sizes, const std::vector<std::int64_t>& strides) {
  std::int64_t expected = 1;
  for (std::size_t d = sizes.size(); d-- > 0;) {
    if (sizes[d] != 1 && strides[d] != expected) return false;
    expected *= sizes[d];
  }
  return true;
}

}  // namespace

std::size_t elementSize(ElementType type) {
  switch (type) {
    case ElementType::Float64:
    case ElementType::Int64:
      return 8;
    case ElementType::Float32:
    case ElementType::Int32:
      return 4;
    case ElementType::Float16:
    case ElementType::BFloat16:
    case ElementType::Int16:
      return 2;
    case ElementType::Int8:
    case ElementType::UInt8:
    case ElementType::Bool:
      return 1;
  }
  return 1;
}

// Float storages are read straight into the float array tensors may share.
struct TorchUnpickler::StorageBytes {
  std::shared_ptr<std::vector<float>> floats;
  std::vector<std::uint8_t> raw;
  const std::uint8_t* bytes() const {
    return floats ? reinterpret_cast<const std::uint8_t*>(floats->data()) : raw.data();
  }
};

void* TorchUnpickler::storageBuffer(const std::string& key) {
  auto found = storages_.find(key);
  if (found == storages_.end())
    fail_.corrupt("it holds data for storage '" + PickleFailure::shortened(key) + "', which no tensor uses");
  const StorageRef& ref = found->second;
  if (data_.count(&ref))
    fail_.corrupt("it holds the data of storage '" + PickleFailure::shortened(key) + "' twice");
  auto bytes = std::make_shared<StorageBytes>();
  const auto numel = static_cast<std::size_t>(ref.numel);
  if (ref.dtype == ElementType::Float32)
    bytes->floats = std::make_shared<std::vector<float>>(numel);
  else
    bytes->raw.resize(static_cast<std::size_t>(ref.byteSize()));
  void* destination = bytes->floats ? static_cast<void*>(bytes->floats->data()) : bytes->raw.data();
  data_[&ref] = std::move(bytes);
  return destination;
}

std::map<std::string, WeightArray> TorchUnpickler::tensors() const {
  if (machine_->stateDict == nullptr) fail_.corrupt("it holds no state_dict");
  std::uint64_t storageElements = 0;
  for (const auto& [key, ref] : storages_) storageElements += static_cast<std::uint64_t>(ref.numel);
  const std::uint64_t maxGathered = kGatherFactor * storageElements + kGatherSlack;
  std::uint64_t gathered = 0;

  std::map<std::string, WeightArray> result;
  // One array per distinct view, however many keys or pickled tensors name it.
  using ViewKey =
      std::tuple<const StorageRef*, std::int64_t, std::vector<std::int64_t>, std::vector<std::int64_t>>;
  std::map<ViewKey, WeightArray> built;
  for (const auto& [key, value] : machine_->stateDict->dict->entries) {
    if (value->type != Type::Tensor) continue;
    if (key->type != Type::Str) fail_.corrupt("a state_dict key is not a string");
    const TensorLayout& layout = *value->tensor;
    if (layout.awaitingState)
      fail_.corrupt("tensor '" + PickleFailure::shortened(key->s()) + "' has no contents");
    const StorageRef& ref = *layout.storage.ref;
    const std::int64_t offset = layout.storage.viewOffset + layout.offset;
    ViewKey view{&ref, offset, layout.sizes, layout.strides};
    if (auto done = built.find(view); done != built.end()) {
      result[key->s()] = done->second;
      continue;
    }
    auto data = data_.find(&ref);
    if (data == data_.end())
      fail_.corrupt("the data of storage '" + PickleFailure::shortened(ref.key) + "' is missing");
    const StorageBytes& storage = *data->second;
    std::int64_t numel = 1;
    for (std::int64_t size : layout.sizes) numel *= size;
    WeightArray array;
    if (storage.floats && offset == 0 && numel == ref.numel && isContiguous(layout.sizes, layout.strides)) {
      array = WeightArray(layout.sizes, std::shared_ptr<const std::vector<float>>(storage.floats));
    } else {
      gathered += static_cast<std::uint64_t>(numel);
      if (gathered > maxGathered)
        fail_.exhausting("its tensors would copy more than " + std::to_string(maxGathered) +
                         " values out of storages holding " + std::to_string(storageElements) +
                         " (many keys name overlapping views of the same data)");
      // Gathered element by element in C order; validate() bounded every index.
      std::vector<float> values(static_cast<std::size_t>(numel));
      std::vector<std::int64_t> index(layout.sizes.size(), 0);
      std::int64_t position = offset;
      for (std::int64_t n = 0; n < numel; ++n) {
        values[static_cast<std::size_t>(n)] = elementAsFloat(storage.bytes(), ref.dtype, position);
        for (std::size_t d = index.size(); d-- > 0;) {
          if (++index[d] < layout.sizes[d]) {
            position += layout.strides[d];
            break;
          }
          position -= layout.strides[d] * (layout.sizes[d] - 1);
          index[d] = 0;
        }
      }
      array = WeightArray(layout.sizes, std::move(values));
    }
    built.emplace(std::move(view), array);
    result[key->s()] = std::move(array);
  }
  return result;
}

std::map<std::string, WeightArray> unpickleTensors(const char* data, std::size_t size,
                                                   const StorageLoader& loader, const std::string& origin,
                                                   std::uint64_t storageBytes) {
  const PickleFailure fail(origin);
  MemoryPickleInput in(data, size, fail);
  TorchUnpickler unpickler(in, fail);
  unpickler.loadStateDict();
  // Checked before anything is allocated: a forged element count cannot ask
  // for more memory than the file holds data.
  std::uint64_t declared = 0;
  for (const auto& [key, ref] : unpickler.storages()) {
    if (static_cast<std::uint64_t>(ref.numel) > storageBytes || ref.byteSize() > storageBytes - declared)
      fail.corrupt("its storages need more bytes than the file's " + std::to_string(storageBytes) +
                   " bytes of tensor data (storage '" + PickleFailure::shortened(key) + "' alone claims " +
                   std::to_string(ref.numel) + " elements)");
    declared += ref.byteSize();
  }
  for (const auto& [key, ref] : unpickler.storages()) loader(ref, unpickler.storageBuffer(key));
  return unpickler.tensors();
}

}  // namespace impasto
