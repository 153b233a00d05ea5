#include "core/faces/face_networks.h"

#include <ATen/ops/avg_pool2d.h>
#include <ATen/ops/cat.h>
#include <ATen/ops/constant_pad_nd.h>
#include <ATen/ops/conv2d.h>
#include <ATen/ops/leaky_relu.h>
#include <ATen/ops/matmul.h>
#include <ATen/ops/max_pool2d.h>
#include <ATen/ops/relu.h>
#include <ATen/ops/tensor.h>
#include <ATen/ops/upsample_bilinear2d.h>
#include <ATen/ops/zeros_like.h>

#include <limits>

#include "core/engine/tensor_convert.h"
#include "core/models/tfjs_weights.h"
#include "core/util/error.h"

namespace impasto {
namespace {

at::Tensor load(TfjsWeightStore& weights, const std::string& name, std::size_t rank) {
  const WeightArray array = weights.get(name);
  if (array.shape().size() != rank)
    throw Error(ErrorKind::Model, "The face model's weight '" + name + "' has shape " +
                                      shapeString(array.shape()) + "; the network expects " +
                                      std::to_string(rank) + " dimensions. Download the face models again.");
  return weightTensor(array).clone();
}

// TensorFlow's HWIO filters to ATen's OIHW.
at::Tensor loadFilters(TfjsWeightStore& weights, const std::string& name) {
  return load(weights, name, 4).permute({3, 2, 0, 1}).contiguous();
}

// A depthwise filter [kh, kw, C, 1] as a grouped convolution's [C, 1, kh, kw].
at::Tensor loadDepthwise(TfjsWeightStore& weights, const std::string& name) {
  return load(weights, name, 4).permute({2, 3, 0, 1}).contiguous();
}

at::Tensor channelVector(const at::Tensor& v) { return v.reshape({1, -1, 1, 1}); }

// TensorFlow's "same" padding: the output has ceil(in / stride) positions and
// the odd pixel of padding goes after (bottom, right).
at::Tensor padSame(const at::Tensor& x, std::int64_t kernel, std::int64_t stride, double value = 0.0) {
  auto pads = [&](std::int64_t in) {
    const std::int64_t out = (in + stride - 1) / stride;
    const std::int64_t total = std::max<std::int64_t>((out - 1) * stride + kernel - in, 0);
    return std::pair<std::int64_t, std::int64_t>(total / 2, total - total / 2);
  };
  const auto [top, bottom] = pads(x.size(2));
  const auto [left, right] = pads(x.size(3));
  if (top == 0 && bottom == 0 && left == 0 && right == 0) return x;
  return at::constant_pad_nd(x, {left, right, top, bottom}, value);
}

at::Tensor separableConv(const at::Tensor& x, const at::Tensor& depthwise, const at::Tensor& pointwise,
                         const at::Tensor& bias, std::int64_t stride) {
  const at::Tensor spatial = at::conv2d(x, depthwise, c10::nullopt, at::IntArrayRef{stride, stride},
                                        at::IntArrayRef{0, 0}, at::IntArrayRef{1, 1}, x.size(1));
  return at::conv2d(spatial, pointwise, bias);
}

at::Tensor maxPoolSame(const at::Tensor& x, std::int64_t stride) {
  const at::Tensor padded = padSame(x, 2, stride, -std::numeric_limits<double>::infinity());
  return at::max_pool2d(padded, {2, 2}, {stride, stride});
}

// x / 255 minus the mean colour / 255, per channel, as the reference normalises.
at::Tensor normalise(const at::Tensor& rgb255, double r, double g, double b) {
  const at::Tensor mean = at::tensor({r, g, b}, rgb255.options()).reshape({1, 3, 1, 1});
  return (rgb255 - mean) / 255.0;
}

void requireInput(const at::Tensor& x, std::int64_t size, const char* net) {
  if (x.dim() != 4 || x.size(1) != 3 || (size > 0 && (x.size(2) != size || x.size(3) != size)))
    throw Error(ErrorKind::Internal, std::string(net) + " expects an [N, 3, " + std::to_string(size) + ", " +
                                         std::to_string(size) + "] input");
}

}  // namespace

at::Tensor squareNetworkInput(const at::Tensor& rgb255, int size, bool centre) {
  const std::int64_t h = rgb255.size(2);
  const std::int64_t w = rgb255.size(3);
  const std::int64_t diff = std::abs(h - w);
  // As the reference: the larger half of the padding after, the rest before.
  const std::int64_t after = centre ? (diff + 1) / 2 : diff;
  const std::int64_t before = diff - after;
  at::Tensor square = rgb255;
  if (h > w) square = at::constant_pad_nd(rgb255, {before, after, 0, 0}, 0.0);
  if (w > h) square = at::constant_pad_nd(rgb255, {0, 0, before, after}, 0.0);
  if (square.size(2) == size && square.size(3) == size) return square;
  return at::upsample_bilinear2d(square, {size, size}, /*align_corners=*/false);
}

// FaceRecognitionNet ---------------------------------------------------------

FaceRecognitionNet::ConvScale FaceRecognitionNet::readConv(TfjsWeightStore& weights,
                                                           const std::string& prefix) {
  return {loadFilters(weights, prefix + "/conv/filters"), load(weights, prefix + "/conv/bias", 1),
          channelVector(load(weights, prefix + "/scale/weights", 1)),
          channelVector(load(weights, prefix + "/scale/biases", 1))};
}

FaceRecognitionNet::Residual FaceRecognitionNet::readResidual(TfjsWeightStore& weights,
                                                              const std::string& prefix) {
  return {readConv(weights, prefix + "/conv1"), readConv(weights, prefix + "/conv2")};
}

FaceRecognitionNet::FaceRecognitionNet(TfjsWeightStore& weights) {
  down_ = readConv(weights, "conv32_down");
  const std::vector<std::pair<std::string, bool>> blocks = {
      {"conv32_1", false},  {"conv32_2", false},       {"conv32_3", false},    {"conv64_down", true},
      {"conv64_1", false},  {"conv64_2", false},       {"conv64_3", false},    {"conv128_down", true},
      {"conv128_1", false}, {"conv128_2", false},      {"conv256_down", true}, {"conv256_1", false},
      {"conv256_2", false}, {"conv256_down_out", true}};
  for (const auto& [name, down] : blocks) {
    blocks_.push_back(readResidual(weights, name));
    isDown_.push_back(down);
  }
  fc_ = load(weights, "fc", 2);
}

at::Tensor FaceRecognitionNet::convLayer(const at::Tensor& x, const ConvScale& p, int stride,
                                         bool samePadding, bool relu) {
  const at::Tensor in = samePadding ? padSame(x, p.filters.size(2), stride) : x;
  // Weights follow the input's type: float64 inputs give float64 checks of the gradient.
  const auto type = x.scalar_type();
  const at::Tensor out =
      at::conv2d(in, p.filters.to(type), p.bias.to(type), {stride, stride}) * p.scale.to(type) +
      p.shift.to(type);
  return relu ? at::relu(out) : out;
}

at::Tensor FaceRecognitionNet::residual(const at::Tensor& x, const Residual& p) {
  const at::Tensor out = convLayer(convLayer(x, p.conv1, 1, true, true), p.conv2, 1, true, false);
  return at::relu(out + x);
}

// The downsampling block: a strided valid conv beside a 2x2 average pool of
// the input; the pool's channels are doubled with zeros, and the conv's output
// grows by zeros at the bottom and right where the pool's is larger.
at::Tensor FaceRecognitionNet::residualDown(const at::Tensor& x, const Residual& p) {
  at::Tensor out = convLayer(convLayer(x, p.conv1, 2, false, true), p.conv2, 1, true, false);
  at::Tensor pooled = at::avg_pool2d(x, {2, 2}, {2, 2});
  const std::int64_t extraH = pooled.size(2) - out.size(2);
  const std::int64_t extraW = pooled.size(3) - out.size(3);
  if (extraH > 0 || extraW > 0) out = at::constant_pad_nd(out, {0, extraW, 0, extraH}, 0.0);
  if (pooled.size(1) != out.size(1)) pooled = at::cat({pooled, at::zeros_like(pooled)}, 1);
  return at::relu(pooled + out);
}

at::Tensor FaceRecognitionNet::forward(const at::Tensor& rgb255) const {
  requireInput(rgb255, kInputSize, "FaceRecognitionNet");
  at::Tensor out = normalise(rgb255, 122.782, 117.001, 104.298);
  out = convLayer(out, down_, 2, false, true);
  out = at::max_pool2d(out, {3, 3}, {2, 2});
  for (std::size_t i = 0; i < blocks_.size(); ++i)
    out = isDown_[i] ? residualDown(out, blocks_[i]) : residual(out, blocks_[i]);
  return at::matmul(out.mean({2, 3}), fc_.to(out.scalar_type()));
}

// TinyFaceDetectorNet --------------------------------------------------------

TinyFaceDetectorNet::TinyFaceDetectorNet(TfjsWeightStore& weights) {
  conv0Filters_ = loadFilters(weights, "conv0/filters");
  conv0Bias_ = load(weights, "conv0/bias", 1);
  for (int i = 1; i <= 5; ++i) {
    const std::string prefix = "conv" + std::to_string(i);
    separable_.push_back({loadDepthwise(weights, prefix + "/depthwise_filter"),
                          loadFilters(weights, prefix + "/pointwise_filter"),
                          load(weights, prefix + "/bias", 1)});
  }
  conv8Filters_ = loadFilters(weights, "conv8/filters");
  conv8Bias_ = load(weights, "conv8/bias", 1);
}

at::Tensor TinyFaceDetectorNet::forward(const at::Tensor& rgb255) const {
  requireInput(rgb255, 0, "TinyFaceDetectorNet");
  at::Tensor out = normalise(rgb255, 117.001, 114.697, 97.404);
  out = at::leaky_relu(at::conv2d(out, conv0Filters_, conv0Bias_), 0.1);
  for (std::size_t i = 0; i < separable_.size(); ++i) {
    out = maxPoolSame(out, 2);
    const Separable& p = separable_[i];
    out = at::leaky_relu(separableConv(padSame(out, 3, 1), p.depthwise, p.pointwise, p.bias, 1), 0.1);
  }
  out = maxPoolSame(out, 1);
  return at::conv2d(out, conv8Filters_, conv8Bias_);
}

// FaceLandmarkNet ------------------------------------------------------------

FaceLandmarkNet::FaceLandmarkNet(TfjsWeightStore& weights) {
  for (int b = 0; b < 4; ++b) {
    const std::string prefix = "dense" + std::to_string(b) + "/conv";
    DenseBlock block;
    int first = 0;
    if (b == 0) {
      block.conv0Filters = loadFilters(weights, prefix + "0/filters");
      block.conv0Bias = load(weights, prefix + "0/bias", 1);
      first = 1;
    }
    for (int c = first; c < 4; ++c) {
      const std::string name = prefix + std::to_string(c);
      block.convs.push_back({loadDepthwise(weights, name + "/depthwise_filter"),
                             loadFilters(weights, name + "/pointwise_filter"),
                             load(weights, name + "/bias", 1)});
    }
    blocks_.push_back(std::move(block));
  }
  fcWeights_ = load(weights, "fc/weights", 2);
  fcBias_ = load(weights, "fc/bias", 1);
}

at::Tensor FaceLandmarkNet::forward(const at::Tensor& rgb255) const {
  requireInput(rgb255, kInputSize, "FaceLandmarkNet");
  auto separable = [](const at::Tensor& x, const Separable& p, std::int64_t stride) {
    return separableConv(padSame(x, 3, stride), p.depthwise, p.pointwise, p.bias, stride);
  };
  at::Tensor out = normalise(rgb255, 122.782, 117.001, 104.298);
  for (std::size_t b = 0; b < blocks_.size(); ++b) {
    const DenseBlock& block = blocks_[b];
    // Dense block: each conv sees the sum of all earlier outputs.
    const at::Tensor out1 =
        at::relu(b == 0 ? at::conv2d(padSame(out, 3, 2), block.conv0Filters, block.conv0Bias, {2, 2})
                        : separable(out, block.convs[0], 2));
    const std::size_t rest = b == 0 ? 0 : 1;
    const at::Tensor out2 = separable(out1, block.convs[rest], 1);
    const at::Tensor out3 = separable(at::relu(out1 + out2), block.convs[rest + 1], 1);
    const at::Tensor out4 = separable(at::relu(out1 + out2 + out3), block.convs[rest + 2], 1);
    out = at::relu(out1 + out2 + out3 + out4);
  }
  out = at::avg_pool2d(out, {7, 7}, {2, 2});
  return at::matmul(out.flatten(1), fcWeights_) + fcBias_;
}

}  // namespace impasto
