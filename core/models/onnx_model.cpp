#include "core/models/onnx_model.h"

#include "core/models/dnn_layers.h"

namespace impasto {

std::vector<LayerSpec> readOnnxLayers(const std::filesystem::path& path) {
  const std::string origin = path.string();
  return readDnnLayers([&] { return cv::dnn::readNetFromONNX(origin); }, "the ONNX model " + origin,
                       "is it a complete .onnx file of a CNN?", origin);
}

}  // namespace impasto
