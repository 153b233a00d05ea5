#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "core/models/manifest.h"

namespace impasto {

struct LayerSpec;

// A loaded network: its manifest and its layer list. Immutable once loaded and
// shared between render jobs. The layer list lives in core/layers.h (torch);
// this header stays torch-free so the CLI and GUI can include it cheaply.
class Model {
 public:
  Model(ModelManifest manifest, std::vector<LayerSpec> layers);
  ~Model();
  Model(const Model&) = delete;
  Model& operator=(const Model&) = delete;

  const ModelManifest& manifest() const { return manifest_; }
  const std::vector<LayerSpec>& layers() const { return *layers_; }
  std::vector<std::string> layerNames() const;
  bool hasLayer(const std::string& name) const;

 private:
  ModelManifest manifest_;
  std::unique_ptr<std::vector<LayerSpec>> layers_;
};

using ModelPtr = std::shared_ptr<const Model>;

enum class Pooling { AsTrained, Max, Avg };

// Loads a model file by its extension: .onnx (OpenCV dnn), .pth (PyTorch
// state_dict, zip or legacy), model.json (TensorFlow.js), .caffemodel.
// A manifest beside it (same stem, .json) supplies names and preprocessing.
// Throws Error(Model) with what is wrong and what to do.
ModelPtr loadModelFile(const std::filesystem::path& path, Pooling pooling = Pooling::AsTrained);

// Returns a copy of the model with every pooling layer replaced by max or avg.
ModelPtr withPooling(const ModelPtr& model, Pooling pooling);

}  // namespace impasto
