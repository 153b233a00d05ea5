#include "core/models/state_dict.h"

#include <zip.h>

#include <array>
#include <cstring>
#include <fstream>

#include "core/models/legacy_pickle.h"
#include "core/models/torch_pickle.h"
#include "core/util/error.h"
#include "core/util/text.h"

namespace impasto {

namespace {

bool isZipFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::array<char, 4> magic{};
  in.read(magic.data(), magic.size());
  return in.gcount() == 4 && std::memcmp(magic.data(), "PK\x03\x04", 4) == 0;
}

// The zip archive torch.save writes (PyTorch >= 1.6), read with libzip. Every
// entry sits in one top folder whose name varies ("archive/data.pkl",
// "resnet/data/0"). torch.save stores entries uncompressed; compressed ones
// are refused, and so is an entry that claims more bytes than the whole file,
// so a small file cannot make us allocate for a size it merely declares.
class TorchZip {
 public:
  explicit TorchZip(const std::filesystem::path& path) : origin_(path.string()) {
    std::error_code ec;
    fileSize_ = std::filesystem::file_size(path, ec);
    if (ec) throw Error(ErrorKind::Model, "Cannot read " + origin_ + ": " + ec.message());
    int code = 0;
    zip_ = zip_open(origin_.c_str(), ZIP_RDONLY, &code);
    if (zip_ == nullptr) {
      zip_error_t error;
      zip_error_init_with_code(&error, code);
      const std::string why = zip_error_strerror(&error);
      zip_error_fini(&error);
      throw Error(ErrorKind::Model, "Cannot read the PyTorch zip archive " + origin_ + ": " + why +
                                        " (the file is damaged or incomplete; download it again)");
    }
    if (zip_get_num_entries(zip_, 0) > 0) {
      const std::string first = zip_get_name(zip_, 0, ZIP_FL_ENC_RAW);
      folder_ = first.substr(0, first.find('/') + 1);
    }
  }
  ~TorchZip() { zip_discard(zip_); }
  TorchZip(const TorchZip&) = delete;
  TorchZip& operator=(const TorchZip&) = delete;

  bool has(const std::string& record) const { return locate(record) >= 0; }
  std::uint64_t fileSize() const { return fileSize_; }

  // The stored size of a record; throws when it is missing or compressed.
  std::uint64_t size(const std::string& record) const { return stat(record).size; }

  // Reads the first `bytes` bytes of a record (at most its size).
  void read(const std::string& record, void* destination, std::uint64_t bytes) const {
    const zip_stat_t st = stat(record);
    if (bytes > st.size) throw Error(ErrorKind::Internal, "TorchZip::read past the end of " + record);
    zip_file_t* file = zip_fopen_index(zip_, st.index, 0);
    if (file == nullptr) throw damaged(record);
    const zip_int64_t got = bytes ? zip_fread(file, destination, bytes) : 0;
    zip_fclose(file);
    if (got < 0 || static_cast<std::uint64_t>(got) != bytes) throw damaged(record);
  }

 private:
  zip_int64_t locate(const std::string& record) const {
    return zip_name_locate(zip_, (folder_ + record).c_str(), ZIP_FL_ENC_RAW);
  }
  zip_stat_t stat(const std::string& record) const {
    const zip_int64_t index = locate(record);
    if (index < 0)
      throw Error(ErrorKind::Model, origin_ + " lacks the tensor data " + PickleFailure::shortened(record) +
                                        ": the file is incomplete");
    zip_stat_t st;
    zip_stat_init(&st);
    if (zip_stat_index(zip_, static_cast<zip_uint64_t>(index), 0, &st) != 0) throw damaged(record);
    if (!(st.valid & ZIP_STAT_COMP_METHOD) || st.comp_method != ZIP_CM_STORE)
      throw Error(ErrorKind::Model, origin_ + ": entry " + PickleFailure::shortened(record) +
                                        " is compressed, which torch.save never does; Impasto does not read "
                                        "compressed weights (re-save the file with torch.save)");
    // Stored data lies in the file: an entry larger than the file (or whose
    // sizes disagree) is forged or damaged, whatever its headers claim.
    if (!(st.valid & ZIP_STAT_SIZE) || !(st.valid & ZIP_STAT_COMP_SIZE) || st.size != st.comp_size ||
        st.size > fileSize_)
      throw Error(ErrorKind::Model, origin_ + ": entry " + PickleFailure::shortened(record) + " claims " +
                                        std::to_string(st.size) + " bytes in a file of " +
                                        std::to_string(fileSize_) +
                                        ": the file is damaged; download it again");
    return st;
  }
  Error damaged(const std::string& record) const {
    return Error(ErrorKind::Model, "Cannot read " + PickleFailure::shortened(record) + " from " + origin_ +
                                       ": the file is damaged");
  }

