// impasto-cli faces: verification and recognition on the shared photos of
// eight people (two 150x150 face crops each) with the real face networks.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <csignal>
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "core/io/image_io.h"
#include "core/settings/preset.h"
#include "tests/support/test_images.h"
#include "tests/support/test_paths.h"
#include "tests/support/test_support.h"

namespace fs = std::filesystem;
using nlohmann::json;
using ::testing::HasSubstr;

namespace impasto {
namespace {

const std::vector<std::string> kPeople = {"amy",   "bernadette", "howard",  "leonard",
                                          "penny", "raj",        "sheldon", "stuart"};

class FacesCommandTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (test::sharedDir().empty() || !fs::is_directory(models_) || !fs::is_directory(photos_))
      GTEST_SKIP() << "needs ../shared/models/face-api and ../shared/images/faces";
  }

  // stdout only, unless the arguments redirect stderr.
  test::RunResult faces(const std::string& arguments, const fs::path& models = {}) const {
    return test::runShell("IMPASTO_FACE_MODELS='" + (models.empty() ? models_ : models).string() + "' '" +
                          test::cliPath() + "' faces " + arguments + " </dev/null");
  }
  std::string photo(const std::string& person, int n) const {
    return "'" + (photos_ / (person + std::to_string(n) + ".png")).string() + "'";
  }
  static std::vector<json> jsonLines(const std::string& output) {
    std::vector<json> lines;
    std::istringstream in(output);
    for (std::string line; std::getline(in, line);)
      if (!line.empty()) lines.push_back(json::parse(line));
    return lines;
  }

  const fs::path models_ = test::sharedDir() / "models" / "face-api";
  const fs::path photos_ = test::sharedDir() / "images" / "faces";
  test::ScratchDir scratch_{"impasto-faces-cli"};
};

TEST_F(FacesCommandTest, VerifySaysSameForOnePersonAndDifferentForTwoAtTheDefaultThreshold) {
  const auto same = faces("verify --crops --json " + photo("amy", 1) + " " + photo("amy", 2));
  ASSERT_EQ(same.exitCode, 0) << same.output;
  const auto lines = jsonLines(same.output);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_TRUE(lines[0].at("same_person").get<bool>());
  EXPECT_DOUBLE_EQ(lines[0].at("threshold").get<double>(), 0.6);
  EXPECT_LT(lines[0].at("distance").get<double>(), 0.6);

  const auto other = faces("verify --crops " + photo("amy", 1) + " " + photo("sheldon", 1));
  ASSERT_EQ(other.exitCode, 0) << other.output;
  EXPECT_THAT(other.output, HasSubstr("Same person: no (distance "));

  // A threshold above the distance turns the answer around.
  const auto loose =
      faces("verify --crops --threshold 5 --json " + photo("amy", 1) + " " + photo("sheldon", 1));
  EXPECT_TRUE(jsonLines(loose.output).at(0).at("same_person").get<bool>());
}

// The sixteen photos against each other at the default τ = 0.6 (not tuned on
// them): every same-person pair is closer than τ and every other pair farther.
TEST_F(FacesCommandTest, TheDistanceMatrixOfTheSixteenPhotosSeparatesThePeopleAtTheDefaultThreshold) {
  std::string images;
  for (const std::string& person : kPeople) images += photo(person, 1) + " " + photo(person, 2) + " ";
  const auto r = faces("detect --crops --json " + images);
  ASSERT_EQ(r.exitCode, 0) << r.output;
  const auto lines = jsonLines(r.output);
  ASSERT_EQ(lines.size(), 16u);
  std::vector<std::vector<float>> descriptors;
  for (const json& line : lines) {
    ASSERT_EQ(line.at("faces").size(), 1u);
    const json& face = line.at("faces")[0];
    EXPECT_EQ(face.at("box").at("width").get<double>(), 150);
    EXPECT_FALSE(face.contains("landmarks"));
    descriptors.push_back(face.at("descriptor").get<std::vector<float>>());
    ASSERT_EQ(descriptors.back().size(), 128u);
  }
  double maxSame = 0, minDifferent = 1e9;
  for (std::size_t i = 0; i < 16; ++i)
    for (std::size_t j = i + 1; j < 16; ++j) {
      double sum = 0;
      for (std::size_t k = 0; k < 128; ++k) sum += std::pow(descriptors[i][k] - descriptors[j][k], 2);
      const double d = std::sqrt(sum);
      const bool samePerson = i / 2 == j / 2;
      (samePerson ? maxSame : minDifferent) = samePerson ? std::max(maxSame, d) : std::min(minDifferent, d);
      EXPECT_EQ(d < 0.6, samePerson) << kPeople[i / 2] << i % 2 + 1 << " vs " << kPeople[j / 2] << j % 2 + 1
                                     << ": d = " << d;
    }
  std::cout << "largest same-person distance " << maxSame << ", smallest different-person distance "
            << minDifferent << "\n";
}

