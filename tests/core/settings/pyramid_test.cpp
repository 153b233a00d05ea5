#include "core/settings/pyramid.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <numeric>

#include "core/util/error.h"

namespace impasto {
namespace {

std::vector<int> sizes(const std::vector<PyramidLevel>& levels) {
  std::vector<int> out;
  for (const auto& level : levels) out.push_back(level.size);
  return out;
}

RenderSettings settingsFor(int size, int scales = 0, int iterations = 100, int coarse = 40) {
  RenderSettings s;
  s.size = size;
  s.scales = scales;
  s.iterations = iterations;
  s.coarseIterations = coarse;
  return s;
}

TEST(PyramidTest, AutomaticLevelsGrowByRootTwoFrom256) {
  EXPECT_EQ(sizes(pyramidLevels(settingsFor(512))), (std::vector<int>{256, 362, 512}));
  EXPECT_EQ(sizes(pyramidLevels(settingsFor(1024))), (std::vector<int>{256, 362, 512, 724, 1024}));
  EXPECT_EQ(pyramidLevels(settingsFor(4096)).size(), 9u);
  EXPECT_EQ(pyramidLevels(settingsFor(4096)).front().size, 256);
  // Small renders need no pyramid.
  EXPECT_EQ(sizes(pyramidLevels(settingsFor(256))), (std::vector<int>{256}));
  EXPECT_EQ(sizes(pyramidLevels(settingsFor(64))), (std::vector<int>{64}));
}

TEST(PyramidTest, ExplicitScalesSetTheCountAndOneTurnsItOff) {
  EXPECT_EQ(sizes(pyramidLevels(settingsFor(1024, 1))), (std::vector<int>{1024}));
  EXPECT_EQ(sizes(pyramidLevels(settingsFor(1024, 2))), (std::vector<int>{724, 1024}));
  EXPECT_EQ(sizes(pyramidLevels(settingsFor(1024, 3))), (std::vector<int>{512, 724, 1024}));
}

TEST(PyramidTest, LevelsNeverGoBelowTheMinimumOrRepeatASize) {
  const auto levels = pyramidLevels(settingsFor(24, 6));
  for (std::size_t k = 0; k < levels.size(); ++k) {
    EXPECT_GE(levels[k].size, kMinSize);
    if (k > 0) {
      EXPECT_GT(levels[k].size, levels[k - 1].size);
    }
  }
  EXPECT_EQ(levels.back().size, 24);
}

TEST(PyramidTest, IterationsCountAtTheFinalSizeAndCoarseLevelsHaveTheirOwn) {
  const auto levels = pyramidLevels(settingsFor(1024, 0, 100, 40));
  EXPECT_EQ(levels.back().iterations, 100);
  for (std::size_t k = 0; k + 1 < levels.size(); ++k) EXPECT_EQ(levels[k].iterations, 40);
  // Nothing to do at the final size: nothing at the coarse ones either.
  EXPECT_EQ(sizes(pyramidLevels(settingsFor(1024, 0, 0, 40))), (std::vector<int>{1024}));
}

TEST(PyramidTest, WorkSharesFollowPixelsTimesSteps) {
  const auto levels = pyramidLevels(settingsFor(512, 0, 100, 100));
  const auto shares = levelWorkShares(levels);
  ASSERT_EQ(shares.size(), 3u);
  EXPECT_NEAR(std::accumulate(shares.begin(), shares.end(), 0.0), 1.0, 1e-12);
  // 256² : 362² : 512² is about 1 : 2 : 4.
  EXPECT_NEAR(shares[2] / shares[0], 4.0, 0.01);
  EXPECT_NEAR(shares[1] / shares[0], 2.0, 0.01);
}

TEST(PyramidTest, SettingsOutsideTheirRangesAreRefused) {
  RenderSettings s;
  s.scales = kMaxScales + 1;
  EXPECT_THROW(validateSettings(s), Error);
  s.scales = 0;
  s.styleScale = -1.0;
  EXPECT_THROW(validateSettings(s), Error);
  s.styleScale = std::nan("");
  EXPECT_THROW(validateSettings(s), Error);
  s.styleScale = 0.5;
  s.coarseIterations = -3;
  EXPECT_THROW(validateSettings(s), Error);
  s.coarseIterations = 10;
  EXPECT_NO_THROW(validateSettings(s));
}

}  // namespace
}  // namespace impasto
