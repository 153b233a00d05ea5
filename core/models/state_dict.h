#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "core/models/layers.h"
#include "core/models/manifest.h"
#include "core/models/weights.h"

namespace impasto {

using StateDict = std::map<std::string, WeightArray>;  // float32, whatever the file stored

// Reads a PyTorch state_dict (torch.save of a dict of tensors): the zip
// format of PyTorch >= 1.6 here, the legacy pre-zip format through
// readLegacyTorchFile. A common "module." prefix (from
// DataParallel) is dropped. Throws Error(Model) naming the file.
StateDict loadStateDict(const std::filesystem::path& path);

// Builds the layers a manifest's "topology" describes, taking conv weights
// from "<key>.weight" / "<key>.bias". Checks that every conv weight exists and
// that channel counts chain; throws Error(Model) naming origin and the key.
std::vector<LayerSpec> layersFromTopology(const std::vector<TopologyEntry>& topology, const StateDict& dict,
                                          const std::string& origin);

}  // namespace impasto