TEST_F(FacesCommandTest, IdentifyEnrolsPhotoOneAndRecognisesPhotoTwoOfEveryone) {
  const fs::path people = scratch_.path() / "people";
  std::string probes;
  for (const std::string& person : kPeople) {
    fs::create_directories(people / person);
    fs::copy_file(photos_ / (person + "1.png"), people / person / (person + "1.png"));
    probes += photo(person, 2) + " ";
  }
  const auto r = faces("identify --crops --json --people '" + people.string() + "' " + probes);
  ASSERT_EQ(r.exitCode, 0) << r.output;
  const auto lines = jsonLines(r.output);
  ASSERT_EQ(lines.size(), kPeople.size());
  for (std::size_t i = 0; i < kPeople.size(); ++i) {
    EXPECT_THAT(lines[i].at("image").get<std::string>(), HasSubstr(kPeople[i] + "2.png"));
    EXPECT_EQ(lines[i].at("name"), kPeople[i]);
    EXPECT_LT(lines[i].at("distance").get<double>(), 0.6);
  }

  // Without amy among the enrolled people, her photo is an unknown face (null).
  fs::remove_all(people / "amy");
  const auto unknown = faces("identify --crops --json --people '" + people.string() + "' " + photo("amy", 2));
  ASSERT_EQ(unknown.exitCode, 0) << unknown.output;
  const json line = jsonLines(unknown.output).at(0);
  EXPECT_TRUE(line.at("name").is_null()) << line;
  EXPECT_GE(line.at("distance").get<double>(), 0.6);
  const auto human = faces("identify --crops --people '" + people.string() + "' " + photo("amy", 2));
  EXPECT_THAT(human.output, HasSubstr("unknown (nearest "));
}

TEST_F(FacesCommandTest, DetectFindsFacesWithLandmarksAndDescriptorsInAGroupPhoto) {
  const auto r = faces("detect --json '" + (photos_ / "reference" / "faces.jpg").string() + "'");
  ASSERT_EQ(r.exitCode, 0) << r.output;
  const auto lines = jsonLines(r.output);
  ASSERT_EQ(lines.size(), 1u);
  const json& found = lines[0].at("faces");
  EXPECT_EQ(found.size(), 6u);
  for (const json& face : found) {
    EXPECT_EQ(face.at("landmarks").size(), 68u);
    EXPECT_EQ(face.at("landmarks")[0].size(), 2u);
    EXPECT_EQ(face.at("descriptor").size(), 128u);
    EXPECT_GT(face.at("score").get<double>(), 0.5);
    EXPECT_GT(face.at("box").at("width").get<double>(), 50);
  }
}

TEST_F(FacesCommandTest, BadInputsExitThreeWithAMessage) {
  // No face: a flat grey image.
  const fs::path grey = scratch_.path() / "grey.png";
  ASSERT_TRUE(cv::imwrite(grey.string(), cv::Mat(64, 64, CV_8UC3, cv::Scalar(128, 128, 128))));
  const auto noFace = faces("verify '" + grey.string() + "' " + photo("amy", 1) + " 2>&1");
  EXPECT_EQ(noFace.exitCode, 3) << noFace.output;
  EXPECT_THAT(noFace.output, HasSubstr("No face found"));
  const auto detectNone = faces("detect '" + grey.string() + "' 2>&1");
  EXPECT_EQ(detectNone.exitCode, 3) << detectNone.output;
  EXPECT_THAT(detectNone.output, HasSubstr("0 faces"));

  // An unreadable image.
  test::writeAll(scratch_.path() / "broken.png", "not a png");
  const auto broken = faces("detect --crops '" + (scratch_.path() / "broken.png").string() + "' 2>&1");
  EXPECT_EQ(broken.exitCode, 3) << broken.output;
  EXPECT_THAT(broken.output, HasSubstr("impasto-cli: "));

  // An empty people folder.
  fs::create_directories(scratch_.path() / "nobody");
  const auto empty = faces("identify --crops --people '" + (scratch_.path() / "nobody").string() + "' " +
                           photo("amy", 1) + " 2>&1");
  EXPECT_EQ(empty.exitCode, 3) << empty.output;
  EXPECT_THAT(empty.output, HasSubstr("holds nobody"));

  // Missing face models say how to get them.
  const auto noModels = faces("verify --crops " + photo("amy", 1) + " " + photo("amy", 2) + " 2>&1",
                              scratch_.path() / "no-models");
  EXPECT_EQ(noModels.exitCode, 3) << noModels.output;
  EXPECT_THAT(noModels.output, HasSubstr("impasto-cli models download face-api"));

  // A bad threshold is a usage error.
  const auto badThreshold =
      faces("verify --crops --threshold -1 " + photo("amy", 1) + " " + photo("amy", 2) + " 2>&1");
  EXPECT_EQ(badThreshold.exitCode, 2) << badThreshold.output;
}

