#include "core/faces/face_geometry.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace impasto {
namespace {

// The Tiny Face Detector's anchor boxes, in grid cells (from its training).
constexpr std::array<std::array<double, 2>, 5> kAnchors{{{1.603231, 2.094468},
                                                         {6.041143, 7.080126},
                                                         {2.882459, 3.518061},
                                                         {4.266906, 5.178857},
                                                         {9.041765, 10.66308}}};
constexpr double kDetectorIou = 0.4;

double sigmoid(double v) { return 1.0 / (1.0 + std::exp(-v)); }

FacePoint centre(const std::vector<FacePoint>& points, std::size_t first, std::size_t last) {
  FacePoint sum{0, 0};
  for (std::size_t i = first; i < last; ++i) {
    sum[0] += points[i][0];
    sum[1] += points[i][1];
  }
  const auto n = static_cast<double>(last - first);
  return {sum[0] / n, sum[1] / n};
}

double distance(const FacePoint& a, const FacePoint& b) { return std::hypot(a[0] - b[0], a[1] - b[1]); }

}  // namespace

double intersectionOverUnion(const FaceRect& a, const FaceRect& b) {
  const double w = std::max(0.0, std::min(a.right(), b.right()) - std::max(a.x, b.x));
  const double h = std::max(0.0, std::min(a.bottom(), b.bottom()) - std::max(a.y, b.y));
  const double inter = w * h;
  const double uni = a.area() + b.area() - inter;
  return uni > 0 ? inter / uni : 0.0;
}

std::vector<std::size_t> nonMaxSuppression(const std::vector<FaceRect>& boxes,
                                           const std::vector<double>& scores, double iouThreshold) {
  std::vector<std::size_t> order(boxes.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return scores[a] > scores[b]; });
  std::vector<std::size_t> kept;
  std::vector<bool> dropped(boxes.size(), false);
  for (std::size_t i = 0; i < order.size(); ++i) {
    if (dropped[order[i]]) continue;
    kept.push_back(order[i]);
    for (std::size_t j = i + 1; j < order.size(); ++j)
      if (!dropped[order[j]] && intersectionOverUnion(boxes[order[i]], boxes[order[j]]) > iouThreshold)
        dropped[order[j]] = true;
  }
  return kept;
}

std::vector<FaceDetection> decodeTinyFaceDetections(const float* grid, int cells, int inputSize,
                                                    int imageWidth, int imageHeight, double minScore) {
  // Box coordinates come relative to the square input; the image fills its
  // top-left part, whose size the reference rounds to whole pixels.
  const double scale = static_cast<double>(inputSize) / std::max(imageWidth, imageHeight);
  const double fillX = static_cast<double>(inputSize) / std::round(imageWidth * scale);
  const double fillY = static_cast<double>(inputSize) / std::round(imageHeight * scale);
  const auto plane = static_cast<std::size_t>(cells) * static_cast<std::size_t>(cells);
  auto at = [&](std::size_t channel, int row, int col) {
    return static_cast<double>(grid[channel * plane + static_cast<std::size_t>(row) * cells + col]);
  };

  std::vector<FaceRect> boxes;
  std::vector<double> scores;
  for (int row = 0; row < cells; ++row)
    for (int col = 0; col < cells; ++col)
      for (std::size_t anchor = 0; anchor < kAnchors.size(); ++anchor) {
        const std::size_t base = anchor * 5;
        const double score = sigmoid(at(base + 4, row, col));
        if (score <= minScore) continue;
        const double cx = (col + sigmoid(at(base, row, col))) / cells * fillX;
        const double cy = (row + sigmoid(at(base + 1, row, col))) / cells * fillY;
        const double w = std::exp(at(base + 2, row, col)) * kAnchors[anchor][0] / cells * fillX;
        const double h = std::exp(at(base + 3, row, col)) * kAnchors[anchor][1] / cells * fillY;
        boxes.push_back(
            {(cx - w / 2) * imageWidth, (cy - h / 2) * imageHeight, w * imageWidth, h * imageHeight});
        scores.push_back(score);
      }

  std::vector<FaceDetection> detections;
  for (std::size_t index : nonMaxSuppression(boxes, scores, kDetectorIou))
    detections.push_back({boxes[index], scores[index]});
  return detections;
}

std::array<FacePoint, 3> alignmentPoints(const std::vector<FacePoint>& landmarks) {
  return {centre(landmarks, 36, 42), centre(landmarks, 42, 48), centre(landmarks, 48, 68)};
}

FaceRect dlibAlignedBox(const std::vector<FacePoint>& landmarks, int imageWidth, int imageHeight) {
  const auto [leftEye, rightEye, mouth] = alignmentPoints(landmarks);
  const double eyeToMouth = (distance(mouth, leftEye) + distance(mouth, rightEye)) / 2;
  const double size = std::floor(eyeToMouth / 0.45);
  const double refX = (leftEye[0] + rightEye[0] + mouth[0]) / 3;
  const double refY = (leftEye[1] + rightEye[1] + mouth[1]) / 3;
  const double x = std::floor(std::max(0.0, refX - 0.5 * size));
  const double y = std::floor(std::max(0.0, refY - 0.43 * size));
  return clipToImage({x, y, size, size}, imageWidth, imageHeight);
}

FaceRect clipToImage(const FaceRect& box, int imageWidth, int imageHeight) {
  const double x = std::max(box.x, 0.0);
  const double y = std::max(box.y, 0.0);
  const double w = std::min(box.right() - x, imageWidth - x);
  const double h = std::min(box.bottom() - y, imageHeight - y);
  return {std::floor(x), std::floor(y), std::max(0.0, std::floor(w)), std::max(0.0, std::floor(h))};
}

FaceRect applyCut(const FaceRect& region, const FaceCut& cut, int imageWidth, int imageHeight) {
  const double side = std::max(region.width, region.height);
  const double cx = region.x + region.width / 2 + cut.dx * side;
  const double cy = region.y + region.height / 2 + cut.dy * side;
  const double w = region.width * cut.scale;
  const double h = region.height * cut.scale;
  return clipToImage({cx - w / 2, cy - h / 2, w, h}, imageWidth, imageHeight);
}

std::vector<FaceRect> cutsOf(const FaceRect& region, const std::vector<FaceCut>& cuts, int imageWidth,
                             int imageHeight, double minSide) {
  std::vector<FaceRect> result;
  if (region.width < 1 || region.height < 1) return result;
  for (const FaceCut& cut : cuts) {
    const FaceRect r = applyCut(region, cut, imageWidth, imageHeight);
    if (r.width >= minSide && r.height >= minSide) result.push_back(r);
  }
  return result;
}

const std::vector<FaceCut>& identityTermCuts() {
  static const std::vector<FaceCut> cuts = {{0, 0, 1},        {-0.04, -0.04, 1}, {0.04, -0.04, 1},
                                            {-0.04, 0.04, 1}, {0.04, 0.04, 1},   {0, 0, 0.94},
                                            {0, 0, 1.06}};
  return cuts;
}

const std::vector<FaceCut>& portraitGuardCuts() {
  static const std::vector<FaceCut> cuts = {{0, 0, 1},    {-0.06, 0, 1}, {0.06, 0, 1}, {0, -0.06, 1},
                                            {0, 0.06, 1}, {0, 0, 0.88},  {0, 0, 1.12}};
  return cuts;
}

}  // namespace impasto
