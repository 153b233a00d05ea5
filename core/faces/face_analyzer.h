#pragma once

#include <filesystem>
#include <memory>
#include <opencv2/core.hpp>
#include <vector>

#include "core/faces/face_geometry.h"

namespace impasto {

// Face verification's default threshold τ: two descriptors closer than this
// are the same person (dlib's and face-api.js's training target).
constexpr double kSamePersonThreshold = 0.6;

// One face found in an image: the detector's box and score, the 68 landmarks,
// the aligned box they give and the 128-d descriptor of that aligned crop.
struct FaceAnalysis {
  FaceRect box;
  double score = 0;
  std::vector<FacePoint> landmarks;
  FaceRect aligned;
  std::vector<float> descriptor;
};

// ‖a − b‖, the verification distance d.
double descriptorDistance(const std::vector<float>& a, const std::vector<float>& b);

// The face pipeline of face-api.js (Tiny Face Detector, 68 landmarks,
// FaceRecognitionNet) on images as loadImage gives them (CV_32FC3 RGB 0-1).
// A plain class without torch in its interface, for the CLI and the studio.
// The networks' weights are frozen tensors (no grad) that the forwards only
// read, so threads may share one FaceModels: the studio's render (the
// identity term) and its badge's measures do.
class FaceModels {
 public:
  // Reads the three networks from a folder laid out like face-api's weights
  // (see faceModelManifests()). Throws Error(Model) when one is missing or damaged.
  explicit FaceModels(const std::filesystem::path& dir);
  ~FaceModels();
  FaceModels(const FaceModels&) = delete;
  FaceModels& operator=(const FaceModels&) = delete;

  // Faces with their boxes in image pixels, best score first. inputSize: the
  // detector's square input (a multiple of 32; 416 by default).
  std::vector<FaceDetection> detect(const cv::Mat& rgb, int inputSize = 416, double minScore = 0.5) const;
  // The 68 landmarks (image pixels) of the face in box.
  std::vector<FacePoint> landmarks(const cv::Mat& rgb, const FaceRect& box) const;
  // The descriptor of the whole image taken as a face crop (padded to a
  // square, scaled to 150x150).
  std::vector<float> describe(const cv::Mat& faceRgb) const;
  // detect, then landmarks and the aligned descriptor of each face; faces
  // whose aligned box is empty are left out.
  std::vector<FaceAnalysis> analyze(const cv::Mat& rgb, int inputSize = 416, double minScore = 0.5) const;

  // The networks, for the identity term (core/faces/identity_term.h).
  struct Networks;
  const Networks& networks() const { return *networks_; }

 private:
  std::unique_ptr<Networks> networks_;
};

}  // namespace impasto
