// Render settings <-> JSON. Kept apart from render.cpp so it compiles without torch.
#include <nlohmann/json.hpp>

#include "core/render.h"

namespace impasto {

std::string describeSettings(const RenderSettings& s, const std::string& modelName) {
  nlohmann::json json{
      {"model", modelName},
      {"size", s.size},
      {"iterations", s.iterations},
      {"alpha", s.weights.alpha},
      {"beta", s.weights.beta},
      {"style_layers", s.weights.styleLayers},
      {"tv", s.weights.tv},
      {"content_layer", s.contentLayer},
      {"optimizer", s.optimizer == Optimizer::Lbfgs ? "lbfgs" : "adam"},
      {"lr", s.learningRate},
      {"init", s.init == InitKind::Content ? "content" : s.init == InitKind::Noise ? "noise" : "image"},
      {"seed", s.seed},
      {"impasto_version", IMPASTO_VERSION},
  };
  return json.dump();
}

}  // namespace impasto
