#include "core/models/model.h"

#include <algorithm>

#include "core/models/layers.h"

namespace impasto {

Model::Model(ModelManifest manifest, std::vector<LayerSpec> layers)
    : manifest_(std::move(manifest)), layers_(std::make_unique<std::vector<LayerSpec>>(std::move(layers))) {}

Model::~Model() = default;

std::vector<std::string> Model::layerNames() const {
  std::vector<std::string> names;
  names.reserve(layers_->size());
  for (const auto& layer : *layers_) names.push_back(layer.name);
  return names;
}

bool Model::hasLayer(const std::string& name) const {
  return std::any_of(layers_->begin(), layers_->end(), [&](const LayerSpec& l) { return l.name == name; });
}

ModelPtr withPooling(const ModelPtr& model, Pooling pooling) {
  if (pooling == Pooling::AsTrained) return model;
  std::vector<LayerSpec> layers = model->layers();
  for (auto& layer : layers) {
    if (layer.kind == LayerKind::MaxPool || layer.kind == LayerKind::AvgPool)
      layer.kind = pooling == Pooling::Max ? LayerKind::MaxPool : LayerKind::AvgPool;
  }
  return std::make_shared<const Model>(model->manifest(), std::move(layers));
}

}  // namespace impasto
