#include "core/torch_pickle.h"

#include <cstdio>
#include <cstring>
#include <memory>
#include <unordered_map>
#include <vector>

#include "core/error.h"

namespace impasto {

namespace {

// The Python values a state_dict pickle builds. Containers are shared because
// the memo hands out references to them.
struct PyValue;
using PyPtr = std::shared_ptr<PyValue>;

struct PyValue {
  enum class Kind { None, Bool, Int, Float, String, Tuple, List, Dict, Global, Tensor, Storage, Object };
  Kind kind = Kind::None;
  std::int64_t integer = 0;  // Bool, Int
  double real = 0.0;
  std::string text;          // String (and bytes); Global: "module.name"; Object: its class
  std::vector<PyPtr> items;  // Tuple, List
  std::vector<std::pair<PyPtr, PyPtr>> entries;  // Dict, in insertion order
  torch::Tensor tensor;                          // Tensor; Storage (1-D)
};

PyPtr make(PyValue::Kind kind) {
  auto v = std::make_shared<PyValue>();
  v->kind = kind;
  return v;
}

PyPtr makeInt(std::int64_t i) {
  auto v = make(PyValue::Kind::Int);
  v->integer = i;
  return v;
}

PyPtr makeString(std::string s) {
  auto v = make(PyValue::Kind::String);
  v->text = std::move(s);
  return v;
}

const std::map<std::string, torch::ScalarType>& storageTypes() {
  static const std::map<std::string, torch::ScalarType> types{
      {"torch.FloatStorage", torch::kFloat},      {"torch.DoubleStorage", torch::kDouble},
      {"torch.HalfStorage", torch::kHalf},        {"torch.BFloat16Storage", torch::kBFloat16},
      {"torch.LongStorage", torch::kLong},        {"torch.IntStorage", torch::kInt},
      {"torch.ShortStorage", torch::kShort},      {"torch.CharStorage", torch::kChar},
      {"torch.ByteStorage", torch::kByte},        {"torch.BoolStorage", torch::kBool},
      {"torch.cuda.FloatStorage", torch::kFloat}, {"torch.cuda.DoubleStorage", torch::kDouble},
      {"torch.cuda.HalfStorage", torch::kHalf},   {"torch.cuda.LongStorage", torch::kLong},
  };
  return types;
}

class PickleMachine {
 public:
  PickleMachine(const char* data, std::size_t size, const StorageLoader& loader, std::string origin)
      : data_(reinterpret_cast<const unsigned char*>(data)),
        size_(size),
        loader_(loader),
        origin_(std::move(origin)) {}

  PyPtr run() {
    for (;;) {
      const unsigned char op = byte();
      if (op == '.') break;
      step(op);
    }
    if (stack_.size() != 1) fail("it ends with " + std::to_string(stack_.size()) + " values on the stack");
    return stack_.back();
  }

  std::size_t position() const { return pos_; }

 private:
  [[noreturn]] void fail(const std::string& why) const {
    throw Error(ErrorKind::Model, "Cannot read the PyTorch weights in " + origin_ + ": " + why +
                                      " (at byte " + std::to_string(pos_) +
                                      " of the pickle). Is the file complete?");
  }

  const unsigned char* take(std::size_t n) {
    if (n > size_ - pos_) fail("the pickle is truncated");
    const unsigned char* p = data_ + pos_;
    pos_ += n;
    return p;
  }
  unsigned char byte() { return *take(1); }
  std::uint64_t littleEndian(std::size_t n) {
    const unsigned char* p = take(n);
    std::uint64_t v = 0;
    for (std::size_t i = 0; i < n; ++i) v |= static_cast<std::uint64_t>(p[i]) << (8 * i);
    return v;
  }
  std::string bytes(std::uint64_t n) {
    if (n > size_) fail("a string is longer than the file");
    const unsigned char* p = take(static_cast<std::size_t>(n));
    return std::string(reinterpret_cast<const char*>(p), static_cast<std::size_t>(n));
  }
  std::string line() {
    std::string s;
    for (unsigned char c = byte(); c != '\n'; c = byte()) s.push_back(static_cast<char>(c));
    return s;
  }
  std::int64_t lineInteger() {
    std::string s = line();
    if (!s.empty() && s.back() == 'L') s.pop_back();
    try {
      return std::stoll(s);
    } catch (const std::exception&) {
      fail("bad integer \"" + s + "\"");
    }
  }
  std::int64_t signedLittleEndian(std::size_t n) {
    if (n == 0) return 0;
    if (n > 8) fail("an integer of " + std::to_string(n) + " bytes is too large");
    std::uint64_t v = littleEndian(n);
    if (n < 8 && (v >> (8 * n - 1)) != 0) v |= ~std::uint64_t{0} << (8 * n);
    return static_cast<std::int64_t>(v);
  }

