#include "core/library/face_model_location.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>

#include "core/library/model_library.h"
#include "core/library/sha256.h"
#include "core/models/manifest.h"
#include "core/util/error.h"
#include "tests/support/test_paths.h"
#include "tests/support/test_support.h"

namespace impasto {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

const RegistryEntry* faceEntry(const ModelLibrary& lib) { return lib.find(kFaceModelName); }

TEST(FaceModelRegistryTest, TheFaceModelsArePinnedBySizeAndFullSha256AndAreNoStyleModel) {
  const ModelLibrary lib(fs::temp_directory_path() / "impasto-no-such-cache");
  const RegistryEntry* entry = faceEntry(lib);
  ASSERT_NE(entry, nullptr);
  EXPECT_EQ(entry->manifest.format, kFaceModelFormat);
  EXPECT_EQ(entry->manifest.files.size(), 7u);  // 3 manifests, 4 shards
  for (const ModelFile& file : entry->manifest.files) {
    EXPECT_GT(file.size, 0) << file.name;
    EXPECT_EQ(file.sha256.size(), 64u) << file.name;
    ASSERT_EQ(file.urls.size(), 1u);
    EXPECT_THAT(file.urls[0],
                HasSubstr("justadudewhohacks/face-api.js/a86f011d72124e5fb93e59d5c4ab98f699dd5c9c/"));
  }
  EXPECT_TRUE(entry->downloadSizeExact);
  EXPECT_EQ(entry->downloadSize, 4194304 + 2249728 + 193321 + 356840 + 18303 + 2953 + 7889);
  for (const std::string& manifest : faceModelManifests())
    EXPECT_TRUE(std::any_of(entry->manifest.files.begin(), entry->manifest.files.end(),
                            [&](const ModelFile& f) { return f.name == manifest; }))
        << manifest;

  const auto statuses = lib.list();
  const auto face = std::find_if(statuses.begin(), statuses.end(),
                                 [](const ModelStatus& s) { return s.name == kFaceModelName; });
  ASSERT_NE(face, statuses.end());
  EXPECT_TRUE(face->faceModel);
  EXPECT_EQ(std::count_if(statuses.begin(), statuses.end(), [](const ModelStatus& s) { return s.faceModel; }),
            1);

  const Error error = test::captureError([&] { lib.resolveModelArgument(kFaceModelName); });
  EXPECT_EQ(error.kind(), ErrorKind::Model);
  EXPECT_THAT(error.what(), HasSubstr("not a style model"));
}

class FaceModelLocationTest : public ::testing::Test {
 protected:
  test::ScratchDir scratch_{"impasto-face-location"};
  const fs::path cache_ = scratch_.path() / "cache";
};

TEST_F(FaceModelLocationTest, MissingModelsSayHowToDownloadThem) {
  const test::ScopedEnv unset("IMPASTO_FACE_MODELS", nullptr);
  const ModelLibrary lib(cache_);
  const Error error = test::captureError([&] { locateFaceModels(lib); });
  EXPECT_EQ(error.kind(), ErrorKind::Model);
  EXPECT_THAT(error.what(), HasSubstr("impasto-cli models download face-api"));
}

TEST_F(FaceModelLocationTest, TheEnvironmentVariableNamesAFolderThatMustHoldTheManifests) {
  const fs::path dir = scratch_.path() / "faces";
  fs::create_directories(dir);
  for (const std::string& name : faceModelManifests()) test::writeAll(dir / name, "[]");
  const test::ScopedEnv env("IMPASTO_FACE_MODELS", dir.c_str());
  EXPECT_EQ(locateFaceModels(ModelLibrary(cache_)), dir);

  fs::remove(dir / faceModelManifests().back());
  const Error error = test::captureError([&] { locateFaceModels(ModelLibrary(cache_)); });
  EXPECT_EQ(error.kind(), ErrorKind::Model);
  EXPECT_THAT(error.what(), HasSubstr(faceModelManifests().back()));
  EXPECT_THAT(error.what(), HasSubstr("impasto-cli models download face-api"));
}

// The upstream files, remade from ../shared/models/face-api: its manifests are
// the upstream ones reformatted with one concatenated weight file, so the
// upstream bytes are the same JSON without whitespace, naming the shards.
std::string upstreamManifest(const fs::path& shared, const std::string& model) {
  std::string text = test::readAll(shared / (model + "-weights_manifest.json"));
  text.erase(std::remove_if(text.begin(), text.end(), [](unsigned char c) { return std::isspace(c) != 0; }),
             text.end());
  const std::string single = "\"" + model + ".bin\"";
  const std::string shards = model == "face_recognition_model"
                                 ? "\"face_recognition_model-shard1\",\"face_recognition_model-shard2\""
                                 : "\"" + model + "-shard1\"";
  text.replace(text.find(single), single.size(), shards);
  return text;
}

TEST_F(FaceModelLocationTest, InstallsFromAMirrorOfTheUpstreamFilesAndIsFoundThere) {
  const fs::path shared = test::sharedDir() / "models" / "face-api";
  if (test::sharedDir().empty() || !fs::is_directory(shared))
    GTEST_SKIP() << "needs ../shared/models/face-api";
  const test::ScopedEnv unset("IMPASTO_FACE_MODELS", nullptr);
  const ModelLibrary lib(cache_);
  const RegistryEntry* entry = faceEntry(lib);
  ASSERT_NE(entry, nullptr);

  std::map<std::string, std::string> upstream;
  for (const char* model : {"tiny_face_detector_model", "face_landmark_68_model", "face_recognition_model"})
    upstream[std::string(model) + "-weights_manifest.json"] = upstreamManifest(shared, model);
  upstream["tiny_face_detector_model-shard1"] = test::readAll(shared / "tiny_face_detector_model.bin");
  upstream["face_landmark_68_model-shard1"] = test::readAll(shared / "face_landmark_68_model.bin");
  const std::string recognition = test::readAll(shared / "face_recognition_model.bin");
  upstream["face_recognition_model-shard1"] = recognition.substr(0, 4194304);
  upstream["face_recognition_model-shard2"] = recognition.substr(4194304);

  const fs::path mirror = scratch_.path() / "mirror";
  for (const ModelFile& file : entry->manifest.files) {
    ASSERT_EQ(upstream.count(file.name), 1u) << file.name;
    const std::string& bytes = upstream[file.name];
    // The registry pins exactly these bytes.
    EXPECT_EQ(std::int64_t(bytes.size()), file.size) << file.name;
    const std::string url = file.urls.front();
    const fs::path path = mirror / url.substr(url.find('/', url.find("://") + 3) + 1);
    fs::create_directories(path.parent_path());
    test::writeAll(path, bytes);
    EXPECT_EQ(sha256File(path), file.sha256) << file.name;
  }

  EXPECT_THROW(locateFaceModels(lib), Error);
  lib.install(kFaceModelName, {}, nullptr, mirror.string());
  EXPECT_TRUE(lib.isInstalled(kFaceModelName));
  EXPECT_EQ(locateFaceModels(lib), lib.modelDirectory(kFaceModelName));
  for (const auto& check : lib.verify()) EXPECT_TRUE(check.ok) << check.path << ": " << check.problem;
}

}  // namespace
}  // namespace impasto
