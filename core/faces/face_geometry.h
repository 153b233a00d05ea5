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

}  // namespace impasto