  PyPtr pop() {
    if (stack_.empty() || (!marks_.empty() && stack_.size() <= marks_.back())) fail("the stack underflows");
    PyPtr v = stack_.back();
    stack_.pop_back();
    return v;
  }
  PyPtr& top() {
    if (stack_.empty()) fail("the stack is empty");
    return stack_.back();
  }
  std::vector<PyPtr> popMark() {
    if (marks_.empty()) fail("a MARK is missing");
    const std::size_t mark = marks_.back();
    marks_.pop_back();
    std::vector<PyPtr> items(stack_.begin() + static_cast<std::ptrdiff_t>(mark), stack_.end());
    stack_.resize(mark);
    return items;
  }
  PyPtr tuple(std::vector<PyPtr> items) {
    auto t = make(PyValue::Kind::Tuple);
    t->items = std::move(items);
    return t;
  }
  void memoPut(std::uint64_t index) { memo_[index] = top(); }
  PyPtr memoGet(std::uint64_t index) {
    auto it = memo_.find(index);
    if (it == memo_.end()) fail("memo entry " + std::to_string(index) + " is missing");
    return it->second;
  }
  void setItems(PyPtr& target, const std::vector<PyPtr>& kv) {
    if (target->kind == PyValue::Kind::Object) return;  // opaque objects keep no state
    if (target->kind != PyValue::Kind::Dict) fail("SETITEM on something that is not a dict");
    for (std::size_t i = 0; i + 1 < kv.size(); i += 2) {
      bool replaced = false;
      if (kv[i]->kind == PyValue::Kind::String) {
        for (auto& entry : target->entries)
          if (entry.first->kind == PyValue::Kind::String && entry.first->text == kv[i]->text) {
            entry.second = kv[i + 1];
            replaced = true;
          }
      }
      if (!replaced) target->entries.emplace_back(kv[i], kv[i + 1]);
    }
  }
  void appendItems(PyPtr& target, const std::vector<PyPtr>& items) {
    if (target->kind == PyValue::Kind::Object) return;
    if (target->kind != PyValue::Kind::List) fail("APPEND on something that is not a list");
    target->items.insert(target->items.end(), items.begin(), items.end());
  }
  PyPtr global(const std::string& module, const std::string& name) {
    auto g = make(PyValue::Kind::Global);
    g->text = module + "." + name;
    return g;
  }

  static std::int64_t asInt(const PyPtr& v, bool& ok) {
    if (v->kind == PyValue::Kind::Int || v->kind == PyValue::Kind::Bool) return v->integer;
    ok = false;
    return 0;
  }
  std::vector<std::int64_t> intTuple(const PyPtr& v, const char* what) {
    if (v->kind != PyValue::Kind::Tuple && v->kind != PyValue::Kind::List)
      fail(std::string(what) + " is not a tuple");
    std::vector<std::int64_t> out;
    for (const auto& item : v->items) {
      bool ok = true;
      out.push_back(asInt(item, ok));
      if (!ok) fail(std::string(what) + " holds a non-integer");
    }
    return out;
  }

  PyPtr persistentLoad(const PyPtr& pid) {
    if (pid->kind != PyValue::Kind::Tuple || pid->items.size() < 5 ||
        pid->items[0]->kind != PyValue::Kind::String || pid->items[0]->text != "storage")
      fail("a persistent id is not a ('storage', type, key, location, size) tuple");
    const PyPtr& type = pid->items[1];
    const auto& types = storageTypes();
    auto it = type->kind == PyValue::Kind::Global ? types.find(type->text) : types.end();
    if (it == types.end())
      fail("storage type " + (type->kind == PyValue::Kind::Global ? type->text : std::string("?")) +
           " is not supported");
    StorageRef ref;
    ref.dtype = it->second;
    ref.key = pid->items[2]->kind == PyValue::Kind::String ? pid->items[2]->text
                                                           : std::to_string(pid->items[2]->integer);
    ref.location = pid->items[3]->text;
    bool ok = true;
    ref.numel = asInt(pid->items[4], ok);
    if (!ok || ref.numel < 0) fail("storage " + ref.key + " has no valid size");
    if (pid->items.size() > 5 && pid->items[5]->kind != PyValue::Kind::None)
      fail("storage views (from very old PyTorch versions) are not supported");
    auto cached = storages_.find(ref.key);
    if (cached != storages_.end()) return cached->second;
    auto storage = make(PyValue::Kind::Storage);
    storage->tensor = loader_(ref);
    if (!storage->tensor.defined() || storage->tensor.numel() != ref.numel ||
        storage->tensor.scalar_type() != ref.dtype)
      fail("storage " + ref.key + " does not hold " + std::to_string(ref.numel) + " elements");
    storages_[ref.key] = storage;
    return storage;
  }

