#pragma once

#include "core/models/model.h"

namespace impasto::bench {

// VGG-19 with seeded random weights: the real topology and cost, without the
// download (the same for every benchmark, so their figures compare).
ModelPtr randomVgg19();

}  // namespace impasto::bench
