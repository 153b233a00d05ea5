// The face networks against face-api.js's own outputs for the same quantized
// weights (../shared/images/faces/reference, from that repository's tests).

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>

#include "core/faces/face_analyzer.h"
#include "core/io/image_io.h"
#include "tests/support/test_paths.h"

namespace impasto {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

fs::path modelsDir() { return test::sharedDir() / "models" / "face-api"; }
fs::path referenceDir() { return test::sharedDir() / "images" / "faces" / "reference"; }

json readJson(const fs::path& path) {
  std::ifstream in(path);
  return json::parse(in);
}

class FaceReferenceTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (!test::sharedDir().empty() && fs::is_directory(modelsDir()) && fs::is_directory(referenceDir()))
      models_ = new FaceModels(modelsDir());
  }
  static void TearDownTestSuite() {
    delete models_;
    models_ = nullptr;
  }
  void SetUp() override {
    if (models_ == nullptr)
      GTEST_SKIP() << "needs ../shared/models/face-api and ../shared/images/faces/reference";
  }
  static FaceModels* models_;
};

FaceModels* FaceReferenceTest::models_ = nullptr;

TEST_F(FaceReferenceTest, DescriptorsOfWholeCropsMatchTheReference) {
  // 150x150 grey crops and a 122x178 colour one (padded to a square first).
  for (const std::string name : {"face1", "face2", "face_rectangular"}) {
    const auto expected = readJson(referenceDir() / (name + ".descriptor.json")).get<std::vector<float>>();
    ASSERT_EQ(expected.size(), 128u);
    const std::vector<float> actual = models_->describe(loadImage(referenceDir() / (name + ".png")));
    ASSERT_EQ(actual.size(), 128u);
    const double d = descriptorDistance(actual, expected);
    std::cout << name << ": distance to the reference descriptor " << d << "\n";
    EXPECT_LT(d, 0.1) << name;
  }
}

TEST_F(FaceReferenceTest, TheTwoReferenceCropsAreDifferentPeople) {
  // face1 and face2 are two people: the descriptors must tell them apart.
  const double d = descriptorDistance(models_->describe(loadImage(referenceDir() / "face1.png")),
                                      models_->describe(loadImage(referenceDir() / "face2.png")));
  EXPECT_GT(d, kSamePersonThreshold);
}

TEST_F(FaceReferenceTest, GroupPhotoMatchesTheReferenceDetectionsLandmarksAndDescriptors) {
  const json expected = readJson(referenceDir() / "faces.expected.json");
  const int inputSize = expected.at("detector").at("input_size").get<int>();
  const json& tolerance = expected.at("tolerances");
  const cv::Mat image = loadImage(referenceDir() / expected.at("image").get<std::string>());

  std::vector<FaceAnalysis> faces = models_->analyze(image, inputSize);
  // The reference lists the faces by their box's top-left corner's distance from the origin.
  std::sort(faces.begin(), faces.end(), [](const FaceAnalysis& a, const FaceAnalysis& b) {
    return std::hypot(a.box.x, a.box.y) < std::hypot(b.box.x, b.box.y);
  });
  const json& want = expected.at("faces");
  ASSERT_EQ(faces.size(), want.size());

  double boxError = 0, scoreError = 0, landmarkError = 0, descriptorError = 0;
  for (std::size_t i = 0; i < faces.size(); ++i) {
    const json& box = want[i].at("box");
    const FaceRect& got = faces[i].box;
    for (const double e :
         {got.x - box.at("x").get<double>(), got.y - box.at("y").get<double>(),
          got.width - box.at("width").get<double>(), got.height - box.at("height").get<double>()})
      boxError = std::max(boxError, std::abs(e));
    scoreError = std::max(scoreError, std::abs(faces[i].score - want[i].at("score").get<double>()));
    const json& points = want[i].at("landmarks");
    ASSERT_EQ(faces[i].landmarks.size(), points.size());
    for (std::size_t p = 0; p < points.size(); ++p)
      landmarkError =
          std::max(landmarkError, std::hypot(faces[i].landmarks[p][0] - points[p][0].get<double>(),
                                             faces[i].landmarks[p][1] - points[p][1].get<double>()));
    descriptorError =
        std::max(descriptorError,
                 descriptorDistance(faces[i].descriptor, want[i].at("descriptor").get<std::vector<float>>()));
  }
  std::cout << "max errors: box " << boxError << " px, score " << scoreError << ", landmark " << landmarkError
            << " px, descriptor " << descriptorError << "\n";
  EXPECT_LE(boxError, tolerance.at("box_px").get<double>());
  EXPECT_LE(scoreError, tolerance.at("score").get<double>());
  EXPECT_LE(landmarkError, tolerance.at("landmark_px").get<double>());
  EXPECT_LE(descriptorError, tolerance.at("descriptor_euclidean").get<double>());
}

}  // namespace
}  // namespace impasto