  PyPtr rebuildTensor(const std::vector<PyPtr>& args) {
    if (args.size() < 4 || args[0]->kind != PyValue::Kind::Storage)
      fail("_rebuild_tensor_v2 got unexpected arguments");
    const torch::Tensor& storage = args[0]->tensor;
    bool ok = true;
    const std::int64_t offset = asInt(args[1], ok);
    const auto sizes = intTuple(args[2], "a tensor size");
    const auto strides = intTuple(args[3], "a tensor stride");
    if (!ok || sizes.size() != strides.size()) fail("a tensor has inconsistent size and stride");
    // State dicts hold plain tensors: in bounds, not overlapping, so never
    // more elements than their storage (a forged file cannot make us allocate more).
    std::int64_t last = offset;
    std::int64_t numel = 1;
    for (std::size_t i = 0; i < sizes.size(); ++i) {
      if (sizes[i] < 0 || strides[i] < 0) fail("a tensor has a negative size or stride");
      std::int64_t reach = 0;
      if (__builtin_mul_overflow(sizes[i], numel, &numel) ||
          (sizes[i] > 0 && (__builtin_mul_overflow(sizes[i] - 1, strides[i], &reach) ||
                            __builtin_add_overflow(last, reach, &last))))
        fail("a tensor's size overflows");
    }
    const bool empty = numel == 0;
    if (!empty && (offset < 0 || last >= storage.numel() || numel > storage.numel()))
      fail("a tensor reaches past the end of its storage");
    auto t = make(PyValue::Kind::Tensor);
    if (empty) {
      t->tensor = torch::empty(sizes, storage.options());
    } else {
      t->tensor = storage.as_strided(sizes, strides, offset).clone();
    }
    return t;
  }

  PyPtr call(const PyPtr& callable, const PyPtr& args) {
    if (callable->kind != PyValue::Kind::Global) fail("REDUCE on something that is not a class or function");
    const std::string& name = callable->text;
    const std::vector<PyPtr> empty;
    const std::vector<PyPtr>& a = args->kind == PyValue::Kind::Tuple ? args->items : empty;
    if (name == "torch._utils._rebuild_tensor_v2" || name == "torch._utils._rebuild_tensor")
      return rebuildTensor(a);
    if (name == "torch._utils._rebuild_parameter" || name == "torch._utils._rebuild_parameter_with_state" ||
        name == "torch.jit._pickle.restore_type_tag") {
      if (a.empty()) fail(name + " got no arguments");
      return a[0];
    }
    if (name == "torch._tensor._rebuild_from_type_v2" || name == "torch._tensor._rebuild_from_type") {
      if (a.size() < 3) fail(name + " got unexpected arguments");
      return call(a[0], a[2]);
    }
    if (name == "collections.OrderedDict" || name == "builtins.dict" || name == "__builtin__.dict") {
      auto d = make(PyValue::Kind::Dict);
      if (!a.empty() && a[0]->kind == PyValue::Kind::List)
        for (const auto& pair : a[0]->items)
          if (pair->kind == PyValue::Kind::Tuple && pair->items.size() == 2)
            d->entries.emplace_back(pair->items[0], pair->items[1]);
      return d;
    }
    if (name.rfind("torch._utils._rebuild_", 0) == 0)
      fail(name + " (quantized, sparse or other special tensors) is not supported");
    // Anything else (argparse.Namespace, numpy scalars in checkpoints...) is
    // kept as an opaque object: only the tensors matter here.
    auto object = make(PyValue::Kind::Object);
    object->text = name;
    return object;
  }

