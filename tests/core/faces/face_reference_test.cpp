// The face networks against face-api.js's own outputs for the same quantized
// weights (../shared/images/faces/reference, from that repository's tests).

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <opencv2/imgproc.hpp>

#include "core/faces/face_analyzer.h"
#include "core/faces/portrait_guard.h"
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

TEST_F(FaceReferenceTest, PortraitGuardFindsTheSittersOnceAndMeasuresAnyGAgainstThem) {
  const cv::Mat content = loadImage(referenceDir() / "faces.jpg");
  const PortraitGuard guard(*models_, content);
  ASSERT_TRUE(guard.hasFaces());
  ASSERT_EQ(guard.faces().size(), 6u);

  // G = C: every face is itself.
  for (const FaceIdentity& face : guard.measure(content)) {
    EXPECT_LT(face.distance, 1e-4);
    EXPECT_TRUE(face.samePerson);
  }
  // A G at half the size is compared with C at that size, in scaled regions.
  cv::Mat half;
  cv::resize(content, half, cv::Size(content.cols / 2, content.rows / 2), 0, 0, cv::INTER_AREA);
  const auto scaled = guard.measure(half);
  ASSERT_EQ(scaled.size(), 6u);
  for (std::size_t i = 0; i < scaled.size(); ++i) {
    EXPECT_LT(scaled[i].distance, 1e-4);
    EXPECT_NEAR(scaled[i].box.x, guard.faces()[i].aligned.x / 2, 1.0);
    EXPECT_NEAR(scaled[i].box.width, guard.faces()[i].aligned.width / 2, 1.0);
  }
  // The faces moved elsewhere (G flipped): no longer the same people.
  cv::Mat flipped;
  cv::flip(content, flipped, -1);
  int drifting = 0;
  for (const FaceIdentity& face : guard.measure(flipped)) drifting += face.samePerson ? 0 : 1;
  EXPECT_EQ(drifting, 6);
  // A flat grey G has no face at all.
  const cv::Mat grey(content.size(), CV_32FC3, cv::Scalar(0.5, 0.5, 0.5));
  for (const FaceIdentity& face : guard.measure(grey)) EXPECT_FALSE(face.samePerson) << face.distance;
}

// A G that keeps each aligned crop exactly and changes what lies around it:
// a network judging that one crop would call every face itself (d = 0); the
// guard also cuts each face shifted and scaled, and sees the change.
TEST_F(FaceReferenceTest, PortraitGuardLooksBeyondTheExactAlignedCrop) {
  const cv::Mat content = loadImage(referenceDir() / "faces.jpg");
  const PortraitGuard guard(*models_, content);
  ASSERT_EQ(guard.faces().size(), 6u);
  cv::Mat framed(content.size(), CV_32FC3, cv::Scalar(0.5, 0.5, 0.5));
  for (const FaceAnalysis& face : guard.faces()) {
    const cv::Rect r(int(face.aligned.x), int(face.aligned.y), int(face.aligned.width),
                     int(face.aligned.height));
    content(r).copyTo(framed(r));
  }
  for (const FaceIdentity& face : guard.measure(framed)) {
    const cv::Rect r(int(face.box.x), int(face.box.y), int(face.box.width), int(face.box.height));
    EXPECT_LT(descriptorDistance(models_->describe(content(r).clone()), models_->describe(framed(r).clone())),
              1e-4);
    EXPECT_GT(face.distance, 0.05);
  }
}

TEST_F(FaceReferenceTest, AnImageWithoutFacesGivesAnIdlePortraitGuard) {
  const cv::Mat grey(200, 300, CV_32FC3, cv::Scalar(0.4, 0.5, 0.6));
  const PortraitGuard guard(*models_, grey);
  EXPECT_FALSE(guard.hasFaces());
  EXPECT_TRUE(guard.measure(grey).empty());
}

}  // namespace
}  // namespace impasto
