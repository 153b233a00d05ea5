#pragma once

#include <functional>
#include <opencv2/dnn.hpp>
#include <string>
#include <vector>

#include "core/models/layers.h"

namespace impasto {

// Turns a network OpenCV's dnn module has read (ONNX, Caffe) into our layer
// list: convolution, ReLU/LeakyReLU and pooling layers, in order, each
// reading the previous one's output. The chain may end in a classifier head
// (flatten, fully connected, softmax, global pooling): it is cut off there.
// Anything else, or any branching, throws Error(Model) naming the layer.
// ONNX node names such as "/features/features.0/Conv" become "features.0".
std::vector<LayerSpec> layersFromDnnNet(cv::dnn::Net& net, const std::string& origin);

// How ONNX and Caffe models load: `read` makes the net (an OpenCV reader), and
// its failures become Error(Model) "Cannot read <description>: ... (<advice>)".
std::vector<LayerSpec> readDnnLayers(const std::function<cv::dnn::Net()>& read, const std::string& description,
                                     const std::string& advice, const std::string& origin);

// The user-facing part of a layer name: OpenCV prefixes ONNX nodes with
// "onnx_node!", and PyTorch's exporter names nodes "/<module path>/<Op>".
std::string friendlyLayerName(const std::string& dnnName);

}  // namespace impasto
