#include "core/engine/layer_activations.h"

#include <algorithm>

#include <opencv2/imgproc.hpp>
#include <ATen/ops/zeros_like.h>

#include "core/util/error.h"
#include "core/engine/feature_extractor.h"
#include "core/engine/tensor_convert.h"

namespace impasto {

std::vector<ChannelActivation> strongestChannelActivations(const Model& model, const cv::Mat& rgb01,
                                                           const std::string& layer, int count, int maxSide) {
  if (rgb01.empty() || rgb01.type() != CV_32FC3)
    throw Error(ErrorKind::Input, "The layer viewer needs an RGB image; load a content or style image first.");
  if (!model.hasLayer(layer))
    throw Error(ErrorKind::Usage, "Model '" + model.manifest().name + "' has no layer '" + layer + "'.");
  if (count <= 0) return {};

  return wrapErrors(ErrorKind::Internal, "Computing the activations of layer '" + layer + "'", [&] {
    cv::Mat image = rgb01;
    const int longest = std::max(rgb01.cols, rgb01.rows);
    if (maxSide > 0 && longest > maxSide) {
      const double f = double(maxSide) / longest;
      cv::resize(rgb01, image, cv::Size(std::max(1, int(rgb01.cols * f + 0.5)), std::max(1, int(rgb01.rows * f + 0.5))),
                 0, 0, cv::INTER_AREA);
    }

    at::NoGradGuard noGrad;
    FeatureExtractor extractor(model, std::vector<std::string>{layer});
    const at::Tensor activation = extractor.forward(imageToTensor(image)).at(layer)[0].contiguous();  // [C, H, W]
    const int channels = int(activation.size(0));
    const int height = int(activation.size(1));
    const int width = int(activation.size(2));
    const at::Tensor strength = activation.mean({1, 2});
    const auto top = strength.topk(std::min(count, channels));
    const at::Tensor values = std::get<0>(top);
    const at::Tensor indices = std::get<1>(top);

    std::vector<ChannelActivation> result;
    for (int i = 0; i < int(indices.size(0)); ++i) {
      const int c = int(indices[i].item<std::int64_t>());
      at::Tensor map = activation[c].to(at::kFloat).contiguous();
      const float lo = map.min().item<float>();
      const float hi = map.max().item<float>();
      // A flat map carries no structure: show it black rather than dividing by zero.
      map = hi > lo ? (map - lo) / (hi - lo) : at::zeros_like(map);
      map = map.contiguous();
      ChannelActivation entry;
      entry.channel = c;
      entry.mean = values[i].item<double>();
      entry.map = cv::Mat(height, width, CV_32F, map.data_ptr<float>()).clone();
      result.push_back(std::move(entry));
    }
    return result;
  });
}

std::vector<cv::Mat> strongestChannels(const Model& model, const cv::Mat& rgb01, const std::string& layer, int count,
                                       int maxSide) {
  std::vector<cv::Mat> maps;
  for (auto& entry : strongestChannelActivations(model, rgb01, layer, count, maxSide)) maps.push_back(std::move(entry.map));
  return maps;
}

}  // namespace impasto
