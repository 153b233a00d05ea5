#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>

#include "core/models/model.h"

namespace impasto::test {

// A tiny seeded CNN (conv-relu-pool-conv-relu-pool-conv-relu) for engine tests:
// layers conv1 relu1 pool1 conv2 relu2 pool2 conv3 relu3. Random, so its
// features mean nothing, but the costs and gradients are real. Its manifest
// recommends alpha 1, beta 1000, as a real model's may.
ModelPtr makeTinyModel(std::uint64_t seed = 1, int width = 8);

// A seeded conv1 relu1 pool1 conv2 relu2 network as an ONNX file, for tests
// that load a model from disk (this header keeps torch out of Qt test files).
void writeTinyOnnx(const std::filesystem::path& path, std::uint64_t seed = 7, int width = 8);

}  // namespace impasto::test
