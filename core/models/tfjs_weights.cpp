#include "core/models/tfjs_weights.h"

#include <cstring>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>

#include "core/io/atomic_file.h"
#include "core/util/error.h"
#include "core/util/json_depth.h"
#include "core/util/text.h"

namespace impasto {
namespace {

using nlohmann::json;

constexpr std::uintmax_t kMaxManifestBytes = 64u << 20;

[[noreturn]] void fail(const std::filesystem::path& source, const std::string& what) {
  throw Error(ErrorKind::Model,
              "Cannot load the TensorFlow.js model '" + source.string() + "': " + what + ".");
}

template <typename Q>
std::vector<float> dequantizeAny(const Q* q, std::size_t count, double scale, double min) {
  std::vector<float> values(count);
  for (std::size_t i = 0; i < count; ++i) values[i] = static_cast<float>(min + scale * q[i]);
  return values;
}

}  // namespace

std::vector<float> dequantize(const std::uint8_t* q, std::size_t count, double scale, double min) {
  return dequantizeAny(q, count, scale, min);
}

std::vector<float> dequantize(const std::uint16_t* q, std::size_t count, double scale, double min) {
  return dequantizeAny(q, count, scale, min);
}

TfjsWeightStore::TfjsWeightStore(const json& manifest, const std::filesystem::path& source)
    : source_(source) {
  if (!manifest.is_array()) fail(source, "its weights manifest is not a list of weight groups");
  const std::filesystem::path dir = source.parent_path();
  try {
    for (const auto& item : manifest) {
      Group group;
      for (const auto& p : item.at("paths"))
        group.shards.push_back(pathInside(dir, p.get<std::string>(), source.string() + ": a weight shard"));
      for (const auto& w : item.at("weights")) {
        Entry weight;
        weight.group = groups_.size();
        weight.byteOffset = group.bytes;
        weight.shape = w.at("shape").get<std::vector<std::int64_t>>();
        const std::string name = w.at("name").get<std::string>();
        if (w.value("dtype", std::string("float32")) != "float32")
          fail(source, "weight '" + name + "' is " + w.at("dtype").get<std::string>() +
                           ", which Impasto does not read (only float32, possibly quantized)");
        if (const auto q = w.find("quantization"); q != w.end()) {
          const std::string qtype = q->value("dtype", std::string());
          if (qtype == "uint8")
            weight.quantBytes = 1;
          else if (qtype == "uint16")
            weight.quantBytes = 2;
          else
            fail(source, "weight '" + name + "' is quantized as '" + qtype +
                             "', which Impasto does not read (only uint8 and uint16)");
          weight.scale = q->at("scale").get<double>();
          weight.min = q->at("min").get<double>();
        }
        std::uint64_t count = 1;
        for (std::int64_t d : weight.shape) {
          if (d < 0 || (d > 0 && count > (std::uint64_t{1} << 40) / static_cast<std::uint64_t>(d)))
            fail(source, "weight '" + name + "' has an impossible shape");
          count *= static_cast<std::uint64_t>(d);
        }
        weight.count = static_cast<std::int64_t>(count);
        group.bytes += count * static_cast<std::uint64_t>(weight.quantBytes == 0 ? 4 : weight.quantBytes);
        if (!weights_.emplace(name, std::move(weight)).second)
          fail(source, "weight '" + name + "' is listed twice");
        ++group.unread;
      }
      groups_.push_back(std::move(group));
    }
  } catch (const json::exception& e) {
    fail(source, std::string("its weights manifest is malformed (") + e.what() + ")");
  }
}

TfjsWeightStore TfjsWeightStore::fromManifestFile(const std::filesystem::path& manifest) {
  std::error_code ec;
  const std::uintmax_t size = std::filesystem::file_size(manifest, ec);
  if (ec) fail(manifest, ec.message());
  if (size > kMaxManifestBytes) fail(manifest, "it is too large for a weights manifest");
  const std::string text = readFileBytes(manifest);
  requireJsonDepth(text, ErrorKind::Model, "The TensorFlow.js weights manifest " + manifest.string());
  json root;
  try {
    root = json::parse(text);
  } catch (const json::exception& e) {
    fail(manifest, std::string("it is not valid JSON (") + e.what() + ")");
  }
  return TfjsWeightStore(root, manifest);
}

bool TfjsWeightStore::contains(const std::string& name) const { return weights_.count(name) != 0; }

std::string TfjsWeightStore::resolve(const std::string& wanted) const {
  if (weights_.count(wanted) != 0) return wanted;
  std::string found;
  const std::string suffix = "/" + wanted;
  for (const auto& item : weights_) {
    const std::string& name = item.first;
    if (name.size() > suffix.size() &&
        name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0) {
      if (!found.empty()) return {};
      found = name;
    }
  }
  return found;
}

const TfjsWeightStore::Entry& TfjsWeightStore::entry(const std::string& name) const {
  const auto it = weights_.find(name);
  if (it == weights_.end()) fail(source_, "it has no weight '" + name + "'");
  return it->second;
}

bool TfjsWeightStore::available(const std::string& name) const {
  for (const auto& shard : groups_[entry(name).group].shards)
    if (!std::filesystem::is_regular_file(shard)) return false;
  return true;
}

const std::vector<std::int64_t>& TfjsWeightStore::shape(const std::string& name) const {
  return entry(name).shape;
}

WeightArray TfjsWeightStore::get(const std::string& name) {
  const Entry& w = entry(name);
  const std::string& data = groupData(w.group);
  const char* bytes = data.data() + w.byteOffset;
  const auto count = static_cast<std::size_t>(w.count);
  std::vector<float> values;
  if (w.quantBytes == 1) {
    values = dequantize(reinterpret_cast<const std::uint8_t*>(bytes), count, w.scale, w.min);
  } else if (w.quantBytes == 2) {
    std::vector<std::uint16_t> q(count);  // copied: the shard offset need not be aligned
    std::memcpy(q.data(), bytes, count * sizeof(std::uint16_t));
    values = dequantize(q.data(), count, w.scale, w.min);
  } else {
    values.resize(count);
    std::memcpy(values.data(), bytes, count * sizeof(float));
  }
  if (fetched_.insert(name).second && --groups_[w.group].unread == 0) data_.erase(w.group);
  return WeightArray(w.shape, std::move(values));
}

const std::string& TfjsWeightStore::groupData(std::size_t index) {
  auto cached = data_.find(index);
  if (cached != data_.end()) return cached->second;
  const Group& group = groups_[index];
  std::uint64_t actual = 0;
  std::string names;
  for (const auto& shard : group.shards) {
    std::error_code ec;
    const std::uintmax_t size = std::filesystem::file_size(shard, ec);
    if (ec) fail(source_, "cannot read weight shard '" + shard.filename().string() + "': " + ec.message());
    actual += size;
    names += (names.empty() ? "'" : " + '") + shard.filename().string() + "'";
  }
  if (actual != group.bytes)
    fail(source_, "weight shard " + names + " holds " + std::to_string(actual) +
                      " bytes but the manifest expects " + std::to_string(group.bytes) +
                      "; the download is incomplete or damaged, download it again");
  std::string data;
  data.reserve(static_cast<std::size_t>(actual));
  for (const auto& shard : group.shards) {
    std::ifstream in(shard, std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (!in.good() && !in.eof())
      fail(source_, "cannot read weight shard '" + shard.filename().string() + "'");
    data += bytes;
  }
  if (data.size() != group.bytes) fail(source_, "weight shard " + names + " changed while being read");
  return data_.emplace(index, std::move(data)).first->second;
}

}  // namespace impasto
