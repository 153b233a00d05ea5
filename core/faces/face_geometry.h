#pragma once

#include <array>
#include <cstddef>
#include <vector>

namespace impasto {

// Torch-free geometry of the face pipeline: boxes, the Tiny Face Detector's
// box decoding, non-maximum suppression and landmark alignment, as the
// reference (face-api.js) does them.

struct FaceRect {
  double x = 0;
  double y = 0;
  double width = 0;
  double height = 0;
  double right() const { return x + width; }
  double bottom() const { return y + height; }
  double area() const { return width * height; }
};

using FacePoint = std::array<double, 2>;  // x, y in image pixels

struct FaceDetection {
  FaceRect box;  // image pixels
  double score = 0;
};

// Intersection over union; 0 when either box is empty.
double intersectionOverUnion(const FaceRect& a, const FaceRect& b);

// Greedy non-maximum suppression: repeatedly keeps the highest-scoring box
// and drops the others that overlap it by more than iouThreshold. Returns the
// kept indices, best first.
std::vector<std::size_t> nonMaxSuppression(const std::vector<FaceRect>& boxes,
                                           const std::vector<double>& scores, double iouThreshold);

// The Tiny Face Detector's output grid (channels-first: 5 anchors × (x, y, w,
// h, score) by cells × cells) decoded into boxes in image pixels, scores
// above minScore, then non-maximum suppression at IoU 0.4. The network saw
// the image scaled so its longer side is inputSize and padded at the bottom
// or right to a square.
std::vector<FaceDetection> decodeTinyFaceDetections(const float* grid, int cells, int inputSize,
                                                    int imageWidth, int imageHeight, double minScore);

// The 68-landmark convention's reference points: the centres of the left eye
// (points 36-41), the right eye (42-47) and the mouth (48-67).
std::array<FacePoint, 3> alignmentPoints(const std::vector<FacePoint>& landmarks);

// The square face region the recognition net is trained on (dlib's alignment
// as face-api.js does it): its side is the mean eye-to-mouth distance / 0.45,
// placed so the centre of the three reference points sits at (0.5, 0.43) of
// it; clipped to the image, in whole pixels.
FaceRect dlibAlignedBox(const std::vector<FacePoint>& landmarks, int imageWidth, int imageHeight);

// A box cut to the image and to whole pixels (floored), as face crops are taken.
FaceRect clipToImage(const FaceRect& box, int imageWidth, int imageHeight);

// A face cut a little differently from its aligned region: the centre moved by
// (dx, dy) times the region's side, the sides scaled by `scale`.
struct FaceCut {
  double dx = 0;
  double dy = 0;
  double scale = 1;
};

// The region cut as `cut` says, clipped to the image (whole pixels).
FaceRect applyCut(const FaceRect& region, const FaceCut& cut, int imageWidth, int imageHeight);

// The region cut each way of `cuts`, leaving out cuts with a side below
// minSide pixels (none for an empty region).
std::vector<FaceRect> cutsOf(const FaceRect& region, const std::vector<FaceCut>& cuts, int imageWidth,
                             int imageHeight, double minSide);

// The cuts through which the identity term encodes a face: the aligned one,
// four shifted diagonally by 4% and two 6% smaller and larger. A G that keeps
// one exact crop close in the network's eyes can do it with a pattern that
// means nothing to a person (an adversarial example); one pattern that works
// through seven cuts has to be more like the face itself.
const std::vector<FaceCut>& identityTermCuts();

// The cuts the portrait guard checks: the aligned one, four shifted along the
// axes by 6% and two 12% smaller and larger; all but the aligned one unseen by
// the identity term, so its d is evidence the term cannot have trained away.
const std::vector<FaceCut>& portraitGuardCuts();

}  // namespace impasto
