#pragma once

#include <cstdint>
#include <memory>

#include "core/models/model.h"

namespace impasto::test {

// A tiny seeded CNN (conv-relu-pool-conv-relu-pool-conv-relu) for engine tests:
// layers conv1 relu1 pool1 conv2 relu2 pool2 conv3 relu3. Random, so its
// features mean nothing, but the costs and gradients are real. Its manifest
// recommends alpha 1, beta 1000, as a real model's may.
ModelPtr makeTinyModel(std::uint64_t seed = 1, int width = 8);


}  // namespace impasto::test
