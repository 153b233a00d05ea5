#include "core/models/dnn_layers.h"

#include <limits>
#include <opencv2/dnn/all_layers.hpp>
#include <set>

#include "core/util/error.h"

namespace impasto {

namespace {

const char* kSupported = "Impasto supports chains of convolution, ReLU/LeakyReLU and pooling";

[[noreturn]] void notSequential(const std::string& origin, const std::string& why) {
  throw Error(ErrorKind::Model, origin + " is not a sequential CNN (" + why + "); " + kSupported);
}

[[noreturn]] void unsupported(const std::string& origin, const std::string& why) {
  throw Error(ErrorKind::Model, origin + " cannot be used (" + why + "); " + kSupported);
}

// OpenCV's pooling type codes (modules/dnn/src/layers/pooling_layer.cpp).
constexpr int kOpenCvMaxPool = 0;
constexpr int kOpenCvAvePool = 1;

// Layers that only start the classifier: the features end before them.
bool isHead(const cv::Ptr<cv::dnn::Layer>& layer) {
  static const std::set<std::string> heads{"Flatten", "Reshape", "InnerProduct", "Gemm",   "MatMul",
                                           "Softmax", "SoftMax", "LogSoftmax",   "Squeeze"};
  if (heads.count(layer->type)) return true;
  auto pool = layer.dynamicCast<cv::dnn::PoolingLayer>();
  return pool && pool->globalPooling;
}

bool isPassThrough(const std::string& type) { return type == "Identity" || type == "Dropout"; }

// Same value on both axes, or fail. Values beyond int are refused here (the
// layer chain check bounds the rest), so none is truncated into a small one.
int square(const std::vector<size_t>& values, int fallback, const std::string& what,
           const std::string& origin, const std::string& layer) {
  if (values.empty()) return fallback;
  for (size_t v : values)
    if (v != values[0]) unsupported(origin, "layer " + layer + " has a different " + what + " per axis");
  if (values[0] > static_cast<size_t>(std::numeric_limits<int>::max()))
    unsupported(origin, "layer " + layer + " has a " + what + " of " + std::to_string(values[0]));
  return static_cast<int>(values[0]);
}

WeightArray toWeights(const cv::Mat& blob, const std::vector<std::int64_t>& shape, const std::string& origin,
                      const std::string& what) {
  if (blob.depth() != CV_32F && blob.depth() != CV_64F && blob.depth() != CV_16S)
    throw Error(ErrorKind::Model, origin + ": " + what + " is not float data");
  cv::Mat floats;
  if (blob.depth() == CV_16S) {  // OpenCV keeps float16 weights as CV_16S
    cv::convertFp16(blob, floats);
  } else {
    blob.convertTo(floats, CV_32F);
  }
  if (!floats.isContinuous()) floats = floats.clone();
  std::int64_t numel = 1;
  for (auto d : shape) numel *= d;
  if (static_cast<std::int64_t>(floats.total()) != numel)
    throw Error(ErrorKind::Model, origin + ": " + what + " has " + std::to_string(floats.total()) +
                                      " values, expected " + std::to_string(numel));
  const float* values = floats.ptr<float>();
  return WeightArray(shape, std::vector<float>(values, values + numel));
}

LayerSpec convolution(const cv::Ptr<cv::dnn::BaseConvolutionLayer>& conv, const std::string& name,
                      const std::string& origin) {
  if (conv->blobs.empty() || conv->blobs[0].dims != 4)
    unsupported(origin, "convolution " + name + " has no constant 4-D weights");
  for (size_t d : conv->dilations)
    if (d != 1) unsupported(origin, "convolution " + name + " is dilated");
  LayerSpec spec;
  spec.kind = LayerKind::Conv;
  spec.name = name;
  const cv::Mat& w = conv->blobs[0];
  const std::vector<std::int64_t> shape{w.size[0], w.size[1], w.size[2], w.size[3]};
  if (static_cast<std::int64_t>(conv->numOutput) != shape[0] && conv->numOutput > 0)
    unsupported(origin, "convolution " + name + " is grouped");
  spec.weight = toWeights(w, shape, origin, name + " weights");
  if (conv->blobs.size() > 1 && !conv->blobs[1].empty())
    spec.bias = toWeights(conv->blobs[1], {shape[0]}, origin, name + " bias");
  spec.stride = square(conv->strides, 1, "stride", origin, name);
  if (conv->padMode.empty()) {
    const int begin = square(conv->pads_begin, 0, "padding", origin, name);
    const int end = square(conv->pads_end, begin, "padding", origin, name);
    if (begin != end) unsupported(origin, "convolution " + name + " pads asymmetrically");
    spec.padding = begin;
  } else if (conv->padMode == "SAME") {
    const int k = square(conv->kernel_size, 1, "kernel size", origin, name);
    if (k % 2 == 0 || spec.stride != 1)
      unsupported(origin, "convolution " + name + " uses \"same\" padding with an even kernel or a stride");
    spec.padding = (k - 1) / 2;
  } else if (conv->padMode != "VALID") {
    unsupported(origin, "convolution " + name + " has padding mode " + conv->padMode);
  }
  return spec;
}

LayerSpec pooling(const cv::Ptr<cv::dnn::PoolingLayer>& pool, const std::string& name,
                  const std::string& origin) {
  LayerSpec spec;
  spec.name = name;
  if (pool->type == kOpenCvMaxPool) {
    spec.kind = LayerKind::MaxPool;
  } else if (pool->type == kOpenCvAvePool) {
    spec.kind = LayerKind::AvgPool;
  } else {
    unsupported(origin, "pooling layer " + name + " is neither max nor average pooling");
  }
  spec.kernel = square(pool->kernel_size, 2, "kernel size", origin, name);
  spec.stride = square(pool->strides, spec.kernel, "stride", origin, name);
  spec.ceilMode = pool->ceilMode;
  if (pool->padMode.empty()) {
    const int begin = square(pool->pads_begin, 0, "padding", origin, name);
    const int end = square(pool->pads_end, begin, "padding", origin, name);
    if (begin == end) {
      spec.padding = begin;
    } else if (begin == 0 && end == spec.stride - 1) {  // TensorFlow's "same", exported
      spec.padAfter = end;
    } else {
      unsupported(origin, "pooling layer " + name + " pads unevenly on both sides");
    }
  } else if (pool->padMode == "SAME") {
    // TensorFlow's "same": with kernel == stride, padding kernel-1 on the
    // bottom/right gives exactly its ceil(n / stride) output.
    if (spec.kernel == spec.stride) {
      spec.padAfter = spec.kernel - 1;
    } else if (spec.kernel % 2 == 1 && spec.stride == 1) {
      spec.padding = (spec.kernel - 1) / 2;
    } else {
      unsupported(origin, "pooling layer " + name + " uses \"same\" padding with this kernel and stride");
    }
  } else if (pool->padMode != "VALID") {
    unsupported(origin, "pooling layer " + name + " has padding mode " + pool->padMode);
  }
  return spec;
}

}  // namespace

std::vector<LayerSpec> readDnnLayers(const std::function<cv::dnn::Net()>& read,
                                     const std::string& description, const std::string& advice,
                                     const std::string& origin) {
  cv::dnn::Net net;
  try {
    net = read();
  } catch (const cv::Exception& e) {
    throw Error(ErrorKind::Model, "Cannot read " + description + ": " + e.err + " (" + advice + ")");
  }
  if (net.empty()) throw Error(ErrorKind::Model, "Cannot read " + description + ": it holds no layers");
  return layersFromDnnNet(net, origin);
}

std::string friendlyLayerName(const std::string& dnnName) {
  std::string name = dnnName;
  const std::string onnxPrefix = "onnx_node!";
  if (name.rfind(onnxPrefix, 0) == 0) name = name.substr(onnxPrefix.size());
  if (name.empty() || name[0] != '/') return name;
  std::vector<std::string> parts;
  std::size_t start = 1;
  while (start <= name.size()) {
    const std::size_t slash = std::min(name.find('/', start), name.size());
    if (slash > start) parts.push_back(name.substr(start, slash - start));
    start = slash + 1;
  }
  if (parts.empty()) return name;
  // The last part is the operator ("Conv", "Conv_output_0"); the one before it
  // is the module that owns it.
  return parts.size() >= 2 ? parts[parts.size() - 2] : parts.back();
}

std::vector<LayerSpec> layersFromDnnNet(cv::dnn::Net& net, const std::string& origin) {
  std::vector<LayerSpec> layers;
  std::set<std::string> usedNames;
  return wrapErrors(ErrorKind::Model, "Cannot inspect the network in " + origin, [&] {
    std::string previous = net.getLayer(0)->name;  // the network's input
    for (const std::string& dnnName : net.getLayerNames()) {
      const int id = net.getLayerId(dnnName);
      const cv::Ptr<cv::dnn::Layer> layer = net.getLayer(id);
      std::string name = friendlyLayerName(dnnName);
      const auto inputs = net.getLayerInputs(id);
      if (isHead(layer)) break;
      if (inputs.size() != 1)
        notSequential(origin, "layer " + name + " has " + std::to_string(inputs.size()) + " inputs");
      if (inputs[0]->name != previous)
        notSequential(origin, "layer " + name + " reads the output of " + friendlyLayerName(inputs[0]->name) +
                                  ", not of the layer before it");
      previous = dnnName;
      if (isPassThrough(layer->type)) continue;

      LayerSpec spec;
      if (layer->type == "Convolution") {
        spec = convolution(layer.dynamicCast<cv::dnn::BaseConvolutionLayer>(), name, origin);
      } else if (auto relu = layer.dynamicCast<cv::dnn::ReLULayer>()) {
        spec.name = name;
        spec.kind = relu->negativeSlope == 0.f ? LayerKind::ReLU : LayerKind::LeakyReLU;
        spec.negativeSlope = relu->negativeSlope;
      } else if (auto pool = layer.dynamicCast<cv::dnn::PoolingLayer>(); pool && layer->type == "Pooling") {
        spec = pooling(pool, name, origin);
      } else {
        unsupported(origin, "layer " + name + " has type " + layer->type + ", which is not supported");
      }
      // Names must be unique: the user picks style and content layers by name.
      for (int n = 2; usedNames.count(spec.name); ++n) spec.name = name + "_" + std::to_string(n);
      usedNames.insert(spec.name);
      layers.push_back(std::move(spec));
    }
    if (layers.empty()) unsupported(origin, "it has no convolution layers");
    return layers;
  });
}

}  // namespace impasto
