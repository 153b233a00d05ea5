#include "core/caffe_model.h"

#include "core/dnn_layers.h"
#include "core/error.h"

namespace impasto {

std::vector<LayerSpec> readCaffeLayers(const std::filesystem::path& prototxt,
                                       const std::filesystem::path& caffemodel) {
  const std::string origin = caffemodel.string();
  cv::dnn::Net net;
  try {
    net = cv::dnn::readNetFromCaffe(prototxt.string(), caffemodel.string());
  } catch (const cv::Exception& e) {
    throw Error(ErrorKind::Model, "Cannot read the Caffe model " + origin + " with " + prototxt.string() +
                                      ": " + e.err + " (do the prototxt and the weights belong together?)");
  }
  if (net.empty())
    throw Error(ErrorKind::Model, "Cannot read the Caffe model " + origin + ": it holds no layers");
  return layersFromDnnNet(net, origin);
}

std::optional<std::filesystem::path> findCaffePrototxt(const std::filesystem::path& caffemodel,
                                                       const std::filesystem::path& resourceDir) {
  const auto dir = caffemodel.parent_path();
  const std::string stem = caffemodel.stem().string();
  std::error_code ec;
  for (const auto& candidate :
       {dir / (stem + ".prototxt"), dir / (stem + "_deploy.prototxt"), dir / "deploy.prototxt"})
    if (std::filesystem::is_regular_file(candidate, ec)) return candidate;
  // The published VGG weights come without a deploy file that OpenCV likes.
  if (stem.rfind("VGG_ILSVRC_19_layers", 0) == 0) return resourceDir / "caffe" / "vgg19_deploy.prototxt";
  if (stem.rfind("VGG_ILSVRC_16_layers", 0) == 0) return resourceDir / "caffe" / "vgg16_deploy.prototxt";
  return std::nullopt;
}

}  // namespace impasto
