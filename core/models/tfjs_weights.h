#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <set>
#include <string>
#include <vector>

#include "core/models/weights.h"

namespace impasto {

// value = min + scale · q, TensorFlow.js's affine quantization of float32
// weights to 8 or 16 bits (one scale and min per tensor).
std::vector<float> dequantize(const std::uint8_t* q, std::size_t count, double scale, double min);
std::vector<float> dequantize(const std::uint16_t* q, std::size_t count, double scale, double min);

// The weights of a TensorFlow.js weights manifest (the "weightsManifest" array
// of a model.json, or a standalone *-weights_manifest.json): groups of named
// tensors stored back to back in the group's shard files. float32 tensors are
// read as they are; uint8/uint16-quantized ones are dequantized. Shards are
// read on first use and dropped once every weight of their group was fetched.
// Throws Error(ErrorKind::Model), naming `source`, on a malformed manifest.
class TfjsWeightStore {
 public:
  TfjsWeightStore(const nlohmann::json& weightsManifest, const std::filesystem::path& source);

  // A standalone *-weights_manifest.json, its shards beside it.
  static TfjsWeightStore fromManifestFile(const std::filesystem::path& manifest);

  bool contains(const std::string& name) const;
  // The manifest name for "<layer>/<weight>": itself, or the one name that ends
  // in "/<layer>/<weight>" (a scope prefix). "" when there is none.
  std::string resolve(const std::string& wanted) const;
  // False when a shard of the weight's group is not on disk (a partial download).
  bool available(const std::string& name) const;
  const std::vector<std::int64_t>& shape(const std::string& name) const;
  // The values as float32, dequantized where stored quantized. Throws
  // Error(Model) for an unknown name or a shard of the wrong size.
  WeightArray get(const std::string& name);

 private:
  // Where one named weight lives: a byte range in its group's concatenated shards.
  struct Entry {
    std::size_t group = 0;
    std::uint64_t byteOffset = 0;
    std::vector<std::int64_t> shape;
    std::int64_t count = 0;
    int quantBytes = 0;  // 0: float32; 1: uint8; 2: uint16
    double scale = 1.0;
    double min = 0.0;
  };
  struct Group {
    std::vector<std::filesystem::path> shards;
    std::uint64_t bytes = 0;
    std::size_t unread = 0;  // weights not fetched yet; the bytes are dropped at 0
  };
  const std::string& groupData(std::size_t index);
  const Entry& entry(const std::string& name) const;

  std::filesystem::path source_;
  std::vector<Group> groups_;
  std::map<std::string, Entry> weights_;
  std::map<std::size_t, std::string> data_;
  std::set<std::string> fetched_;
};

}  // namespace impasto
