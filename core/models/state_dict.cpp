#include "core/models/state_dict.h"

#include <caffe2/serialize/inline_container.h>

#include <array>
#include <cstring>
#include <fstream>

#include "core/util/error.h"
#include "core/models/legacy_pickle.h"
#include "core/models/torch_pickle.h"

namespace impasto {

namespace {

bool isZipFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::array<char, 4> magic{};
  in.read(magic.data(), magic.size());
  return in.gcount() == 4 && std::memcmp(magic.data(), "PK\x03\x04", 4) == 0;
}

StateDict readZipStateDict(const std::filesystem::path& path) {
  const std::string origin = path.string();
  return wrapErrors(ErrorKind::Model, "Cannot read the PyTorch zip archive " + origin, [&] {
    caffe2::serialize::PyTorchStreamReader reader(origin);
    if (!reader.hasRecord("data.pkl"))
      throw Error(ErrorKind::Model,
                  origin + " is a zip file but not a PyTorch checkpoint (it has no data.pkl)");
    const auto [pickle, pickleSize] = reader.getRecord("data.pkl");
    const StorageLoader loader = [&](const StorageRef& ref) {
      const std::string record = "data/" + ref.key;
      if (!reader.hasRecord(record))
        throw Error(ErrorKind::Model,
                    origin + " lacks the tensor data " + record + ": the file is incomplete");
      const auto [bytes, size] = reader.getRecord(record);
      const std::size_t expected = static_cast<std::size_t>(ref.numel) * c10::elementSize(ref.dtype);
      if (size < expected || static_cast<std::size_t>(ref.numel) > size)
        throw Error(ErrorKind::Model, origin + ": tensor data " + record + " has " + std::to_string(size) +
                                          " bytes, expected " + std::to_string(expected) +
                                          ": the file is damaged");
      torch::Tensor storage = torch::empty({ref.numel}, torch::TensorOptions().dtype(ref.dtype));
      if (expected > 0) std::memcpy(storage.data_ptr(), bytes.get(), expected);
      return storage;
    };
    return unpickleTensors(static_cast<const char*>(pickle.get()), pickleSize, loader, origin);
  });
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

std::string shapeString(const torch::Tensor& t) {
  std::string s = "[";
  for (std::int64_t i = 0; i < t.dim(); ++i) s += (i ? ", " : "") + std::to_string(t.size(i));
  return s + "]";
}

}  // namespace

StateDict loadStateDict(const std::filesystem::path& path) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec))
    throw Error(ErrorKind::Model, "No such model file: " + path.string());
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
                                          shapeString(weight->second) +
                                          ", expected [out, in, kh, kw] for a convolution");
      spec.weight = weight->second.to(torch::kFloat).contiguous();
      auto bias = dict.find(key + ".bias");
      if (bias != dict.end()) {
        if (bias->second.dim() != 1 || bias->second.size(0) != spec.weight.size(0))
          throw Error(ErrorKind::Model, origin + ": " + key + ".bias has shape " + shapeString(bias->second) +
                                            ", expected [" + std::to_string(spec.weight.size(0)) + "]");
        spec.bias = bias->second.to(torch::kFloat).contiguous();
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
