#include "core/models/layers.h"

namespace impasto {

std::string toString(LayerKind kind) {
  switch (kind) {
    case LayerKind::Conv: return "conv";
    case LayerKind::ReLU: return "relu";
    case LayerKind::LeakyReLU: return "leaky_relu";
    case LayerKind::MaxPool: return "max_pool";
    case LayerKind::AvgPool: return "avg_pool";
  }
  return "unknown";
}

}  // namespace impasto
