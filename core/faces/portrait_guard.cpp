#include "core/faces/portrait_guard.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <opencv2/imgproc.hpp>

namespace impasto {

PortraitGuard::PortraitGuard(const FaceModels& models, const cv::Mat& content, double threshold)
    : models_(models), content_(content.clone()), threshold_(threshold), faces_(models.analyze(content)) {}

std::vector<FaceRect> alignedRegionsAt(const std::vector<FaceAnalysis>& faces, cv::Size from, cv::Size to) {
  const double sx = double(to.width) / from.width;
  const double sy = double(to.height) / from.height;
  std::vector<FaceRect> regions;
  for (const FaceAnalysis& face : faces) {
    const FaceRect& a = face.aligned;
    regions.push_back(clipToImage(
        {std::round(a.x * sx), std::round(a.y * sy), std::round(a.width * sx), std::round(a.height * sy)},
        to.width, to.height));
  }
  return regions;
}

namespace {

cv::Mat cropOf(const cv::Mat& image, const FaceRect& r) {
  return image(cv::Rect(int(r.x), int(r.y), int(r.width), int(r.height))).clone();
}

// The guard's cuts of each region, those large enough to encode.
std::vector<std::vector<FaceRect>> guardCuts(const std::vector<FaceRect>& regions, cv::Size size) {
  std::vector<std::vector<FaceRect>> cuts;
  for (const FaceRect& region : regions)
    cuts.push_back(cutsOf(region, portraitGuardCuts(), size.width, size.height, 8.0));
  return cuts;
}

}  // namespace

std::vector<FaceIdentity> PortraitGuard::measure(const cv::Mat& generated) const {
  const std::vector<FaceRect> regions = alignedRegionsAt(faces_, content_.size(), generated.size());
  const std::vector<std::vector<FaceRect>> cuts = guardCuts(regions, generated.size());
  if (cachedSize_ != generated.size()) {
    cv::Mat scaled = content_;
    if (content_.size() != generated.size())
      cv::resize(content_, scaled, generated.size(), 0, 0,
                 generated.total() < content_.total() ? cv::INTER_AREA : cv::INTER_CUBIC);
    cachedDescriptors_.clear();
    for (const std::vector<FaceRect>& faceCuts : cuts) {
      std::vector<std::vector<float>> perCut;
      for (const FaceRect& cut : faceCuts) perCut.push_back(models_.describe(cropOf(scaled, cut)));
      cachedDescriptors_.push_back(std::move(perCut));
    }
    cachedSize_ = generated.size();
  }
  std::vector<FaceIdentity> result;
  for (std::size_t i = 0; i < regions.size(); ++i) {
    FaceIdentity identity;
    identity.box = regions[i];
    if (cuts[i].empty()) {
      identity.distance = std::numeric_limits<double>::infinity();
    } else {
      identity.distance = 0;
      for (std::size_t k = 0; k < cuts[i].size(); ++k)
        identity.distance = std::max(
            identity.distance,
            descriptorDistance(cachedDescriptors_[i][k], models_.describe(cropOf(generated, cuts[i][k]))));
    }
    identity.samePerson = identity.distance < threshold_;
    result.push_back(identity);
  }
  return result;
}

}  // namespace impasto