// The portrait guard's report: the render's --json done line and summary give
// d(C, G) for each face of the content, and nothing for a content without faces.
TEST_F(FacesCommandTest, ARenderOfAPortraitReportsEachFacesDistanceAndOneWithoutFacesDoesNot) {
  const fs::path darknet = test::sharedDir() / "models" / "darknet-reference" / "tfjs" / "model.json";
  if (!fs::exists(darknet)) GTEST_SKIP() << "needs ../shared/models/darknet-reference";
  const fs::path dir = scratch_.path();
  const std::string common =
      " --model '" + darknet.string() + "' --size 256 --scales 1 --iterations 2 --threads 1 ";
  const std::string style = " --style '" + (photos_ / "bbt2.jpg").string() + "'";
  const auto r =
      test::runShell("cd '" + dir.string() + "' && IMPASTO_FACE_MODELS='" + models_.string() + "' '" +
                     test::cliPath() + "' --content '" + (photos_ / "reference" / "faces.jpg").string() +
                     "'" + style + common + "--json --output portrait.png </dev/null");
  ASSERT_EQ(r.exitCode, 0) << r.output;
  const json done = jsonLines(r.output).back();
  ASSERT_TRUE(done.at("done").get<bool>());
  ASSERT_TRUE(done.contains("faces")) << done;
  ASSERT_EQ(done.at("faces").size(), 6u);
  for (const json& face : done.at("faces")) {
    const double d = face.at("distance").get<double>();
    EXPECT_GT(d, 0.0);
    EXPECT_EQ(face.at("same_person").get<bool>(), d < 0.6);
    EXPECT_GT(face.at("box").at("width").get<double>(), 10);
    EXPECT_LE(face.at("box").at("x").get<double>() + face.at("box").at("width").get<double>(), 256);
  }

  const auto summary =
      test::runShell("cd '" + dir.string() + "' && IMPASTO_FACE_MODELS='" + models_.string() + "' '" +
                     test::cliPath() + "' --content '" + (photos_ / "reference" / "faces.jpg").string() +
                     "'" + style + common + "--output portrait2.png 2>&1 </dev/null");
  ASSERT_EQ(summary.exitCode, 0) << summary.output;
  EXPECT_THAT(summary.output, HasSubstr("Face 6: "));
  EXPECT_THAT(summary.output,
              ::testing::AnyOf(HasSubstr("same person \u2713 d = "), HasSubstr("identity drifting")));

  ASSERT_TRUE(cv::imwrite((dir / "flat.png").string(), cv::Mat(64, 64, CV_8UC3, cv::Scalar(90, 120, 150))));
  const auto flat = test::runShell("cd '" + dir.string() + "' && IMPASTO_FACE_MODELS='" + models_.string() +
                                   "' '" + test::cliPath() + "' --content flat.png" + style + common +
                                   "--json --output flat-out.png </dev/null");
  ASSERT_EQ(flat.exitCode, 0) << flat.output;
  EXPECT_FALSE(jsonLines(flat.output).back().contains("faces"));
}

// --keep-identity at a strong style weight on a portrait: without it the
// face drifts (d >= τ, the guard's d over its own cuts, which the term never
// sees); with it the face stays the same person.
TEST_F(FacesCommandTest, KeepIdentityKeepsThePortraitTheSamePersonAtHighBeta) {
  const fs::path darknet = test::sharedDir() / "models" / "darknet-reference" / "tfjs" / "model.json";
  const fs::path scream = test::sharedDir() / "images" / "the_scream.jpg";
  if (!fs::exists(darknet) || !fs::exists(scream))
    GTEST_SKIP() << "needs darknet-reference and the_scream.jpg";
  const fs::path portrait = scratch_.path() / "bernadette-portrait.png";
  saveImage(test::faceWithContext(loadImage(photos_ / "bernadette1.png")), portrait);
  const std::string command = "cd '" + scratch_.path().string() + "' && IMPASTO_FACE_MODELS='" +
                              models_.string() + "' '" + test::cliPath() + "' --content '" +
                              portrait.string() + "' --style '" + scream.string() + "' --model '" +
                              darknet.string() +
                              "' --size 256 --scales 1 --iterations 20 --beta 1e6 --threads 2 --json ";
  auto distance = [&](const std::string& extra, const std::string& output) {
    const auto r = test::runShell(command + extra + " --output " + output + " </dev/null");
    EXPECT_EQ(r.exitCode, 0) << r.output;
    const json done = jsonLines(r.output).back();
    EXPECT_EQ(done.at("faces").size(), 1u) << done;
    return done.at("faces").at(0).at("distance").get<double>();
  };
  const double plain = distance("", "plain.png");
  const double kept = distance("--keep-identity", "kept.png");
  std::cout << "d(C, G): " << plain << " without, " << kept << " with --keep-identity\n";
  EXPECT_GE(plain, 0.6);
  EXPECT_LT(kept, 0.6);
}