  std::string origin_;
  std::uint64_t fileSize_ = 0;
  zip_t* zip_ = nullptr;
  std::string folder_;
};

StateDict readZipStateDict(const std::filesystem::path& path) {
  const std::string origin = path.string();
  const TorchZip zip(path);
  if (!zip.has("data.pkl"))
    throw Error(ErrorKind::Model,
                origin + " is a zip file but not a PyTorch checkpoint (it has no data.pkl)");
  std::vector<char> pickle(static_cast<std::size_t>(zip.size("data.pkl")));
  zip.read("data.pkl", pickle.data(), pickle.size());
  const StorageLoader loader = [&](const StorageRef& ref, void* destination) {
    const std::string record = "data/" + ref.key;
    const std::uint64_t size = zip.size(record);
    if (size < ref.byteSize())
      throw Error(ErrorKind::Model, origin + ": tensor data " + PickleFailure::shortened(record) + " has " +
                                        std::to_string(size) + " bytes, expected " +
                                        std::to_string(ref.byteSize()) + ": the file is damaged");
    zip.read(record, destination, ref.byteSize());
  };
  return unpickleTensors(pickle.data(), pickle.size(), loader, origin, zip.fileSize() - pickle.size());
}

// DataParallel checkpoints name every key "module.<key>".
StateDict dropCommonModulePrefix(StateDict dict) {
  const std::string prefix = "module.";
  for (const auto& [key, value] : dict)
    if (key.rfind(prefix, 0) != 0) return dict;
  StateDict stripped;
  for (auto& [key, value] : dict) stripped[key.substr(prefix.size())] = value;
  return stripped;
}

}  // namespace

StateDict loadStateDict(const std::filesystem::path& path) {
  if (!isRegularFile(path)) throw Error(ErrorKind::Model, "No such model file: " + path.string());
  StateDict dict = isZipFile(path) ? readZipStateDict(path) : readLegacyTorchFile(path);
  if (dict.empty()) throw Error(ErrorKind::Model, path.string() + " holds no tensors");
  return dropCommonModulePrefix(std::move(dict));
}

std::vector<LayerSpec> layersFromTopology(const std::vector<TopologyEntry>& topology, const StateDict& dict,
                                          const std::string& origin) {
  std::vector<LayerSpec> layers;
  for (const auto& entry : topology) {
    LayerSpec spec;
    spec.name = entry.name;
    if (entry.type == "conv") {
      spec.kind = LayerKind::Conv;
      const std::string key = entry.key.empty() ? entry.name : entry.key;
      auto weight = dict.find(key + ".weight");
      if (weight == dict.end())
        throw Error(ErrorKind::Model,
                    origin + " has no tensor " + key + ".weight for layer " + entry.name +
                        " of the manifest's topology: do the manifest and the weights belong together?");
      if (weight->second.dim() != 4)
        throw Error(ErrorKind::Model, origin + ": " + key + ".weight has shape " +
                                          shapeString(weight->second.shape()) +
                                          ", expected [out, in, kh, kw] for a convolution");
      spec.weight = weight->second;
      auto bias = dict.find(key + ".bias");
      if (bias != dict.end()) {
        if (bias->second.dim() != 1 || bias->second.size(0) != spec.weight.size(0))
          throw Error(ErrorKind::Model, origin + ": " + key + ".bias has shape " +
                                            shapeString(bias->second.shape()) + ", expected [" +
                                            std::to_string(spec.weight.size(0)) + "]");
        spec.bias = bias->second;
      }
      spec.stride = entry.stride;
      spec.padding = entry.padding;
    } else if (entry.type == "relu") {
      spec.kind = LayerKind::ReLU;
    } else if (entry.type == "leaky_relu") {
      spec.kind = LayerKind::LeakyReLU;
      spec.negativeSlope = entry.slope;
    } else {
      spec.kind = entry.type == "max_pool" ? LayerKind::MaxPool : LayerKind::AvgPool;
      spec.kernel = entry.kernel;
      spec.stride = entry.stride;
      spec.padding = entry.padding;
      spec.padAfter = entry.padAfter;
      spec.ceilMode = entry.ceilMode;
    }
    layers.push_back(std::move(spec));
  }
  return layers;
}

}  // namespace impasto
