#pragma once

#include <torch/types.h>

#include <filesystem>
#include <map>
#include <string>

namespace impasto {

// Reads a state_dict saved by torch.save before PyTorch 1.6 (the "legacy",
// pre-zip layout the classic VGG-19 .pth files use). Only the pickle globals a
// plain state_dict needs are accepted, so a hostile file cannot run code.
// Returns parameter name -> float32 tensor (contiguous, CPU).
// Throws Error(ErrorKind::Model) on anything it cannot or will not read.
std::map<std::string, torch::Tensor> readLegacyTorchFile(const std::filesystem::path& path);

}  // namespace impasto