// γ is one of the weights: --keep-identity writes it into the settings the
// output embeds, and a render from that PNG as a preset uses the identity
// term again (face models loaded for it) without the flag; --keep-identity 0
// after the preset turns it off. A checkpoint's resume with another γ is
// refused: γ is part of the render.
TEST_F(FacesCommandTest, KeepIdentityIsAWeightThatPresetsAndCheckpointsCarry) {
  const fs::path darknet = test::sharedDir() / "models" / "darknet-reference" / "tfjs" / "model.json";
  if (!fs::exists(darknet)) GTEST_SKIP() << "needs ../shared/models/darknet-reference";
  const std::string run = "cd '" + scratch_.path().string() + "' && IMPASTO_FACE_MODELS='" +
                          models_.string() + "' '" + test::cliPath() + "' --style '" +
                          (photos_ / "bbt2.jpg").string() + "' --threads 1 --json ";
  const std::string content = " --content '" + (photos_ / "reference" / "faces.jpg").string() + "'";
  const std::string first = " --model '" + darknet.string() + "' --size 160 --scales 1 --iterations 2";
  auto identityLosses = [](const std::vector<json>& lines) {
    std::vector<double> losses;
    for (const json& line : lines)
      if (line.contains("identity_loss")) losses.push_back(line.at("identity_loss").get<double>());
    return losses;
  };

  const auto kept =
      test::runShell(run + content + first + " --keep-identity 250 --output kept.png </dev/null");
  ASSERT_EQ(kept.exitCode, 0) << kept.output;
  const std::vector<double> keptLosses = identityLosses(jsonLines(kept.output));
  ASSERT_EQ(keptLosses.size(), 2u);
  EXPECT_EQ(keptLosses[0], 0.0) << "the first step is at C itself";
  EXPECT_GT(keptLosses[1], 0.0);
  Preset embedded;
  loadPresetFile(scratch_.path() / "kept.png", embedded);
  EXPECT_EQ(embedded.settings.weights.identity, 250.0);

  const std::string model = " --model '" + darknet.string() + "'";
  const auto again =
      test::runShell(run + content + " --preset kept.png" + model + " --output again.png </dev/null");
  ASSERT_EQ(again.exitCode, 0) << again.output;
  const std::vector<double> againLosses = identityLosses(jsonLines(again.output));
  ASSERT_FALSE(againLosses.empty());
  EXPECT_GT(againLosses.back(), 0.0) << "the preset's γ needs no flag";

  const auto off = test::runShell(run + content + " --preset kept.png" + model +
                                  " --keep-identity 0 --output off.png </dev/null");
  ASSERT_EQ(off.exitCode, 0) << off.output;
  for (double loss : identityLosses(jsonLines(off.output))) EXPECT_EQ(loss, 0.0);
  Preset offPreset;
  loadPresetFile(scratch_.path() / "off.png", offPreset);
  EXPECT_EQ(offPreset.settings.weights.identity, 0.0);

  // A bad γ is a usage error.
  const auto negative =
      test::runShell(run + content + first + " --keep-identity -1 --output bad.png 2>&1 </dev/null");
  EXPECT_EQ(negative.exitCode, 2) << negative.output;

  // A checkpoint of a γ = 250 render does not resume as a γ = 500 one. In the
  // background, its own pid echoed ($! of a simple command is the command).
  const test::RunResult started =
      test::runShell("(" + run + content + first +
                     " --iterations 1000000 --keep-identity 250 --checkpoint c.ckpt "
                     "--checkpoint-every 1 --output ck.png > ck.log 2>&1 & echo $!)");
  const pid_t child = pid_t(std::stol(started.output));
  for (int i = 0; i < 1500 && !fs::exists(scratch_.path() / "c.ckpt"); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  ::kill(child, SIGKILL);
  ASSERT_TRUE(fs::exists(scratch_.path() / "c.ckpt"));
  const auto otherGamma = test::runShell(run + " --resume c.ckpt --keep-identity 500 2>&1 </dev/null");
  EXPECT_EQ(otherGamma.exitCode, 3) << otherGamma.output;
  EXPECT_THAT(otherGamma.output, HasSubstr("the settings differ"));
}

}  // namespace
}  // namespace impasto
