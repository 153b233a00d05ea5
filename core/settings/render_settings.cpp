#include "core/settings/render_settings.h"

#include <cmath>

#include <nlohmann/json.hpp>

#include "core/models/model.h"
#include "core/util/error.h"
#include "core/util/version.h"

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
      {"impasto_version", version()},
  };
  return json.dump();
}

RenderSettings resolveSettings(RenderSettings settings, const Model& model) {
  const ModelManifest& manifest = model.manifest();
  auto requireLayer = [&](const std::string& name, const char* role) {
    if (!model.hasLayer(name)) {
      std::string valid;
      for (const auto& n : model.layerNames()) valid += (valid.empty() ? "" : ", ") + n;
      throw Error(ErrorKind::Usage, std::string("Unknown ") + role + " layer '" + name + "' for model '" +
                                        manifest.name + "'. Its layers are: " + valid);
    }
  };
  if (settings.contentLayer.empty()) settings.contentLayer = manifest.defaultContentLayer;
  if (settings.contentLayer.empty()) throw Error(ErrorKind::Usage, "Choose a content layer (--content-layer)");
  requireLayer(settings.contentLayer, "content");
  if (settings.weights.styleLayers.empty()) {
    const auto& defaults = manifest.defaultStyleLayers;
    for (const auto& name : defaults) settings.weights.styleLayers[name] = 1.0 / double(defaults.size());
  }
  if (settings.weights.styleLayers.empty()) throw Error(ErrorKind::Usage, "Choose style layers (--style-layers)");
  for (const auto& [name, lambda] : settings.weights.styleLayers) {
    requireLayer(name, "style");
    if (!(lambda >= 0.0) || !std::isfinite(lambda))
      throw Error(ErrorKind::Usage, "Layer weight λ of '" + name + "' must be a finite number ≥ 0");
  }
  if (settings.size < 16 || settings.size > 16384)
    throw Error(ErrorKind::Usage, "Size must be between 16 and 16384 pixels");
  if (settings.iterations < 0) throw Error(ErrorKind::Usage, "Iterations must be ≥ 0");
  for (double w : {settings.weights.alpha, settings.weights.beta, settings.weights.tv})
    if (!(w >= 0.0) || !std::isfinite(w)) throw Error(ErrorKind::Usage, "α, β and the TV weight must be finite and ≥ 0");
  if (settings.learningRate <= 0.0) settings.learningRate = settings.optimizer == Optimizer::Lbfgs ? 1.0 : 0.02;
  if (settings.frameEvery < 1) settings.frameEvery = 1;
  return settings;
}

}  // namespace impasto
