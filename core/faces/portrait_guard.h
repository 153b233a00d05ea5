#pragma once

#include <opencv2/core.hpp>
#include <vector>

#include "core/faces/face_analyzer.h"

namespace impasto {

// Whether one face of the content is still the same person in G.
struct FaceIdentity {
  FaceRect box;  // the aligned face region, in G's pixels
  // d(C, G) = ‖f(face in C) − f(same region of G)‖, the largest over the
  // cuts of portraitGuardCuts() (C and G cut alike): "same person" only where
  // every cut agrees, and never on the identity term's own cuts alone.
  double distance = 0;
  bool samePerson = true;  // distance < threshold
};

// The aligned regions of faces found in an image of size `from`, scaled to an
// image of size `to`, in whole pixels, clipped to it (empty where a face falls
// outside). What the guard compares and the identity term keeps, at G's size.
std::vector<FaceRect> alignedRegionsAt(const std::vector<FaceAnalysis>& faces, cv::Size from, cv::Size to);

// The portrait guard's measure: finds the faces of the content image once,
// then compares each with the same region of any G (a preview frame or the
// final image, of any size: regions are scaled to it). The content's side of
// the comparison is taken at G's size, so d measures what the style did to
// the face, not the loss of resolution. Torch-free interface,
// for the CLI and the studio; not safe to call from two threads at once.
class PortraitGuard {
 public:
  PortraitGuard(const FaceModels& models, const cv::Mat& content, double threshold = kSamePersonThreshold);

  bool hasFaces() const { return !faces_.empty(); }
  double threshold() const { return threshold_; }
  cv::Size contentSize() const { return content_.size(); }
  // The content's faces (aligned regions and descriptors, content pixels).
  const std::vector<FaceAnalysis>& faces() const { return faces_; }
  // One entry per content face, in the order of faces(). generated: CV_32FC3 RGB [0, 1].
  std::vector<FaceIdentity> measure(const cv::Mat& generated) const;

 private:
  const FaceModels& models_;
  cv::Mat content_;
  double threshold_;
  std::vector<FaceAnalysis> faces_;
  mutable cv::Size cachedSize_;  // the content descriptors at the last G's size
  mutable std::vector<std::vector<std::vector<float>>> cachedDescriptors_;  // per face, per cut
};

}  // namespace impasto