  void step(unsigned char op) {
    using K = PyValue::Kind;
    switch (op) {
      case 0x80:
        byte();
        break;  // PROTO
      case 0x95:
        littleEndian(8);
        break;  // FRAME
      case '(':
        marks_.push_back(stack_.size());
        break;
      case '0':
        pop();
        break;
      case '1':
        popMark();
        break;
      case '2':
        stack_.push_back(top());
        break;
      case 'N':
        stack_.push_back(make(K::None));
        break;
      case 0x88:
      case 0x89: {
        auto b = make(K::Bool);
        b->integer = op == 0x88 ? 1 : 0;
        stack_.push_back(b);
        break;
      }
      case 'J':
        stack_.push_back(makeInt(signedLittleEndian(4)));
        break;
      case 'K':
        stack_.push_back(makeInt(static_cast<std::int64_t>(littleEndian(1))));
        break;
      case 'M':
        stack_.push_back(makeInt(static_cast<std::int64_t>(littleEndian(2))));
        break;
      case 0x8a:
        stack_.push_back(makeInt(signedLittleEndian(littleEndian(1))));
        break;
      case 0x8b:
        stack_.push_back(makeInt(signedLittleEndian(littleEndian(4))));
        break;
      case 'I': {
        const std::string s = line();
        if (s == "00" || s == "01") {
          auto b = make(K::Bool);
          b->integer = s == "01";
          stack_.push_back(b);
        } else {
          try {
            stack_.push_back(makeInt(std::stoll(s)));
          } catch (const std::exception&) {
            fail("bad integer \"" + s + "\"");
          }
        }
        break;
      }
      case 'L':
        stack_.push_back(makeInt(lineInteger()));
        break;
      case 'G': {
        const unsigned char* p = take(8);
        std::uint64_t bits = 0;
        for (int i = 0; i < 8; ++i) bits = bits << 8 | p[i];  // big-endian
        auto f = make(K::Float);
        std::memcpy(&f->real, &bits, sizeof bits);
        stack_.push_back(f);
        break;
      }
      case 'F': {
        auto f = make(K::Float);
        const std::string s = line();
        try {
          f->real = std::stod(s);
        } catch (const std::exception&) {
          fail("bad float \"" + s + "\"");
        }
        stack_.push_back(f);
        break;
      }
      case 'X':
        stack_.push_back(makeString(bytes(littleEndian(4))));
        break;
      case 0x8c:
        stack_.push_back(makeString(bytes(littleEndian(1))));
        break;
      case 0x8d:
        stack_.push_back(makeString(bytes(littleEndian(8))));
        break;
      case 'T':
        stack_.push_back(makeString(bytes(littleEndian(4))));
        break;
      case 'U':
        stack_.push_back(makeString(bytes(littleEndian(1))));
        break;
      case 'B':
        stack_.push_back(makeString(bytes(littleEndian(4))));
        break;
      case 'C':
        stack_.push_back(makeString(bytes(littleEndian(1))));
        break;
      case 0x8e:
      case 0x96:
        stack_.push_back(makeString(bytes(littleEndian(8))));
        break;
      case 'V':
        stack_.push_back(makeString(line()));
        break;
      case 'S': {
        std::string s = line();
        if (s.size() >= 2 && (s.front() == '\'' || s.front() == '"') && s.back() == s.front())
          s = s.substr(1, s.size() - 2);
        stack_.push_back(makeString(s));
        break;
      }
      case ')':
        stack_.push_back(tuple({}));
        break;
      case 't':
        stack_.push_back(tuple(popMark()));
        break;
      case 0x85:
      case 0x86:
      case 0x87: {
        const std::size_t n = op - 0x84u;
        std::vector<PyPtr> items(n);
        for (std::size_t i = n; i-- > 0;) items[i] = pop();
        stack_.push_back(tuple(std::move(items)));
        break;
      }
      case ']':
      case 0x8f:
        stack_.push_back(make(K::List));
        break;
      case 'l':
      case 0x91: {
        auto l = make(K::List);
        l->items = popMark();
        stack_.push_back(l);
        break;
      }
      case 'a': {
        PyPtr v = pop();
        appendItems(top(), {v});
        break;
      }
      case 'e':
      case 0x90: {
        auto items = popMark();
        appendItems(top(), items);
        break;
      }
      case '}':
        stack_.push_back(make(K::Dict));
        break;
      case 'd': {
        auto items = popMark();
        auto d = make(K::Dict);
        setItems(d, items);
        stack_.push_back(d);
        break;
      }
      case 's': {
        PyPtr value = pop();
        PyPtr key = pop();
        setItems(top(), {key, value});
        break;
      }
      case 'u': {
        auto items = popMark();
        setItems(top(), items);
        break;
      }
      case 'c': {
        const std::string module = line();
        const std::string name = line();
        stack_.push_back(global(module, name));
        break;
      }
      case 0x93: {
        PyPtr name = pop();
        PyPtr module = pop();
        stack_.push_back(global(module->text, name->text));
        break;
      }
      case 'R': {
        PyPtr args = pop();
        PyPtr callable = pop();
        stack_.push_back(call(callable, args));
        break;
      }
      case 0x81: {
        pop();  // args
        PyPtr cls = pop();
        auto object = make(K::Object);
        object->text = cls->text;
        stack_.push_back(object);
        break;
      }
      case 0x92: {
        pop();
        pop();
        PyPtr cls = pop();
        auto object = make(K::Object);
        object->text = cls->text;
        stack_.push_back(object);
        break;
      }
      case 'i': {
        const std::string module = line();
        const std::string name = line();
        popMark();
        auto object = make(K::Object);
        object->text = module + "." + name;
        stack_.push_back(object);
        break;
      }
      case 'o': {
        auto items = popMark();
        auto object = make(K::Object);
        if (!items.empty()) object->text = items[0]->text;
        stack_.push_back(object);
        break;
      }
      case 'b': {
        pop();  // the state: a state_dict's _metadata, or an object's attributes; not needed
        top();
        break;
      }
      case 'p':
        memoPut(static_cast<std::uint64_t>(lineInteger()));
        break;
      case 'q':
        memoPut(littleEndian(1));
        break;
      case 'r':
        memoPut(littleEndian(4));
        break;
      case 0x94:
        memoPut(memo_.size());
        break;
      case 'g':
        stack_.push_back(memoGet(static_cast<std::uint64_t>(lineInteger())));
        break;
      case 'h':
        stack_.push_back(memoGet(littleEndian(1)));
        break;
      case 'j':
        stack_.push_back(memoGet(littleEndian(4)));
        break;
      case 'Q':
        stack_.push_back(persistentLoad(pop()));
        break;
      case 'P':
        stack_.push_back(persistentLoad(tuple({makeString("storage"), makeString(line())})));
        break;
      default: {
        char hex[8];
        std::snprintf(hex, sizeof hex, "0x%02x", op);
        fail(std::string("pickle opcode ") + hex + " is not supported");
      }
    }
  }

