#include "core/models/manifest.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "core/models/layers.h"
#include "core/util/error.h"
#include "core/util/json_depth.h"

namespace impasto {

namespace {

using nlohmann::json;

// Bounds preprocessing numbers (mean, std, range, scale) so that they and an
// input computed from them stay finite in float32.
constexpr double kMaxInputValue = 1e6;
// Default loss weights: beyond this the cost overflows float32 mid-render.
constexpr double kMaxLossWeight = 1e12;

// Reads fields of one JSON object and reports errors as "<origin>: field "<path>" ...".
class FieldReader {
 public:
  FieldReader(const json& object, std::string origin, std::string path)
      : object_(object), origin_(std::move(origin)), path_(std::move(path)) {}

  [[noreturn]] void fail(const std::string& field, const std::string& problem) const {
    throw Error(ErrorKind::Model,
                "Model manifest " + origin_ + ": field \"" + fieldPath(field) + "\" " + problem);
  }

  std::string fieldPath(const std::string& field) const {
    return path_.empty() ? field : path_ + "." + field;
  }
  const std::string& origin() const { return origin_; }
  bool has(const std::string& field) const { return object_.contains(field) && !object_.at(field).is_null(); }
  const json& at(const std::string& field) const { return object_.at(field); }

  std::string string(const std::string& field, bool required = false) const {
    if (!has(field)) {
      if (required) fail(field, "is missing");
      return {};
    }
    if (!at(field).is_string()) fail(field, "must be a string");
    return at(field).get<std::string>();
  }

  // Finite only: JSON has no NaN or infinity and parseManifest refuses 1e999,
  // but a non-finite number would surface mid-render, far from its cause.
  double number(const std::string& field, double fallback) const {
    if (!has(field)) return fallback;
    if (!at(field).is_number() || !std::isfinite(at(field).get<double>()))
      fail(field, "must be a finite number");
    return at(field).get<double>();
  }

  int integer(const std::string& field, int fallback, int min, int max) const {
    if (!has(field)) return fallback;
    const json& v = at(field);
    if (!v.is_number_integer() || v.get<std::int64_t>() < min || v.get<std::int64_t>() > max)
      fail(field, "must be an integer from " + std::to_string(min) + " to " + std::to_string(max));
    return v.get<int>();
  }

  bool boolean(const std::string& field, bool fallback) const {
    if (!has(field)) return fallback;
    if (!at(field).is_boolean()) fail(field, "must be true or false");
    return at(field).get<bool>();
  }

  std::vector<std::string> strings(const std::string& field) const {
    std::vector<std::string> out;
    if (!has(field)) return out;
    const json& v = at(field);
    if (!v.is_array()) fail(field, "must be an array of strings");
    for (const auto& item : v) {
      if (!item.is_string()) fail(field, "must be an array of strings");
      out.push_back(item.get<std::string>());
    }
    return out;
  }

  std::array<float, 3> triple(const std::string& field, std::array<float, 3> fallback) const {
    if (!has(field)) return fallback;
    const json& v = at(field);
    // Finite as float too: 1e39 would become infinity in the network's input.
    if (!v.is_array() || v.size() != 3 || !std::all_of(v.begin(), v.end(), [](const json& x) {
          return x.is_number() && std::isfinite(x.get<double>()) &&
                 std::abs(x.get<double>()) <= kMaxInputValue;
        }))
      fail(field, "must be an array of 3 finite numbers, one per channel in the network's order");
    return {v[0].get<float>(), v[1].get<float>(), v[2].get<float>()};
  }

  FieldReader object(const std::string& field) const {
    if (!at(field).is_object()) fail(field, "must be an object");
    return FieldReader(at(field), origin_, fieldPath(field));
  }

