#include "core/models/onnx_model.h"

#include "core/models/dnn_layers.h"
#include "core/util/error.h"

namespace impasto {

std::vector<LayerSpec> readOnnxLayers(const std::filesystem::path& path) {
  const std::string origin = path.string();
  cv::dnn::Net net;
  try {
    net = cv::dnn::readNetFromONNX(origin);
  } catch (const cv::Exception& e) {
    throw Error(ErrorKind::Model, "Cannot read the ONNX model " + origin + ": " + e.err +
                                      " (is it a complete .onnx file of a CNN?)");
  }
  if (net.empty())
    throw Error(ErrorKind::Model, "Cannot read the ONNX model " + origin + ": it holds no layers");
  return layersFromDnnNet(net, origin);
}

}  // namespace impasto
