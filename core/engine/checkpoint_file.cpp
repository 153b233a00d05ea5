#include "core/engine/checkpoint_file.h"

#include <cstdint>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>

#include "core/io/atomic_file.h"
#include "core/library/sha256.h"
#include "core/settings/preset.h"
#include "core/util/error.h"
#include "core/util/json_depth.h"

namespace impasto {
namespace {

using Json = nlohmann::json;

// Layout: kMagic, the header's length (8 bytes, little-endian), the header
// (JSON), the arrays' floats in the header's order, then the SHA-256 of all
// that. Floats are stored as this machine has them (little-endian x86/ARM).
constexpr char kMagic[] = "IMPASTO-CHECKPOINT\n";
constexpr std::size_t kMagicSize = sizeof kMagic - 1;
constexpr int kVersion = 1;
constexpr std::uint64_t kMaxHeaderBytes = 16 << 20;

struct ArrayRef {
  std::string name;
  const std::vector<float>* values;
};

Json header(const Checkpoint& c, std::vector<ArrayRef>& order, std::vector<float>& generated) {
  const RenderState& s = c.state;
  const cv::Mat g = s.generated.isContinuous() ? s.generated : s.generated.clone();
  generated.assign(g.ptr<float>(), g.ptr<float>() + g.total() * 3);
  Json arrays = Json::array({Json{{"name", "generated"}, {"rows", g.rows}, {"cols", g.cols}}});
  order.push_back({"generated", &generated});
  for (const auto& [name, values] : s.optimizer.arrays) {
    arrays.push_back(Json{{"name", name}, {"count", values.size()}});
    order.push_back({name, &values});
  }
  return Json{{"version", kVersion},
              {"render", Json::parse(c.render)},
              {"iteration", s.iteration},
              {"level", s.level},
              {"level_step", s.levelStep},
              {"elapsed_s", s.elapsedSeconds},
              {"weights", Json::parse(lossWeightsToJson(s.weights))},
              {"numbers", s.optimizer.numbers},
              {"arrays", std::move(arrays)}};
}

// Reads the file front to back, hashing what it reads.
class CheckpointReader {
 public:
  explicit CheckpointReader(const std::filesystem::path& path) : path_(path), in_(path, std::ios::binary) {
    if (!in_) throw Error(ErrorKind::Input, "Cannot read the checkpoint " + path.string() + ": no such file");
    std::error_code ec;
    left_ = std::filesystem::file_size(path, ec);
  }

  [[noreturn]] void fail(const std::string& why) const {
    throw Error(ErrorKind::Input, "The checkpoint " + path_.string() + " " + why + ".");
  }

  void read(void* into, std::uint64_t size, bool hashed = true) {
    if (size > left_) fail("is truncated (the render may have been killed while it was first written)");
    in_.read(static_cast<char*>(into), std::streamsize(size));
    if (!in_) fail("cannot be read");
    left_ -= size;
    if (hashed) hash_.update(into, std::size_t(size));
  }

  std::uint64_t left() const { return left_; }
  Sha256::Digest digest() { return hash_.finish(); }

 private:
  std::filesystem::path path_;
  std::ifstream in_;
  std::uint64_t left_ = 0;
  Sha256 hash_;
};

}  // namespace

void saveCheckpoint(const Checkpoint& checkpoint, const std::filesystem::path& path) {
  std::vector<ArrayRef> order;
  std::vector<float> generated;
  const std::string head = header(checkpoint, order, generated).dump();
  writeFileAtomically(path, [&](const ByteSink& sink) {
    Sha256 hash;
    auto put = [&](const void* data, std::size_t size) {
      hash.update(data, size);
      sink(data, size);
    };
    put(kMagic, kMagicSize);
    std::uint8_t length[8];
    for (int i = 0; i < 8; ++i) length[i] = std::uint8_t(std::uint64_t(head.size()) >> (8 * i));
    put(length, sizeof length);
    put(head.data(), head.size());
    for (const ArrayRef& array : order) put(array.values->data(), array.values->size() * sizeof(float));
    const Sha256::Digest digest = hash.finish();
    sink(digest.data(), digest.size());
  });
}

Checkpoint loadCheckpoint(const std::filesystem::path& path) {
  CheckpointReader in(path);
  char magic[kMagicSize];
  if (in.left() < kMagicSize) in.fail("is not a checkpoint (too short)");
  in.read(magic, kMagicSize);
  if (std::memcmp(magic, kMagic, kMagicSize) != 0) in.fail("is not an Impasto checkpoint");
  std::uint8_t length[8];
  in.read(length, sizeof length);
  std::uint64_t headerSize = 0;
  for (int i = 0; i < 8; ++i) headerSize |= std::uint64_t(length[i]) << (8 * i);
  if (headerSize > kMaxHeaderBytes || headerSize > in.left())
    in.fail("is damaged (its header's length is wrong)");
  std::string text(headerSize, '\0');
  in.read(text.data(), headerSize);
  requireJsonDepth(text, ErrorKind::Input, "The checkpoint " + path.string());
  const Json head = Json::parse(text, nullptr, false);
  if (head.is_discarded() || !head.is_object()) in.fail("is damaged (its header is not JSON)");

  Checkpoint c;
  RenderState& s = c.state;
  try {
    if (head.at("version").get<int>() != kVersion) in.fail("was written by another version of Impasto");
    c.render = head.at("render").dump();
    s.iteration = head.at("iteration").get<int>();
    s.level = head.at("level").get<int>();
    s.levelStep = head.at("level_step").get<int>();
    s.elapsedSeconds = head.at("elapsed_s").get<double>();
    s.weights = lossWeightsFromJson(head.at("weights").dump(), "checkpoint");
    s.optimizer.numbers = head.at("numbers").get<std::map<std::string, double>>();
    for (const Json& array : head.at("arrays")) {
      const std::string name = array.at("name").get<std::string>();
      std::uint64_t count = 0;
      int rows = 0, cols = 0;
      if (name == "generated") {
        rows = array.at("rows").get<int>();
        cols = array.at("cols").get<int>();
        if (rows < 1 || cols < 1 || rows > kMaxSize || cols > kMaxSize)
          in.fail("is damaged (its image size)");
        count = std::uint64_t(rows) * std::uint64_t(cols) * 3;
      } else {
        count = array.at("count").get<std::uint64_t>();
      }
      // Checked against what is left before anything is allocated.
      if (count > (in.left() - std::min<std::uint64_t>(in.left(), 32)) / sizeof(float))
        in.fail("is truncated (the render may have been killed while it was first written)");
      if (name == "generated") {
        s.generated.create(rows, cols, CV_32FC3);
        in.read(s.generated.ptr<float>(), count * sizeof(float));
      } else {
        std::vector<float>& values = s.optimizer.arrays[name];
        values.resize(std::size_t(count));
        in.read(values.data(), count * sizeof(float));
      }
    }
  } catch (const Json::exception&) {
    in.fail("is damaged (its header lacks a field)");
  }
  if (s.generated.empty()) in.fail("is damaged (it holds no image)");
  const Sha256::Digest digest = in.digest();
  Sha256::Digest stored{};
  if (in.left() != stored.size()) in.fail("is damaged (its length is wrong)");
  in.read(stored.data(), stored.size(), /*hashed=*/false);
  if (stored != digest) in.fail("is damaged (its checksum does not match)");
  return c;
}

}  // namespace impasto
