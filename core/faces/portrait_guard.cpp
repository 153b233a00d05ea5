#include "core/faces/portrait_guard.h"

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
}  // namespace

std::vector<FaceIdentity> PortraitGuard::measure(const cv::Mat& generated) const {
  const std::vector<FaceRect> regions = alignedRegionsAt(faces_, content_.size(), generated.size());
  if (cachedSize_ != generated.size()) {
    cv::Mat scaled = content_;
    if (content_.size() != generated.size())
      cv::resize(content_, scaled, generated.size(), 0, 0,
                 generated.total() < content_.total() ? cv::INTER_AREA : cv::INTER_CUBIC);
    cachedDescriptors_.clear();
    for (const FaceRect& r : regions)
      cachedDescriptors_.push_back(r.width < 1 || r.height < 1 ? std::vector<float>()
                                                               : models_.describe(cropOf(scaled, r)));
    cachedSize_ = generated.size();
  }
  std::vector<FaceIdentity> result;
  for (std::size_t i = 0; i < regions.size(); ++i) {
    FaceIdentity identity;
    identity.box = regions[i];
    if (cachedDescriptors_[i].empty()) {
      identity.distance = std::numeric_limits<double>::infinity();
      identity.samePerson = false;
    } else {
      identity.distance =
          descriptorDistance(cachedDescriptors_[i], models_.describe(cropOf(generated, regions[i])));
      identity.samePerson = identity.distance < threshold_;
    }
    result.push_back(identity);
  }
  return result;
}

}  // namespace impasto
