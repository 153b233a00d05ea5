#pragma once

#include "tests/support/aten_ops.h"

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace impasto::test {

// Protocol buffers wire format, enough to hand-write ONNX and Caffe files.
class ProtoWriter {
 public:
  ProtoWriter& varint(int field, std::uint64_t value);
  ProtoWriter& floatValue(int field, float value);  // fixed32
  ProtoWriter& bytes(int field, const std::string& data);
  ProtoWriter& message(int field, const ProtoWriter& sub) { return bytes(field, sub.str()); }
  ProtoWriter& packedFloats(int field, const std::vector<float>& values);
  ProtoWriter& packedVarints(int field, const std::vector<std::int64_t>& values);

  const std::string& str() const { return out_; }

 private:
  void key(int field, int wireType);
  void rawVarint(std::uint64_t value);
  std::string out_;
};

// An ONNX model (opset 11) with one float input "image" [1, 3, H, W] (H and W
// symbolic), written node by node. Initializers are float32 raw_data.
class OnnxWriter {
 public:
  OnnxWriter();

  // Conv with kernel from weight [out, in, kh, kw]; bias may be undefined.
  OnnxWriter& conv(const std::string& name, const std::string& input, const std::string& output,
                   const at::Tensor& weight, const at::Tensor& bias, int stride = 1, int pad = 0);
  OnnxWriter& relu(const std::string& name, const std::string& input, const std::string& output);
  OnnxWriter& leakyRelu(const std::string& name, const std::string& input, const std::string& output,
                        float alpha);
  // pads: {top, left, bottom, right}
  OnnxWriter& maxPool(const std::string& name, const std::string& input, const std::string& output,
                      int kernel, int stride, std::vector<std::int64_t> pads = {0, 0, 0, 0});
  OnnxWriter& averagePool(const std::string& name, const std::string& input, const std::string& output,
                          int kernel, int stride);
  // Any node without attributes (Add, Sigmoid, ...).
  OnnxWriter& node(const std::string& op, const std::string& name, const std::vector<std::string>& inputs,
                   const std::vector<std::string>& outputs);
  OnnxWriter& output(const std::string& name);

  std::string serialize() const;
  void save(const std::filesystem::path& path) const;

 private:
  ProtoWriter& addNode(const std::string& op, const std::string& name, const std::vector<std::string>& inputs,
                       const std::vector<std::string>& outputs);
  void initializer(const std::string& name, const at::Tensor& values);

  ProtoWriter graph_;
  std::vector<ProtoWriter> nodes_;
};

}  // namespace impasto::test