 private:
  const json& object_;
  std::string origin_;
  std::string path_;
};

Preprocessing parseInput(const FieldReader& in) {
  Preprocessing p;
  const std::string order = in.string("channel_order");
  if (order == "BGR") {
    p.bgr = true;
  } else if (!order.empty() && order != "RGB") {
    in.fail("channel_order", "must be \"RGB\" or \"BGR\", not \"" + order + "\"");
  }
  p.mean = in.triple("mean", p.mean);
  p.std = in.triple("std", p.std);
  // Dividing by a tiny std would overflow the input as surely as by zero.
  if (std::any_of(p.std.begin(), p.std.end(), [](float s) { return !(std::abs(s) >= 1e-6f); }))
    in.fail("std", "must not contain zeros (nor values under 1e-6)");

  // "range" [lo, hi] says what pixel values the network was trained on; it is
  // another way to write scale (hi - lo), with lo folded into the mean.
  std::optional<float> rangeScale;
  if (in.has("range")) {
    const auto& r = in.at("range");
    if (!r.is_array() || r.size() != 2 || !r[0].is_number() || !r[1].is_number() ||
        !(r[1].get<double>() > r[0].get<double>()) || !(std::abs(r[0].get<double>()) <= kMaxInputValue) ||
        !(std::abs(r[1].get<double>()) <= kMaxInputValue))
      in.fail("range", "must be [low, high] with low < high, e.g. [0, 1] or [0, 255]");
    const float lo = r[0].get<float>();
    rangeScale = r[1].get<float>() - lo;
    for (float& m : p.mean) m -= lo;
  }
  if (in.has("scale")) {
    const double scale = in.number("scale", 1.0);
    if (!(scale > 0.0) || scale > kMaxInputValue)
      in.fail("scale", "must be a positive number (255 for 0-255 networks)");
    p.scale = static_cast<float>(scale);
    if (rangeScale && std::abs(*rangeScale - p.scale) > 1e-4f * p.scale)
      in.fail("scale", "disagrees with \"range\": give one of them, or make them match");
  } else if (rangeScale) {
    p.scale = *rangeScale;
  }
  return p;
}

// A file size in bytes; 0 when absent.
std::int64_t byteCount(const FieldReader& f, const std::string& field) {
  if (!f.has(field)) return 0;
  const json& v = f.at(field);
  if (!v.is_number_integer() || v.get<std::int64_t>() < 0) f.fail(field, "must be a byte count");
  return v.get<std::int64_t>();
}

ModelFile parseFile(const FieldReader& f) {
  ModelFile file;
  file.name = f.string("name", true);
  if (file.name.empty() || file.name.find('/') != std::string::npos ||
      file.name.find('\\') != std::string::npos || file.name == "." || file.name == "..")
    f.fail("name", "must be a plain file name");
  file.urls = f.strings("urls");
  file.size = byteCount(f, "size");
  file.maxSize = byteCount(f, "max_size");
  if (file.maxSize > 0 && file.size > file.maxSize) f.fail("max_size", "is smaller than \"size\"");
  file.sha256 = f.string("sha256");
  const bool hex = std::all_of(file.sha256.begin(), file.sha256.end(),
                               [](char c) { return std::isxdigit(static_cast<unsigned char>(c)); });
  if (!hex || file.sha256.size() > 64) f.fail("sha256", "must be a hex SHA-256 digest or a prefix of one");
  std::transform(file.sha256.begin(), file.sha256.end(), file.sha256.begin(),
                 [](char c) { return static_cast<char>(std::tolower(static_cast<unsigned char>(c))); });
  return file;
}

TopologyEntry parseTopologyEntry(const FieldReader& t) {
  TopologyEntry e;
  e.name = t.string("name", true);
  if (e.name.empty()) t.fail("name", "must not be empty");
  e.type = t.string("type", true);
  static const std::set<std::string> types{"conv", "relu", "leaky_relu", "max_pool", "avg_pool"};
  if (types.count(e.type) == 0)
    t.fail("type", "is \"" + e.type + "\"; it must be one of conv, relu, leaky_relu, max_pool, avg_pool");
  const bool pool = e.type == "max_pool" || e.type == "avg_pool";
  e.key = t.string("key");
  e.kernel = t.integer("kernel", 2, 1, kMaxLayerKernel);
  e.stride = t.integer("stride", pool ? e.kernel : 1, 1, kMaxLayerStride);
  e.padding = t.integer("padding", 0, 0, kMaxLayerPadding);
  e.padAfter = t.integer("pad_after", 0, 0, kMaxLayerPadding);
  e.ceilMode = t.boolean("ceil_mode", false);
  e.slope = t.number("slope", 0.01);
  if (std::abs(e.slope) > kMaxNegativeSlope) t.fail("slope", "must be a number from -1000 to 1000");
  if (e.padAfter > 0 && !pool) t.fail("pad_after", "is only for pooling layers");
  return e;
}

void requireKnownLayer(const FieldReader& root, const std::vector<std::string>& layers,
                       const std::string& field, const std::string& layer) {
  if (layers.empty() || std::find(layers.begin(), layers.end(), layer) != layers.end()) return;
  root.fail(field, "names layer \"" + layer + "\", which is not in \"layers\"");
}

}  // namespace

ModelManifest parseManifest(const std::string& text, const std::string& origin) {
  requireJsonDepth(text, ErrorKind::Model, "Model manifest " + origin);
  json doc;
  try {
    doc = json::parse(text);
  } catch (const json::parse_error& e) {
    throw Error(ErrorKind::Model, "Model manifest " + origin + " is not valid JSON (byte " +
                                      std::to_string(e.byte) + "): fix the file or remove it");
  } catch (const json::exception& e) {  // a number beyond a double's range, such as 1e400
    throw Error(ErrorKind::Model, "Model manifest " + origin + " cannot be read: it is not valid JSON (" +
                                      e.what() + "): fix the file or remove it");
  }
  if (!doc.is_object())
    throw Error(ErrorKind::Model, "Model manifest " + origin + " must hold a JSON object");
  const FieldReader root(doc, origin, "");

  ModelManifest m;
  m.name = root.string("name", true);
  if (m.name.empty()) root.fail("name", "must not be empty");
  m.title = root.string("title");
  m.format = root.string("format");
  static const std::set<std::string> formats{"", "onnx", "pth", "tfjs", "caffe", kFaceModelFormat};
  if (formats.count(m.format) == 0) root.fail("format", "must be one of onnx, pth, tfjs, caffe, face-api");
  m.architecture = root.string("architecture");
  m.license = root.string("license");
  if (root.has("input")) m.input = parseInput(root.object("input"));

  m.layers = root.strings("layers");
  std::set<std::string> seen;
  for (const auto& layer : m.layers)
    if (!seen.insert(layer).second) root.fail("layers", "lists \"" + layer + "\" twice");
  m.defaultStyleLayers = root.strings("default_style_layers");
  for (const auto& layer : m.defaultStyleLayers)
    requireKnownLayer(root, m.layers, "default_style_layers", layer);
  m.defaultContentLayer = root.string("default_content_layer");
  if (!m.defaultContentLayer.empty())
    requireKnownLayer(root, m.layers, "default_content_layer", m.defaultContentLayer);
  // The loss weights a render starts from: refused here, naming the manifest,
  // rather than as a bad setting (or a NaN cost) later.
  auto lossWeight = [&](const char* field) -> std::optional<double> {
    if (!root.has(field)) return std::nullopt;
    const double weight = root.number(field, 0);
    if (weight < 0 || weight > kMaxLossWeight) root.fail(field, "must be a number from 0 to 1e12");
    return weight;
  };
  m.defaultAlpha = lossWeight("default_alpha");
  m.defaultBeta = lossWeight("default_beta");

  if (root.has("files")) {
    if (!root.at("files").is_array()) root.fail("files", "must be an array of {name, urls, size, sha256}");
    for (std::size_t i = 0; i < root.at("files").size(); ++i) {
      const std::string path = "files[" + std::to_string(i) + "]";
      if (!root.at("files")[i].is_object()) root.fail(path, "must be an object");
      m.files.push_back(parseFile(FieldReader(root.at("files")[i], origin, path)));
    }
  }
  m.weightsFile = root.string("weights_file");
  if (!m.weightsFile.empty() && !m.files.empty() &&
      std::none_of(m.files.begin(), m.files.end(),
                   [&](const ModelFile& f) { return f.name == m.weightsFile; }))
    root.fail("weights_file", "names \"" + m.weightsFile + "\", which is not in \"files\"");

  if (root.has("topology")) {
    if (!root.at("topology").is_array()) root.fail("topology", "must be an array of layers");
    std::set<std::string> names;
    for (std::size_t i = 0; i < root.at("topology").size(); ++i) {
      const std::string path = "topology[" + std::to_string(i) + "]";
      if (!root.at("topology")[i].is_object()) root.fail(path, "must be an object");
      m.topology.push_back(parseTopologyEntry(FieldReader(root.at("topology")[i], origin, path)));
      if (!names.insert(m.topology.back().name).second)
        root.fail(path + ".name", "repeats \"" + m.topology.back().name + "\"");
    }
  }
  return m;
}

ModelManifest readManifest(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    throw Error(ErrorKind::Model,
                "Cannot read model manifest " + path.string() + ": no such file or no permission");
  std::ostringstream text;
  text << in.rdbuf();
  return parseManifest(text.str(), path.string());
}

std::string manifestToJson(const ModelManifest& m) {
  json doc = json::object();
  doc["name"] = m.name;
  if (!m.title.empty()) doc["title"] = m.title;
  if (!m.format.empty()) doc["format"] = m.format;
  if (!m.architecture.empty()) doc["architecture"] = m.architecture;
  doc["input"] = {{"channel_order", m.input.bgr ? "BGR" : "RGB"},
                  {"scale", m.input.scale},
                  {"mean", m.input.mean},
                  {"std", m.input.std}};
  doc["layers"] = m.layers;
  doc["default_style_layers"] = m.defaultStyleLayers;
  doc["default_content_layer"] = m.defaultContentLayer;
  if (m.defaultAlpha) doc["default_alpha"] = *m.defaultAlpha;
  if (m.defaultBeta) doc["default_beta"] = *m.defaultBeta;
  if (!m.license.empty()) doc["license"] = m.license;
  if (!m.files.empty()) {
    json files = json::array();
    for (const auto& f : m.files) {
      json file = {{"name", f.name}, {"urls", f.urls}};
      if (f.size > 0) file["size"] = f.size;
      if (!f.sha256.empty()) file["sha256"] = f.sha256;
      if (f.maxSize > 0) file["max_size"] = f.maxSize;
      files.push_back(file);
    }
    doc["files"] = files;
  }
  if (!m.weightsFile.empty()) doc["weights_file"] = m.weightsFile;
  if (!m.topology.empty()) {
    json topology = json::array();
    for (const auto& t : m.topology) {
      json entry = {{"name", t.name}, {"type", t.type}};
      if (!t.key.empty()) entry["key"] = t.key;
      if (t.type == "conv") {
        entry["stride"] = t.stride;
        entry["padding"] = t.padding;
      } else if (t.type == "leaky_relu") {
        entry["slope"] = t.slope;
      } else if (t.type == "max_pool" || t.type == "avg_pool") {
        entry["kernel"] = t.kernel;
        entry["stride"] = t.stride;
        entry["padding"] = t.padding;
        entry["pad_after"] = t.padAfter;
        entry["ceil_mode"] = t.ceilMode;
      }
      topology.push_back(entry);
    }
    doc["topology"] = topology;
  }
  return doc.dump(2) + "\n";
}

}  // namespace impasto
