#include "tests/support/onnx_writer.h"

#include <cctype>
#include <cstring>
#include <fstream>

namespace impasto::test {

namespace {

// onnx.proto field numbers.
namespace model {
constexpr int kIrVersion = 1, kProducerName = 2, kGraph = 7, kOpsetImport = 8;
}
namespace graph {
constexpr int kNode = 1, kName = 2, kInitializer = 5, kInput = 11, kOutput = 12;
}
namespace node {
constexpr int kInput = 1, kOutput = 2, kName = 3, kOpType = 4, kAttribute = 5;
}
namespace attribute {
constexpr int kName = 1, kF = 2, kI = 3, kInts = 8, kType = 20;
constexpr int kTypeFloat = 1, kTypeInt = 2, kTypeInts = 7;
}  // namespace attribute
namespace tensor {
constexpr int kDims = 1, kDataType = 2, kName = 8, kRawData = 9, kFloat = 1;
}

ProtoWriter intsAttribute(const std::string& name, const std::vector<std::int64_t>& values) {
  ProtoWriter a;
  a.bytes(attribute::kName, name);
  for (auto v : values) a.varint(attribute::kInts, static_cast<std::uint64_t>(v));
  a.varint(attribute::kType, attribute::kTypeInts);
  return a;
}

ProtoWriter intAttribute(const std::string& name, std::int64_t value) {
  ProtoWriter a;
  a.bytes(attribute::kName, name).varint(attribute::kI, static_cast<std::uint64_t>(value));
  a.varint(attribute::kType, attribute::kTypeInt);
  return a;
}

ProtoWriter floatAttribute(const std::string& name, float value) {
  ProtoWriter a;
  a.bytes(attribute::kName, name)
      .floatValue(attribute::kF, value)
      .varint(attribute::kType, attribute::kTypeFloat);
  return a;
}

// ValueInfoProto of a float tensor; empty dims are symbolic.
ProtoWriter valueInfo(const std::string& name, const std::vector<std::string>& dims) {
  ProtoWriter shape;
  for (const auto& d : dims) {
    ProtoWriter dim;
    if (d.empty() || !std::isdigit(static_cast<unsigned char>(d[0])))
      dim.bytes(2, d.empty() ? "?" : d);  // dim_param
    else
      dim.varint(1, std::stoull(d));  // dim_value
    shape.message(1, dim);
  }
  ProtoWriter tensorType;
  tensorType.varint(1, tensor::kFloat).message(2, shape);
  ProtoWriter type;
  type.message(1, tensorType);
  ProtoWriter info;
  info.bytes(1, name).message(2, type);
  return info;
}

}  // namespace

void ProtoWriter::rawVarint(std::uint64_t value) {
  do {
    std::uint8_t byte = value & 0x7f;
    value >>= 7;
    if (value) byte |= 0x80;
    out_.push_back(static_cast<char>(byte));
  } while (value);
}

void ProtoWriter::key(int field, int wireType) {
  rawVarint(static_cast<std::uint64_t>(field) << 3 | wireType);
}

ProtoWriter& ProtoWriter::varint(int field, std::uint64_t value) {
  key(field, 0);
  rawVarint(value);
  return *this;
}

ProtoWriter& ProtoWriter::floatValue(int field, float value) {
  key(field, 5);
  char b[4];
  std::memcpy(b, &value, 4);  // little-endian hosts only, like the files we read
  out_.append(b, 4);
  return *this;
}

ProtoWriter& ProtoWriter::bytes(int field, const std::string& data) {
  key(field, 2);
  rawVarint(data.size());
  out_ += data;
  return *this;
}

ProtoWriter& ProtoWriter::packedFloats(int field, const std::vector<float>& values) {
  std::string data(values.size() * 4, '\0');
  if (!values.empty()) std::memcpy(data.data(), values.data(), data.size());
  return bytes(field, data);
}

ProtoWriter& ProtoWriter::packedVarints(int field, const std::vector<std::int64_t>& values) {
  ProtoWriter inner;
  for (auto v : values) inner.rawVarint(static_cast<std::uint64_t>(v));
  return bytes(field, inner.str());
}

OnnxWriter::OnnxWriter() {
  graph_.bytes(graph::kName, "test_graph");
  graph_.message(graph::kInput, valueInfo("image", {"1", "3", "height", "width"}));
}

ProtoWriter& OnnxWriter::addNode(const std::string& op, const std::string& name,
                                 const std::vector<std::string>& inputs,
                                 const std::vector<std::string>& outputs) {
  ProtoWriter n;
  for (const auto& i : inputs) n.bytes(node::kInput, i);
  for (const auto& o : outputs) n.bytes(node::kOutput, o);
  n.bytes(node::kName, name).bytes(node::kOpType, op);
  nodes_.push_back(n);
  return nodes_.back();
}

void OnnxWriter::initializer(const std::string& name, const at::Tensor& values) {
  const at::Tensor t = values.to(at::kFloat).contiguous();
  ProtoWriter p;
  for (auto d : t.sizes()) p.varint(tensor::kDims, static_cast<std::uint64_t>(d));
  p.varint(tensor::kDataType, tensor::kFloat).bytes(tensor::kName, name);
  p.bytes(tensor::kRawData, std::string(static_cast<const char*>(t.data_ptr()), t.numel() * sizeof(float)));
  graph_.message(graph::kInitializer, p);
}

OnnxWriter& OnnxWriter::conv(const std::string& name, const std::string& input, const std::string& output,
                             const at::Tensor& weight, const at::Tensor& bias, int stride, int pad) {
  std::vector<std::string> inputs{input, name + ".weight"};
  initializer(name + ".weight", weight);
  if (bias.defined()) {
    inputs.push_back(name + ".bias");
    initializer(name + ".bias", bias);
  }
  ProtoWriter& n = addNode("Conv", name, inputs, {output});
  n.message(node::kAttribute, intsAttribute("dilations", {1, 1}));
  n.message(node::kAttribute, intAttribute("group", 1));
  n.message(node::kAttribute, intsAttribute("kernel_shape", {weight.size(2), weight.size(3)}));
  n.message(node::kAttribute, intsAttribute("pads", {pad, pad, pad, pad}));
  n.message(node::kAttribute, intsAttribute("strides", {stride, stride}));
  return *this;
}

OnnxWriter& OnnxWriter::relu(const std::string& name, const std::string& input, const std::string& output) {
  addNode("Relu", name, {input}, {output});
  return *this;
}

OnnxWriter& OnnxWriter::leakyRelu(const std::string& name, const std::string& input,
                                  const std::string& output, float alpha) {
  addNode("LeakyRelu", name, {input}, {output}).message(node::kAttribute, floatAttribute("alpha", alpha));
  return *this;
}

OnnxWriter& OnnxWriter::maxPool(const std::string& name, const std::string& input, const std::string& output,
                                int kernel, int stride, std::vector<std::int64_t> pads) {
  ProtoWriter& n = addNode("MaxPool", name, {input}, {output});
  n.message(node::kAttribute, intAttribute("ceil_mode", 0));
  n.message(node::kAttribute, intsAttribute("kernel_shape", {kernel, kernel}));
  n.message(node::kAttribute, intsAttribute("pads", pads));
  n.message(node::kAttribute, intsAttribute("strides", {stride, stride}));
  return *this;
}

OnnxWriter& OnnxWriter::averagePool(const std::string& name, const std::string& input,
                                    const std::string& output, int kernel, int stride) {
  ProtoWriter& n = addNode("AveragePool", name, {input}, {output});
  n.message(node::kAttribute, intsAttribute("kernel_shape", {kernel, kernel}));
  n.message(node::kAttribute, intsAttribute("pads", {0, 0, 0, 0}));
  n.message(node::kAttribute, intsAttribute("strides", {stride, stride}));
  return *this;
}

OnnxWriter& OnnxWriter::node(const std::string& op, const std::string& name,
                             const std::vector<std::string>& inputs,
                             const std::vector<std::string>& outputs) {
  addNode(op, name, inputs, outputs);
  return *this;
}

OnnxWriter& OnnxWriter::output(const std::string& name) {
  graph_.message(graph::kOutput, valueInfo(name, {"1", "", "", ""}));
  return *this;
}

std::string OnnxWriter::serialize() const {
  ProtoWriter g;
  for (const auto& n : nodes_) g.message(graph::kNode, n);
  ProtoWriter opset;
  opset.bytes(1, "").varint(2, 11);
  ProtoWriter m;
  m.varint(model::kIrVersion, 6).bytes(model::kProducerName, "impasto-tests");
  m.bytes(model::kGraph, g.str() + graph_.str());  // fields may come in any order
  m.message(model::kOpsetImport, opset);
  return m.str();
}

void OnnxWriter::save(const std::filesystem::path& path) const {
  std::ofstream out(path, std::ios::binary);
  const std::string bytes = serialize();
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

}  // namespace impasto::test
