#pragma once

#include <torch/torch.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <string>

namespace impasto {

// A storage that a PyTorch pickle refers to by persistent id:
// ('storage', torch.<Type>Storage, key, location, numel[, view]).
struct StorageRef {
  std::string key;
  torch::ScalarType dtype = torch::kFloat;
  std::int64_t numel = 0;
  std::string location;
};

// Returns the storage's elements as a 1-D tensor of ref.dtype and ref.numel.
using StorageLoader = std::function<torch::Tensor(const StorageRef& ref)>;

struct TensorPickle {
  std::map<std::string, torch::Tensor> tensors;  // the state_dict, by key
  std::size_t bytesRead = 0;                     // where the pickle ended (STOP included)
};

// Runs the pickle program that PyTorch's torch.save writes for a state_dict
// (zip data.pkl, or the main pickle of the legacy format) with a small pickle
// machine of our own: LibTorch 1.13's unpickler turns the OrderedDict of a
// Python state_dict into None. Understands _rebuild_tensor_v2, parameters,
// OrderedDict, and checkpoints that nest the state_dict under "state_dict" or
// "model". Throws Error(Model) naming origin.
TensorPickle unpickleTensors(const char* data, std::size_t size, const StorageLoader& loader,
                             const std::string& origin);

}  // namespace impasto