  const unsigned char* data_;
  std::size_t size_;
  std::size_t pos_ = 0;
  const StorageLoader& loader_;
  std::string origin_;
  std::vector<PyPtr> stack_;
  std::vector<std::size_t> marks_;
  std::unordered_map<std::uint64_t, PyPtr> memo_;
  std::unordered_map<std::string, PyPtr> storages_;
};

std::size_t countTensors(const PyValue& dict) {
  std::size_t n = 0;
  for (const auto& e : dict.entries) n += e.second->kind == PyValue::Kind::Tensor ? 1 : 0;
  return n;
}

// Finds the dict that holds the weights: the top level, or a checkpoint's
// "state_dict"/"model"/... entry.
const PyValue* findStateDict(const PyValue& root, int depth = 0) {
  if (root.kind != PyValue::Kind::Dict || depth > 3) return nullptr;  // depth: a dict may contain itself
  if (countTensors(root) > 0) return &root;
  for (const char* key : {"state_dict", "model_state_dict", "model", "net", "network", "params"})
    for (const auto& e : root.entries)
      if (e.first->kind == PyValue::Kind::String && e.first->text == key) {
        if (const PyValue* found = findStateDict(*e.second, depth + 1)) return found;
      }
  return nullptr;
}

}  // namespace

TensorPickle unpickleTensors(const char* data, std::size_t size, const StorageLoader& loader,
                             const std::string& origin) {
  PickleMachine machine(data, size, loader, origin);
  const PyPtr root = wrapErrors(ErrorKind::Model, "Cannot read the PyTorch weights in " + origin,
                                [&] { return machine.run(); });
  const PyValue* dict = findStateDict(*root);
  if (dict == nullptr) {
    if (root->kind == PyValue::Kind::Object)
      throw Error(ErrorKind::Model,
                  origin + " holds a whole pickled " + root->text +
                      " object, not a state_dict: save it with torch.save(model.state_dict(), path)");
    throw Error(ErrorKind::Model, origin + " holds no state_dict (a dict of tensors)");
  }
  TensorPickle result;
  result.bytesRead = machine.position();
  for (const auto& e : dict->entries) {
    if (e.first->kind != PyValue::Kind::String || e.second->kind != PyValue::Kind::Tensor) continue;
    result.tensors[e.first->text] = e.second->tensor;
  }
  return result;
}

}  // namespace impasto
