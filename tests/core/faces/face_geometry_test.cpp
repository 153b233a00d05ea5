#include "core/faces/face_geometry.h"

#include <gtest/gtest.h>

#include <cmath>

namespace impasto {
namespace {

TEST(FaceGeometryTest, IntersectionOverUnion) {
  EXPECT_DOUBLE_EQ(intersectionOverUnion({0, 0, 10, 10}, {0, 0, 10, 10}), 1.0);
  EXPECT_DOUBLE_EQ(intersectionOverUnion({0, 0, 10, 10}, {5, 0, 10, 10}), 50.0 / 150.0);
  EXPECT_DOUBLE_EQ(intersectionOverUnion({0, 0, 10, 10}, {20, 20, 5, 5}), 0.0);
  EXPECT_DOUBLE_EQ(intersectionOverUnion({0, 0, 0, 0}, {0, 0, 0, 0}), 0.0);
}

TEST(NonMaxSuppressionTest, KeepsTheBestOfEachOverlappingClusterBestFirst) {
  const std::vector<FaceRect> boxes = {
      {0, 0, 10, 10},      // 0: cluster A, second best
      {1, 1, 10, 10},      // 1: cluster A, best (IoU with 0 is 81/119 > 0.4)
      {100, 100, 20, 20},  // 2: alone
      {5, 0, 10, 10},      // 3: IoU 54/146 with box 1: below 0.4, kept
  };
  const std::vector<double> scores = {0.8, 0.9, 0.6, 0.7};
  EXPECT_EQ(nonMaxSuppression(boxes, scores, 0.4), (std::vector<std::size_t>{1, 3, 2}));
  // A lower threshold suppresses box 3 as well.
  EXPECT_EQ(nonMaxSuppression(boxes, scores, 0.2), (std::vector<std::size_t>{1, 2}));
  EXPECT_TRUE(nonMaxSuppression({}, {}, 0.4).empty());
}

TEST(NonMaxSuppressionTest, ASuppressedBoxDoesNotSuppressOthers) {
  // 1 suppresses 0 (IoU 60/140); 0 would have suppressed 2 (70/130), but 2
  // overlaps 1 by only 30/170.
  const std::vector<FaceRect> boxes = {{4, 0, 10, 10}, {0, 0, 10, 10}, {7, 0, 10, 10}};
  const std::vector<double> scores = {0.8, 0.9, 0.7};
  EXPECT_EQ(nonMaxSuppression(boxes, scores, 0.4), (std::vector<std::size_t>{1, 2}));
}

// A grid of all "nothing here" logits with one anchor of one cell set.
std::vector<float> emptyGrid(int cells) { return std::vector<float>(25 * cells * cells, -20.0f); }
void setCell(std::vector<float>& grid, int cells, int anchor, int row, int col,
             const std::array<float, 5>& v) {
  for (int k = 0; k < 5; ++k) grid[(anchor * 5 + k) * cells * cells + row * cells + col] = v[k];
}

TEST(TinyFaceDecodingTest, DecodesCellOffsetsAnchorsAndScoresIntoImagePixels) {
  const int cells = 13;
  std::vector<float> grid = emptyGrid(cells);
  // Anchor 1 (6.041143 x 7.080126 cells) centred in cell (row 4, col 6), score logit 2.
  setCell(grid, cells, 1, 4, 6, {0, 0, 0, 0, 2});
  // A square image of 416: one grid cell is 32 px.
  const auto found = decodeTinyFaceDetections(grid.data(), cells, 416, 416, 416, 0.5);
  ASSERT_EQ(found.size(), 1u);
  EXPECT_NEAR(found[0].score, 1 / (1 + std::exp(-2.0)), 1e-9);
  const double w = 6.041143 * 32, h = 7.080126 * 32;
  EXPECT_NEAR(found[0].box.x, 6.5 * 32 - w / 2, 1e-6);
  EXPECT_NEAR(found[0].box.y, 4.5 * 32 - h / 2, 1e-6);
  EXPECT_NEAR(found[0].box.width, w, 1e-6);
  EXPECT_NEAR(found[0].box.height, h, 1e-6);
}

TEST(TinyFaceDecodingTest, AWideImageFillsTheTopOfTheSquareInput) {
  const int cells = 13;
  std::vector<float> grid = emptyGrid(cells);
  setCell(grid, cells, 0, 2, 3, {0, 0, std::log(2.0f), 0, 3});
  // 832 x 416: the detector saw it at 416 x 208, the bottom half padding.
  const auto found = decodeTinyFaceDetections(grid.data(), cells, 416, 832, 416, 0.5);
  ASSERT_EQ(found.size(), 1u);
  // One cell is 32 input pixels = 64 image pixels either way.
  EXPECT_NEAR(found[0].box.x + found[0].box.width / 2, 3.5 * 64, 1e-6);
  EXPECT_NEAR(found[0].box.y + found[0].box.height / 2, 2.5 * 64, 1e-6);
  EXPECT_NEAR(found[0].box.width, 2 * 1.603231 * 64, 1e-6);
}

TEST(TinyFaceDecodingTest, ScoresAtOrBelowTheMinimumAndOverlapsAreDropped) {
  const int cells = 13;
  std::vector<float> grid = emptyGrid(cells);
  setCell(grid, cells, 2, 5, 5, {0, 0, 0, 0, 1.0f});  // 0.73
  setCell(grid, cells, 3, 5, 5, {0, 0, 0, 0, 2.0f});  // 0.88, nearly the same box: wins
  setCell(grid, cells, 0, 0, 0, {0, 0, 0, 0, 0.0f});  // 0.5: not above 0.5
  const auto found = decodeTinyFaceDetections(grid.data(), cells, 416, 416, 416, 0.5);
  ASSERT_EQ(found.size(), 1u);
  EXPECT_NEAR(found[0].box.width, 4.266906 * 32, 1e-6);
}

TEST(FaceAlignmentTest, DlibBoxIsEyeToMouthOver045PlacedAtTheReferencePoint) {
  std::vector<FacePoint> landmarks(68, FacePoint{0, 0});
  for (int i = 36; i < 42; ++i) landmarks[i] = {100, 100};  // left eye
  for (int i = 42; i < 48; ++i) landmarks[i] = {160, 100};  // right eye
  for (int i = 48; i < 68; ++i) landmarks[i] = {130, 140};  // mouth
  // Each eye is 50 px from the mouth: side floor(50 / 0.45) = 111.
  const FaceRect box = dlibAlignedBox(landmarks, 1000, 1000);
  EXPECT_DOUBLE_EQ(box.width, 111);
  EXPECT_DOUBLE_EQ(box.height, 111);
  const double refY = (100 + 100 + 140) / 3.0;
  EXPECT_DOUBLE_EQ(box.x, std::floor(130 - 0.5 * 111));
  EXPECT_DOUBLE_EQ(box.y, std::floor(refY - 0.43 * 111));
  // Near the image's edge the box is clipped.
  const FaceRect clipped = dlibAlignedBox(landmarks, 150, 120);
  EXPECT_DOUBLE_EQ(clipped.right(), 150);
  EXPECT_DOUBLE_EQ(clipped.bottom(), 120);
}

TEST(FaceAlignmentTest, ClipToImageFloorsAndCuts) {
  const FaceRect r = clipToImage({-3.5, 2.7, 20.9, 200}, 50, 60);
  EXPECT_DOUBLE_EQ(r.x, 0);
  EXPECT_DOUBLE_EQ(r.y, 2);
  EXPECT_DOUBLE_EQ(r.width, 17);
  EXPECT_DOUBLE_EQ(r.height, 57);
}

TEST(FaceCutTest, MovesTheCentreByTheSideAndScalesAboutIt) {
  const FaceRect region{100, 50, 80, 60};
  const FaceRect same = applyCut(region, {}, 400, 300);
  EXPECT_DOUBLE_EQ(same.x, 100);
  EXPECT_DOUBLE_EQ(same.y, 50);
  EXPECT_DOUBLE_EQ(same.width, 80);
  EXPECT_DOUBLE_EQ(same.height, 60);
  // Shifts are fractions of the longer side (80 px): 0.1 -> 8 px.
  const FaceRect moved = applyCut(region, {0.1, -0.1, 1}, 400, 300);
  EXPECT_DOUBLE_EQ(moved.x, 108);
  EXPECT_DOUBLE_EQ(moved.y, 42);
  EXPECT_DOUBLE_EQ(moved.width, 80);
  // Scaled about the centre (140, 80).
  const FaceRect larger = applyCut(region, {0, 0, 1.5}, 400, 300);
  EXPECT_DOUBLE_EQ(larger.x, 80);
  EXPECT_DOUBLE_EQ(larger.y, 35);
  EXPECT_DOUBLE_EQ(larger.width, 120);
  EXPECT_DOUBLE_EQ(larger.height, 90);
  // Clipped to the image.
  const FaceRect clipped = applyCut(region, {-1.5, 0, 1}, 400, 300);
  EXPECT_DOUBLE_EQ(clipped.x, 0);
  EXPECT_DOUBLE_EQ(clipped.width, 60);
}

// The guard's d is evidence only if the term could not optimise it directly:
// apart from the aligned cut itself, the two sets share no cut.
TEST(FaceCutTest, TheGuardChecksCutsTheIdentityTermNeverSees) {
  const auto same = [](const FaceCut& a, const FaceCut& b) {
    return a.dx == b.dx && a.dy == b.dy && a.scale == b.scale;
  };
  const FaceCut aligned{};
  int shared = 0;
  for (const FaceCut& check : portraitGuardCuts())
    for (const FaceCut& kept : identityTermCuts()) shared += same(check, kept) ? 1 : 0;
  EXPECT_EQ(shared, 1);
  EXPECT_TRUE(same(portraitGuardCuts().front(), aligned));
  EXPECT_TRUE(same(identityTermCuts().front(), aligned));
  EXPECT_GE(portraitGuardCuts().size(), 5u);
  EXPECT_GE(identityTermCuts().size(), 5u);
}

}  // namespace
}  // namespace impasto
