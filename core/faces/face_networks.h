#pragma once

#include <filesystem>

#include "core/engine/aten.h"
#include "core/faces/face_analyzer.h"

namespace impasto {

class TfjsWeightStore;

// An image [1, 3, H, W] (values 0-255) as a network's square input: padded
// with zeros to a square (centred, or at the bottom/right), then resized
// bilinearly to size x size. Differentiable.
at::Tensor squareNetworkInput(const at::Tensor& rgb255, int size, bool centre);

// The three face-api.js networks in ATen, from their TensorFlow.js weight
// manifests (architecture and preprocessing as the reference's TypeScript
// source has them). Inputs are NCHW float RGB with values 0-255, already
// square and of the network's size; each forward is differentiable with
// respect to its input (the identity term back-propagates through the
// recognition net). Weights are frozen. Include only where torch is wanted.

// FaceRecognitionNet: a ResNet-34-like network ported from dlib. [N, 3, 150,
// 150] -> [N, 128] descriptors; one person's faces lie closer than 0.6.
class FaceRecognitionNet {
 public:
  static constexpr int kInputSize = 150;
  explicit FaceRecognitionNet(TfjsWeightStore& weights);
  at::Tensor forward(const at::Tensor& rgb255) const;

 private:
  struct ConvScale {
    at::Tensor filters, bias, scale, shift;  // conv, then per-channel scale and shift
  };
  struct Residual {
    ConvScale conv1, conv2;
  };
  static ConvScale readConv(TfjsWeightStore& weights, const std::string& prefix);
  static Residual readResidual(TfjsWeightStore& weights, const std::string& prefix);
  static at::Tensor convLayer(const at::Tensor& x, const ConvScale& p, int stride, bool samePadding,
                              bool relu);
  static at::Tensor residual(const at::Tensor& x, const Residual& p);
  static at::Tensor residualDown(const at::Tensor& x, const Residual& p);

  ConvScale down_;
  std::vector<Residual> blocks_;  // conv32_1 ... conv256_down_out
  std::vector<bool> isDown_;
  at::Tensor fc_;  // [256, 128]
};

// The Tiny Face Detector (Tiny-YOLOv2 with depthwise separable convs).
// [1, 3, S, S] (S a multiple of 32) -> [1, 25, S/32, S/32]: for each of 5
// anchors, x, y, w, h and the score logit (decodeTinyFaceDetections).
class TinyFaceDetectorNet {
 public:
  explicit TinyFaceDetectorNet(TfjsWeightStore& weights);
  at::Tensor forward(const at::Tensor& rgb255) const;

 private:
  struct Separable {
    at::Tensor depthwise, pointwise, bias;
  };
  at::Tensor conv0Filters_, conv0Bias_;
  std::vector<Separable> separable_;  // conv1 ... conv5
  at::Tensor conv8Filters_, conv8Bias_;
};

// FaceLandmark68Net: [N, 3, 112, 112] -> [N, 136], (x, y) pairs of the 68
// points relative to the square input (0-1).
class FaceLandmarkNet {
 public:
  static constexpr int kInputSize = 112;
  explicit FaceLandmarkNet(TfjsWeightStore& weights);
  at::Tensor forward(const at::Tensor& rgb255) const;

 private:
  struct Separable {
    at::Tensor depthwise, pointwise, bias;
  };
  struct DenseBlock {
    at::Tensor conv0Filters, conv0Bias;  // the first block's plain conv
    std::vector<Separable> convs;        // the first block: conv1-3; the others: conv0-3
  };
  std::vector<DenseBlock> blocks_;
  at::Tensor fcWeights_, fcBias_;
};

struct FaceModels::Networks {
  TinyFaceDetectorNet detector;
  FaceLandmarkNet landmarks;
  FaceRecognitionNet recognition;
};

}  // namespace impasto
