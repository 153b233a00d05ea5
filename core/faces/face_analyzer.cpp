#include "core/faces/face_analyzer.h"

#include <ATen/ops/slice.h>

#include <cmath>

#include "core/engine/tensor_convert.h"
#include "core/faces/face_networks.h"
#include "core/models/tfjs_weights.h"
#include "core/util/error.h"

namespace impasto {
namespace {

at::Tensor imageTensor255(const cv::Mat& rgb) {
  if (rgb.empty() || rgb.type() != CV_32FC3)
    throw Error(ErrorKind::Internal, "The face networks expect a CV_32FC3 RGB image");
  return imageToTensor(rgb) * 255.0;
}

at::Tensor crop(const at::Tensor& image, const FaceRect& r) {
  const auto x = static_cast<std::int64_t>(r.x);
  const auto y = static_cast<std::int64_t>(r.y);
  return image.slice(2, y, y + static_cast<std::int64_t>(r.height))
      .slice(3, x, x + static_cast<std::int64_t>(r.width));
}

TfjsWeightStore openManifest(const std::filesystem::path& dir, const std::string& model) {
  const std::filesystem::path manifest = dir / (model + "-weights_manifest.json");
  if (!std::filesystem::is_regular_file(manifest))
    throw Error(ErrorKind::Model,
                "The face model file '" + manifest.string() +
                    "' is missing. Install the face models with 'impasto-cli models download "
                    "face-api', or point IMPASTO_FACE_MODELS at a folder that holds them.");
  return TfjsWeightStore::fromManifestFile(manifest);
}

template <typename Net>
Net loadNet(const std::filesystem::path& dir, const std::string& model) {
  TfjsWeightStore weights = openManifest(dir, model);
  return wrapErrors(ErrorKind::Model, "Cannot build the face network '" + model + "'",
                    [&] { return Net(weights); });
}

// The landmarks of the face in box: the net sees the box cut to the image in
// whole pixels, padded to a centred square; its output, relative to that
// square, is mapped back to image pixels.
std::vector<FacePoint> runLandmarks(const FaceLandmarkNet& net, const at::Tensor& image,
                                    const FaceRect& box) {
  const FaceRect region = clipToImage(box, static_cast<int>(image.size(3)), static_cast<int>(image.size(2)));
  if (region.width < 1 || region.height < 1) return {};
  const at::Tensor out =
      net.forward(squareNetworkInput(crop(image, region), FaceLandmarkNet::kInputSize, true));
  const std::vector<float> values = floatValues(out);
  const double side = std::max(region.width, region.height);
  const double left = region.x - (side - region.width) / 2;
  const double top = region.y - (side - region.height) / 2;
  std::vector<FacePoint> points;
  for (std::size_t i = 0; i + 1 < values.size(); i += 2)
    points.push_back({left + values[i] * side, top + values[i + 1] * side});
  return points;
}

}  // namespace

FaceModels::FaceModels(const std::filesystem::path& dir)
    : networks_(
          std::make_unique<Networks>(Networks{loadNet<TinyFaceDetectorNet>(dir, "tiny_face_detector_model"),
                                              loadNet<FaceLandmarkNet>(dir, "face_landmark_68_model"),
                                              loadNet<FaceRecognitionNet>(dir, "face_recognition_model")})) {}

FaceModels::~FaceModels() = default;

std::vector<FaceDetection> FaceModels::detect(const cv::Mat& rgb, int inputSize, double minScore) const {
  if (inputSize < 32 || inputSize % 32 != 0)
    throw Error(ErrorKind::Usage, "The face detector's input size must be a multiple of 32, not " +
                                      std::to_string(inputSize) + ".");
  at::NoGradGuard noGrad;
  const at::Tensor input = squareNetworkInput(imageTensor255(rgb), inputSize, false);
  const at::Tensor grid = networks_->detector.forward(input).contiguous();
  const std::vector<float> values = floatValues(grid);
  return decodeTinyFaceDetections(values.data(), static_cast<int>(grid.size(2)), inputSize, rgb.cols,
                                  rgb.rows, minScore);
}

std::vector<FacePoint> FaceModels::landmarks(const cv::Mat& rgb, const FaceRect& box) const {
  at::NoGradGuard noGrad;
  return runLandmarks(networks_->landmarks, imageTensor255(rgb), box);
}

std::vector<float> FaceModels::describe(const cv::Mat& faceRgb) const {
  at::NoGradGuard noGrad;
  const at::Tensor input = squareNetworkInput(imageTensor255(faceRgb), FaceRecognitionNet::kInputSize, true);
  return floatValues(networks_->recognition.forward(input));
}

std::vector<FaceAnalysis> FaceModels::analyze(const cv::Mat& rgb, int inputSize, double minScore) const {
  std::vector<FaceAnalysis> faces;
  const std::vector<FaceDetection> detections = detect(rgb, inputSize, minScore);
  if (detections.empty()) return faces;
  at::NoGradGuard noGrad;
  const at::Tensor image = imageTensor255(rgb);
  for (const FaceDetection& detection : detections) {
    FaceAnalysis face;
    face.box = detection.box;
    face.score = detection.score;
    face.landmarks = runLandmarks(networks_->landmarks, image, detection.box);
    if (face.landmarks.size() != 68) continue;
    face.aligned = dlibAlignedBox(face.landmarks, rgb.cols, rgb.rows);
    if (face.aligned.width < 1 || face.aligned.height < 1) continue;
    const at::Tensor input =
        squareNetworkInput(crop(image, face.aligned), FaceRecognitionNet::kInputSize, true);
    face.descriptor = floatValues(networks_->recognition.forward(input));
    faces.push_back(std::move(face));
  }
  return faces;
}

double descriptorDistance(const std::vector<float>& a, const std::vector<float>& b) {
  if (a.size() != b.size()) throw Error(ErrorKind::Internal, "Face descriptors of different lengths");
  double sum = 0;
  for (std::size_t i = 0; i < a.size(); ++i) sum += (double(a[i]) - b[i]) * (double(a[i]) - b[i]);
  return std::sqrt(sum);
}

}  // namespace impasto
