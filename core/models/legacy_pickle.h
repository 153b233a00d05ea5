#pragma once

#include <filesystem>
#include <map>
#include <string>

#include "core/models/weights.h"

namespace impasto {

// Reads a state_dict saved by torch.save before PyTorch 1.6 (the "legacy",
// pre-zip layout the classic VGG-19 .pth files use). Only the pickle globals a
// plain state_dict needs are accepted, so a hostile file cannot run code.
// Returns parameter name -> float32 array.
// Throws Error(ErrorKind::Model) on anything it cannot or will not read.
std::map<std::string, WeightArray> readLegacyTorchFile(const std::filesystem::path& path);

}  // namespace impasto
