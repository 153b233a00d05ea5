#pragma once

#include <string>
#include <vector>

#include <opencv2/core.hpp>

#include "core/models/model.h"

namespace impasto {

// One channel of a layer's activation, for the layer viewer ("visualizing deep layers").
struct ChannelActivation {
  int channel = 0;     // index in the layer
  double mean = 0.0;   // mean activation over the map: how strongly the image drives it
  cv::Mat map;         // CV_32F, min-max normalised to [0, 1], the layer's spatial size
};

// The `count` channels of `layer` that respond most strongly (largest mean
// activation) to rgb01 (CV_32FC3 RGB [0, 1]), strongest first. The image is
// shrunk so its longest side is at most maxSide first (0: as it is), which
// keeps a VGG layer viewer interactive. Throws Error(Usage) for an unknown
// layer, Error(Input) for an empty or wrongly typed image.
std::vector<ChannelActivation> strongestChannelActivations(const Model& model, const cv::Mat& rgb01,
                                                           const std::string& layer, int count, int maxSide);

// The maps alone, as the layer viewer shows them.
std::vector<cv::Mat> strongestChannels(const Model& model, const cv::Mat& rgb01, const std::string& layer,
                                       int count, int maxSide);

}  // namespace impasto
