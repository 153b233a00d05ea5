// Checkpoint files: a faithful round trip, and every kind of damage refused
// with a message before anything large is allocated.
#include "core/engine/checkpoint_file.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <opencv2/core.hpp>

#include "core/util/error.h"
#include "tests/support/test_support.h"

namespace impasto {
namespace {

using ::testing::HasSubstr;

Checkpoint sampleCheckpoint() {
  Checkpoint c;
  c.render = R"({"settings":{"size":64},"output":"out.png"})";
  RenderState& s = c.state;
  s.iteration = 17;
  s.level = 1;
  s.levelStep = 5;
  s.elapsedSeconds = 12.5;
  s.weights.alpha = 2.0;
  s.weights.beta = 3e4;
  s.weights.identity = 1500.0;
  s.weights.styleLayers = {{"relu1", 0.25}, {"relu2", 0.75}};
  s.generated.create(6, 8, CV_32FC3);
  cv::randu(s.generated, 0.0f, 1.0f);
  s.optimizer.arrays["lbfgs.s0"] = std::vector<float>(144, 0.125f);
  s.optimizer.arrays["lbfgs.y0"] = std::vector<float>(144, -3.5f);
  s.optimizer.numbers = {{"lbfgs.pairs", 1.0}, {"lbfgs.rho0", 0.001}, {"lbfgs.last_step", 0.5}};
  return c;
}

class CheckpointFileTest : public ::testing::Test {
 protected:
  std::filesystem::path file() const { return dir_.path() / "render.ckpt"; }
  std::string loadError() {
    return test::captureError([&] { loadCheckpoint(file()); }).what();
  }
  test::ScratchDir dir_{"checkpoint"};
};

TEST_F(CheckpointFileTest, RoundTripKeepsEveryField) {
  const Checkpoint original = sampleCheckpoint();
  saveCheckpoint(original, file());
  const Checkpoint back = loadCheckpoint(file());
  EXPECT_EQ(nlohmann::json::parse(back.render), nlohmann::json::parse(original.render));
  const RenderState &s = original.state, &t = back.state;
  EXPECT_EQ(t.iteration, s.iteration);
  EXPECT_EQ(t.level, s.level);
  EXPECT_EQ(t.levelStep, s.levelStep);
  EXPECT_EQ(t.elapsedSeconds, s.elapsedSeconds);
  EXPECT_TRUE(t.weights == s.weights);
  EXPECT_EQ(cv::norm(t.generated, s.generated, cv::NORM_INF), 0.0);
  EXPECT_EQ(t.optimizer.arrays, s.optimizer.arrays);
  EXPECT_EQ(t.optimizer.numbers, s.optimizer.numbers);
  // Nothing but the file itself is left in the folder.
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir_.path()), {}), 1);
}

TEST_F(CheckpointFileTest, AFlippedByteAnywhereIsDamage) {
  saveCheckpoint(sampleCheckpoint(), file());
  const std::string good = test::readAll(file());
  for (std::size_t at : {std::size_t(40), good.size() / 2, good.size() - 40, good.size() - 1}) {
    std::string bad = good;
    bad[at] = char(bad[at] ^ 0x10);
    test::writeAll(file(), bad);
    const Error e = test::captureError([&] { loadCheckpoint(file()); });
    EXPECT_EQ(e.kind(), ErrorKind::Input);
    EXPECT_THAT(e.what(), HasSubstr("damaged")) << "byte " << at;
  }
}

TEST_F(CheckpointFileTest, TruncatedForeignOrMissingFilesSayWhat) {
  saveCheckpoint(sampleCheckpoint(), file());
  const std::string good = test::readAll(file());
  test::writeAll(file(), good.substr(0, good.size() - 300));
  EXPECT_THAT(loadError(), HasSubstr("truncated"));
  test::writeAll(file(), "\x89PNG\r\n\x1a\n not a checkpoint at all, just some bytes");
  EXPECT_THAT(loadError(), HasSubstr("not an Impasto checkpoint"));
  std::filesystem::remove(file());
  EXPECT_THAT(loadError(), HasSubstr("no such file"));
}

// A header that declares a huge image or array is refused before anything
// that size is allocated.
TEST_F(CheckpointFileTest, DeclaredSizesBeyondTheFileAreRefusedUpFront) {
  saveCheckpoint(sampleCheckpoint(), file());
  std::string bytes = test::readAll(file());
  const std::string from = R"("count":144)";
  const auto at = bytes.find(from);
  ASSERT_NE(at, std::string::npos);
  bytes.replace(at, from.size(), R"("count":4000000000000)");
  // Keep the header's declared length right so only the count is wrong.
  const std::size_t grown = bytes.size() - test::readAll(file()).size();
  std::uint64_t length = 0;
  for (int i = 0; i < 8; ++i) length |= std::uint64_t(std::uint8_t(bytes[19 + i])) << (8 * i);
  length += grown;
  for (int i = 0; i < 8; ++i) bytes[std::size_t(19 + i)] = char(std::uint8_t(length >> (8 * i)));
  test::writeAll(file(), bytes);
  EXPECT_THAT(loadError(), HasSubstr("truncated"));
}

}  // namespace
}  // namespace impasto
