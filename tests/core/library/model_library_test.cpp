#include "core/library/model_library.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/library/sha256.h"
#include "core/models/manifest.h"
#include "core/models/model.h"
#include "core/util/error.h"
#include "core/util/text.h"
#include "tests/support/aten_ops.h"
#include "tests/support/http_test_server.h"
#include "tests/support/onnx_writer.h"
#include "tests/support/test_paths.h"
#include "tests/support/test_support.h"

namespace impasto {
namespace {

namespace fs = std::filesystem;
using test::HttpTestServer;
using ::testing::HasSubstr;

const fs::path kSharedDarknet = test::sharedDir() / "models" / "darknet-reference";

using test::captureError;
using test::randomBytes;
using test::readAll;
using test::ScopedEnv;
using test::writeAll;

// A registry entry whose files live under https://models.invalid/<path>: only
// a mirror (our test server) can deliver them.
RegistryEntry tinyEntry(const std::string& name,
                        const std::vector<std::pair<std::string, std::string>>& files,
                        const std::string& weightsFile, bool withSize = true) {
  nlohmann::json doc;
  doc["name"] = name;
  doc["title"] = "Tiny test model " + name;
  doc["files"] = nlohmann::json::array();
  for (const auto& [fileName, body] : files) {
    nlohmann::json file = {{"name", fileName},
                           {"urls", {"https://models.invalid/org/repo/" + fileName}},
                           {"sha256", Sha256::hashHex(body)}};
    if (withSize) file["size"] = body.size();
    doc["files"].push_back(file);
  }
  doc["weights_file"] = weightsFile;
  return makeRegistryEntry(doc.dump(2), name + ".json");
}

class ModelLibraryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    env_.emplace("IMPASTO_MODEL_DIR", cache_.c_str());
    weights_ = randomBytes(300 * 1024, 3);
    graph_ = R"({"modelTopology": {}, "weightsManifest": [{"paths": ["group1-shard1of1"]}]})";
    shard_ = randomBytes(4096, 4);
    server_.addFile("/org/repo/tiny.pth", weights_);
    server_.addFile("/org/repo/model.json", graph_);
    server_.addFile("/org/repo/group1-shard1of1", shard_);
    registry_ = {
        tinyEntry("tiny", {{"tiny.pth", weights_}}, "tiny.pth"),
        tinyEntry("tiny-tfjs", {{"model.json", graph_}, {"group1-shard1of1", shard_}}, "model.json")};
  }

  ModelLibrary library() const { return ModelLibrary(cache_, registry_); }

  // The library makes its cache folder itself, so the tests start without one.
  test::ScratchDir scratch_{"impasto-library-test"};
  const fs::path cache_ = scratch_.path() / "cache";
  std::optional<ScopedEnv> env_;
  ScopedEnv noMirror_{"IMPASTO_MODEL_MIRROR", nullptr};
  std::string weights_, graph_, shard_;
  HttpTestServer server_;
  std::vector<RegistryEntry> registry_;
};

TEST_F(ModelLibraryTest, CacheDirectoryFollowsTheEnvironment) {
  EXPECT_EQ(ModelLibrary::defaultCacheDir(), cache_);
  EXPECT_EQ(ModelLibrary().cacheDir(), cache_);
  ScopedEnv noDir("IMPASTO_MODEL_DIR", nullptr);
  {
    ScopedEnv xdg("XDG_CACHE_HOME", "/xdg/cache");
    EXPECT_EQ(ModelLibrary::defaultCacheDir(), fs::path("/xdg/cache/impasto/models"));
  }
  ScopedEnv noXdg("XDG_CACHE_HOME", nullptr);
  ScopedEnv home("HOME", "/home/someone");
  EXPECT_EQ(ModelLibrary::defaultCacheDir(), fs::path("/home/someone/.cache/impasto/models"));
}

TEST_F(ModelLibraryTest, InstallsThroughAMirrorAndLoadsFromTheCache) {
  const auto lib = library();
  EXPECT_FALSE(lib.isInstalled("tiny"));
  std::vector<std::int64_t> done;
  const fs::path weights = lib.install(
      "tiny",
      [&](std::int64_t bytes, std::int64_t total, double, double) {
        done.push_back(bytes);
        EXPECT_EQ(total, std::int64_t(weights_.size()));
      },
      nullptr, server_.baseUrl());

  EXPECT_EQ(weights, cache_ / "tiny" / "tiny.pth");
  EXPECT_EQ(readAll(weights), weights_);
  EXPECT_TRUE(lib.isInstalled("tiny"));
  ASSERT_FALSE(done.empty());
  EXPECT_EQ(done.back(), std::int64_t(weights_.size()));
  // The manifest sits where loadModelFile looks for it, unchanged.
  EXPECT_EQ(readAll(cache_ / "tiny" / "tiny.json"), registry_[0].json);
  EXPECT_EQ(server_.requestCount("/org/repo/tiny.pth"), 1);

  const auto statuses = lib.list();
  ASSERT_EQ(statuses.size(), 2u);
  EXPECT_EQ(statuses[0].name, "tiny");
  EXPECT_EQ(statuses[0].state, InstallState::Installed);
  EXPECT_EQ(statuses[0].weightsPath, weights);
  EXPECT_EQ(statuses[0].bytesPresent, std::int64_t(weights_.size()));
  EXPECT_EQ(statuses[1].state, InstallState::NotInstalled);

  EXPECT_EQ(lib.resolveModelArgument("tiny"), weights);

  // Installing again downloads nothing.
  lib.install("tiny", {}, nullptr, server_.baseUrl());
  EXPECT_EQ(server_.requestCount("/org/repo/tiny.pth"), 1);
}

TEST_F(ModelLibraryTest, MultiFileModelGetsImpastoJsonBesideModelJson) {
  const auto lib = library();
  std::vector<std::int64_t> done;
  const fs::path weights = lib.install(
      "tiny-tfjs", [&](std::int64_t bytes, std::int64_t, double, double) { done.push_back(bytes); }, nullptr,
      server_.baseUrl());
  EXPECT_EQ(weights, cache_ / "tiny-tfjs" / "model.json");
  EXPECT_EQ(readAll(cache_ / "tiny-tfjs" / "group1-shard1of1"), shard_);
  EXPECT_EQ(readAll(cache_ / "tiny-tfjs" / "impasto.json"), registry_[1].json);
  for (std::size_t i = 1; i < done.size(); ++i)
    EXPECT_GE(done[i], done[i - 1]) << "progress spans both files";
  EXPECT_EQ(done.back(), std::int64_t(graph_.size() + shard_.size()));
}

TEST_F(ModelLibraryTest, ChecksumMismatchInstallsNothing) {
  server_.addFile("/org/repo/tiny.pth", randomBytes(weights_.size(), 99));
  const auto lib = library();
  const Error e = captureError([&] { lib.install("tiny", {}, nullptr, server_.baseUrl()); });
  EXPECT_EQ(e.kind(), ErrorKind::Network);
  EXPECT_THAT(e.what(), HasSubstr("checksum mismatch"));
  EXPECT_FALSE(fs::exists(cache_ / "tiny" / "tiny.pth"));
  EXPECT_FALSE(fs::exists(cache_ / "tiny" / "tiny.pth.part"));
  EXPECT_FALSE(fs::exists(cache_ / "tiny" / "tiny.json"));
  EXPECT_FALSE(lib.isInstalled("tiny"));
}

// Like the registry's vgg19: only a SHA-256 prefix, an estimated size and an upper bound.
RegistryEntry prefixOnlyEntry(const std::string& body, std::int64_t maxSize) {
  nlohmann::json file = {{"name", "tiny.pth"},
                         {"urls", {"https://models.invalid/org/repo/tiny.pth"}},
                         {"sha256", Sha256::hashHex(body).substr(0, 8)},
                         {"approximate_size", body.size()},
                         {"max_size", maxSize}};
  nlohmann::json doc = {{"name", "tiny"}, {"files", {file}}, {"weights_file", "tiny.pth"}};
  return makeRegistryEntry(doc.dump(2), "tiny.json");
}

void expectNothingInstalled(const ModelLibrary& lib, const fs::path& cache) {
  EXPECT_FALSE(fs::exists(cache / "tiny" / "tiny.pth"));
  EXPECT_FALSE(fs::exists(cache / "tiny" / "tiny.pth.part"));
  EXPECT_FALSE(fs::exists(cache / "tiny" / "tiny.json"));
  EXPECT_FALSE(lib.isInstalled("tiny"));
}

TEST_F(ModelLibraryTest, AServerSendingMoreThanTheManifestSaysInstallsNothing) {
  server_.addFile("/org/repo/tiny.pth", weights_ + std::string(20 << 20, 'x'));
  server_.omitLength("/org/repo/tiny.pth");
  const auto lib = library();
  const Error e = captureError([&] { lib.install("tiny", {}, nullptr, server_.baseUrl()); });
  EXPECT_EQ(e.kind(), ErrorKind::Network);
  EXPECT_THAT(e.what(), HasSubstr("more than the expected " + std::to_string(weights_.size())));
  EXPECT_LT(server_.finishedRequests().at(0).bodyBytesSent, 16 << 20) << "the download went on";
  expectNothingInstalled(lib, cache_);
}

TEST_F(ModelLibraryTest, PrefixOnlyFileIsMarkedAndHeldToItsBound) {
  registry_ = {prefixOnlyEntry(weights_, std::int64_t(weights_.size()) + 100)};
  server_.addFile("/org/repo/tiny.pth", weights_ + std::string(20 << 20, 'x'));
  server_.omitLength("/org/repo/tiny.pth");
  const auto lib = library();
  EXPECT_TRUE(lib.list().at(0).sha256PrefixOnly);
  const Error e = captureError([&] { lib.install("tiny", {}, nullptr, server_.baseUrl()); });
  EXPECT_EQ(e.kind(), ErrorKind::Network);
  EXPECT_THAT(e.what(), HasSubstr("stated upper bound of " + std::to_string(weights_.size() + 100)));
  expectNothingInstalled(lib, cache_);

  // The real file, within the bound and matching the prefix, installs.
  server_.addFile("/org/repo/tiny.pth", weights_);
  EXPECT_EQ(readAll(lib.install("tiny", {}, nullptr, server_.baseUrl())), weights_);
}

TEST_F(ModelLibraryTest, ImportOfAFileLargerThanTheBoundIsRefused) {
  // The hash prefix matches (8 hex digits are easy to forge), but the file is
  // larger than the published one can be.
  const fs::path file = scratch_.path() / "tiny.pth";
  writeAll(file, weights_ + "trailing");
  registry_ = {prefixOnlyEntry(weights_ + "trailing", std::int64_t(weights_.size()))};
  const auto lib = library();
  const Error e = captureError([&] { lib.importFile(file); });
  EXPECT_EQ(e.kind(), ErrorKind::Model);
  EXPECT_THAT(e.what(), HasSubstr("more than the stated bound of " + std::to_string(weights_.size())));
  expectNothingInstalled(lib, cache_);
}

TEST_F(ModelLibraryTest, FullDigestsAndBoundsArePinnedInTheBuiltInRegistry) {
  const ModelLibrary lib(cache_);
  const ModelFile& torchvision = lib.find("vgg19-torchvision")->manifest.files.at(0);
  EXPECT_EQ(torchvision.size, 574673361);
  EXPECT_EQ(torchvision.sha256, "dcbb9e9dad569fff7a846263a77324fc34978fea2bfb039c012d710e1776ae44");
  for (const auto& entry : lib.registry()) {
    for (const auto& file : entry.manifest.files) {
      // Every file is bounded: by its exact size, or by a stated upper bound.
      EXPECT_TRUE(file.size > 0 || file.maxSize > 0) << file.name;
      EXPECT_EQ(file.sha256PrefixOnly(), file.size == 0) << file.name;
    }
  }
  for (const auto& status : lib.list())
    EXPECT_EQ(status.sha256PrefixOnly, status.name == "vgg19" || status.name == "vgg16") << status.name;
}

TEST_F(ModelLibraryTest, VerificationSummarySaysWhatIsChecked) {
  const ModelLibrary lib(cache_);
  EXPECT_EQ(verificationSummary(lib.find("vgg19-torchvision")->manifest),
            "Checked: the exact size and the full SHA-256 of every file.");
  const std::string vgg19 = verificationSummary(lib.find("vgg19")->manifest);
  EXPECT_THAT(vgg19, HasSubstr("only the SHA-256 prefix d01eb7cb"));
  EXPECT_THAT(vgg19, HasSubstr("at most " + formatByteSize(lib.find("vgg19")->manifest.files[0].maxSize)));
  EXPECT_THAT(vgg19, HasSubstr("a larger download is refused"));
  EXPECT_THAT(verificationSummary(lib.find("vgg16")->manifest),
              HasSubstr("only the SHA-256 prefix 00b39a1b"));
}

// A small sequential ONNX network that loads; the seed makes each one distinct.
void writeTinyOnnx(const fs::path& path, int seed) {
  at::manual_seed(seed);
  test::OnnxWriter onnx;
  onnx.conv("conv1", "image", "c1", at::randn({4, 3, 3, 3}) * 0.3, at::zeros({4}), 1, 1)
      .relu("relu1", "c1", "r1")
      .maxPool("pool1", "r1", "p1", 2, 2)
      .output("p1");
  fs::create_directories(path.parent_path());
  onnx.save(path);
}

// Hidden staging and set-aside folders a replacement may leave in the cache.
std::vector<std::string> hiddenFolders(const fs::path& cache) {
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(cache))
    if (entry.path().filename().string().front() == '.') names.push_back(entry.path().filename().string());
  return names;
}

TEST_F(ModelLibraryTest, FailedReimportKeepsThePreviousCopyInstalledAndLoadable) {
  const fs::path good = scratch_.path() / "good" / "mine.onnx";
  writeTinyOnnx(good, 11);
  const auto lib = library();
  const fs::path installed = lib.importFile(good);
  ASSERT_EQ(installed, cache_ / "mine" / "mine.onnx");
  const std::string before = readAll(installed);
  const std::string manifestBefore = readAll(manifestPathFor(installed));

  // The same name, but not a network: the import must fail without touching the old copy.
  const fs::path bad = scratch_.path() / "bad" / "mine.onnx";
  fs::create_directories(bad.parent_path());
  writeAll(bad, "not a network at all, only junk under the same name");
  const Error e = captureError([&] { lib.importFile(bad); });
  EXPECT_EQ(e.kind(), ErrorKind::Model) << e.what();

  EXPECT_TRUE(lib.isInstalled("mine"));
  EXPECT_EQ(lib.resolveModelArgument("mine"), installed);
  EXPECT_EQ(readAll(installed), before);
  EXPECT_EQ(readAll(manifestPathFor(installed)), manifestBefore);
  const ModelPtr model = loadModelFile(installed);
  ASSERT_TRUE(model);
  EXPECT_FALSE(model->layerNames().empty());
  ASSERT_EQ(lib.verify().size(), 1u);
  EXPECT_TRUE(lib.verify()[0].ok) << lib.verify()[0].problem;
  EXPECT_TRUE(hiddenFolders(cache_).empty()) << hiddenFolders(cache_).front();
}

TEST_F(ModelLibraryTest, SuccessfulReimportReplacesEveryOldFile) {
  const fs::path first = scratch_.path() / "first" / "mine.onnx";
  writeTinyOnnx(first, 11);
  const auto lib = library();
  const fs::path installed = lib.importFile(first);
  writeAll(installed.parent_path() / "stale.bin", "left by the first import");

  const fs::path second = scratch_.path() / "second" / "mine.onnx";
  writeTinyOnnx(second, 12);
  ASSERT_NE(readAll(first), readAll(second));
  EXPECT_EQ(lib.importFile(second), installed);
  EXPECT_EQ(readAll(installed), readAll(second));
  EXPECT_FALSE(fs::exists(installed.parent_path() / "stale.bin"));
  EXPECT_TRUE(loadModelFile(installed));
  EXPECT_TRUE(hiddenFolders(cache_).empty()) << hiddenFolders(cache_).front();
}

TEST_F(ModelLibraryTest, OfflineMessageSaysWhereToPutTheFileAndHowToImportIt) {
  server_.setStatus("/org/repo/tiny.pth", 404);
  const auto lib = library();
  const Error e = captureError([&] { lib.install("tiny", {}, nullptr, server_.baseUrl()); });
  EXPECT_EQ(e.kind(), ErrorKind::Network);
  EXPECT_THAT(e.what(), HasSubstr(server_.url("/org/repo/tiny.pth")));
  EXPECT_THAT(e.what(), HasSubstr("impasto-cli models import /path/to/tiny.pth"));
  EXPECT_THAT(e.what(), HasSubstr((cache_ / "tiny" / "tiny.pth").string()));
  EXPECT_THAT(e.what(), HasSubstr("https_proxy"));
}

TEST_F(ModelLibraryTest, CancelledInstallKeepsThePartAndResolveSaysHowToResume) {
  server_.throttle(8 * 1024, 10);
  std::atomic<bool> cancel{false};
  const auto lib = library();
  const Error e = captureError([&] {
    lib.install(
        "tiny", [&](std::int64_t bytes, std::int64_t, double, double) { cancel = bytes >= 32 * 1024; },
        &cancel, server_.baseUrl());
  });
  EXPECT_EQ(e.kind(), ErrorKind::Cancelled);
  EXPECT_FALSE(fs::exists(cache_ / "tiny" / "tiny.pth"));
  EXPECT_TRUE(fs::exists(cache_ / "tiny" / "tiny.pth.part"));
  EXPECT_EQ(lib.list()[0].state, InstallState::Partial);
  const Error partial = captureError([&] { lib.resolveModelArgument("tiny"); });
  EXPECT_THAT(partial.what(), HasSubstr("impasto-cli models download tiny"));
  EXPECT_THAT(partial.what(), HasSubstr("partly downloaded"));
}

TEST_F(ModelLibraryTest, VerifyFindsADamagedFile) {
  const auto lib = library();
  lib.install("tiny", {}, nullptr, server_.baseUrl());
  auto checks = lib.verify();
  ASSERT_EQ(checks.size(), 1u);
  EXPECT_TRUE(checks[0].ok) << checks[0].problem;

  std::string damaged = weights_;
  damaged[1234] ^= 1;
  writeAll(cache_ / "tiny" / "tiny.pth", damaged);
  checks = lib.verify();
  ASSERT_EQ(checks.size(), 1u);
  EXPECT_FALSE(checks[0].ok);
  EXPECT_THAT(checks[0].problem, HasSubstr("checksum mismatch"));
}

TEST_F(ModelLibraryTest, ResolvesPathsAsIs) {
  const fs::path file = cache_ / "somewhere" / "my.onnx";
  fs::create_directories(file.parent_path());
  writeAll(file, "x");
  EXPECT_EQ(library().resolveModelArgument(file.string()), file);
  const Error missing = captureError([&] { library().resolveModelArgument((cache_ / "nope.pth").string()); });
  EXPECT_EQ(missing.kind(), ErrorKind::Model);
  EXPECT_THAT(missing.what(), HasSubstr("No such model file"));
}

TEST_F(ModelLibraryTest, UnknownNameListsTheKnownOnes) {
  const Error e = captureError([&] { library().resolveModelArgument("vgg42"); });
  EXPECT_EQ(e.kind(), ErrorKind::Model);
  EXPECT_THAT(e.what(), HasSubstr("Unknown model 'vgg42'"));
  EXPECT_THAT(e.what(), HasSubstr("tiny, tiny-tfjs"));
  const Error download = captureError([&] { library().install("vgg42"); });
  EXPECT_THAT(download.what(), HasSubstr("Unknown model 'vgg42'"));
}

TEST_F(ModelLibraryTest, BuiltInVgg19IsTheDefaultAndSaysHowToDownloadIt) {
  const ModelLibrary lib;  // built-in registry, cache from IMPASTO_MODEL_DIR
  const Error e = captureError([&] { lib.resolveModelArgument(""); });
  EXPECT_EQ(e.kind(), ErrorKind::Model);
  EXPECT_THAT(
      e.what(),
      HasSubstr("Model 'vgg19' is not installed. Download it with: impasto-cli models download vgg19 ("));
  EXPECT_THAT(e.what(), HasSubstr("548 MB)"));
  const Error tv = captureError([&] { lib.resolveModelArgument("vgg19-torchvision"); });
  EXPECT_THAT(tv.what(), HasSubstr("impasto-cli models download vgg19-torchvision (548 MB)"));
}

TEST_F(ModelLibraryTest, FilePlacedByHandInTheCacheCountsAsInstalled) {
  fs::create_directories(cache_ / "tiny");
  writeAll(cache_ / "tiny" / "tiny.pth", weights_);
  const auto lib = library();
  EXPECT_TRUE(lib.isInstalled("tiny"));
  EXPECT_EQ(lib.resolveModelArgument("tiny"), cache_ / "tiny" / "tiny.pth");
  EXPECT_EQ(readAll(cache_ / "tiny" / "tiny.json"), registry_[0].json)
      << "the manifest is written on first use";
}

TEST_F(ModelLibraryTest, ImportOfOtherContentUnderARegistryFileNameIsRefused) {
  const fs::path file = cache_ / "downloads" / "tiny.pth";
  fs::create_directories(file.parent_path());
  writeAll(file, randomBytes(weights_.size(), 5));
  const Error e = captureError([&] { library().importFile(file); });
  // tiny.pth carries no hash in its name, so other content is taken for another
  // model, which may not take the built-in name.
  EXPECT_EQ(e.kind(), ErrorKind::Usage);
  EXPECT_THAT(e.what(), HasSubstr("'tiny' is a built-in model"));
  EXPECT_FALSE(library().isInstalled("tiny"));
}

TEST_F(ModelLibraryTest, ImportOfANamedRegistryFileChecksItsHash) {
  const std::string body = randomBytes(1000, 8);
  registry_.push_back(tinyEntry("hashed", {{"hashed-" + Sha256::hashHex(body).substr(0, 8) + ".pth", body}},
                                "hashed-" + Sha256::hashHex(body).substr(0, 8) + ".pth"));
  const fs::path file = cache_ / "downloads" / registry_.back().manifest.weightsFile;
  fs::create_directories(file.parent_path());
  writeAll(file, randomBytes(1000, 9));
  const Error e = captureError([&] { library().importFile(file); });
  EXPECT_EQ(e.kind(), ErrorKind::Model);
  EXPECT_THAT(e.what(), HasSubstr("is not the file 'hashed' needs"));
  EXPECT_THAT(e.what(), HasSubstr("Nothing was installed"));
  EXPECT_FALSE(fs::exists(cache_ / "hashed" / file.filename()));
}

TEST_F(ModelLibraryTest, ImportOfAFileThatIsNoModelLeavesNothingBehind) {
  const fs::path file = cache_ / "downloads" / "junk.onnx";
  fs::create_directories(file.parent_path());
  writeAll(file, "definitely not a network");
  const Error e = captureError([&] { library().importFile(file); });
  EXPECT_EQ(e.kind(), ErrorKind::Model);
  EXPECT_FALSE(fs::exists(cache_ / "junk" / "junk.onnx"));
  EXPECT_FALSE(fs::exists(cache_ / "junk" / "junk.json"));
  for (const auto& entry : fs::directory_iterator(cache_))
    EXPECT_NE(entry.path().filename().string().rfind(".import-", 0), 0u) << "staging folder left behind";
}

TEST_F(ModelLibraryTest, ImportOfAMissingFileIsAnInputError) {
  EXPECT_EQ(captureError([&] { library().importFile(cache_ / "nope.pth"); }).kind(), ErrorKind::Input);
}

TEST(BuiltinRegistryTest, ShipsTheVggModelsWithUsableEntries) {
  const auto registry = builtinRegistry();
  std::set<std::string> names;
  for (const auto& entry : registry) {
    names.insert(entry.manifest.name);
    ASSERT_FALSE(entry.manifest.files.empty()) << entry.manifest.name;
    const auto& weightsFile = entry.manifest.weightsFile;
    EXPECT_TRUE(std::any_of(entry.manifest.files.begin(), entry.manifest.files.end(),
                            [&](const ModelFile& f) { return f.name == weightsFile; }))
        << entry.manifest.name;
    for (const auto& file : entry.manifest.files) {
      EXPECT_FALSE(file.urls.empty()) << file.name;
      EXPECT_GE(file.sha256.size(), 8u) << file.name;
    }
    EXPECT_GT(entry.downloadSize, 0) << entry.manifest.name;
  }
  for (const char* name : {"vgg19", "vgg19-torchvision", "vgg16", "vgg16-torchvision"})
    EXPECT_EQ(names.count(name), 1u) << name;

  const auto tv = std::find_if(registry.begin(), registry.end(),
                               [](const RegistryEntry& e) { return e.manifest.name == "vgg19-torchvision"; });
  ASSERT_NE(tv, registry.end());
  EXPECT_EQ(tv->manifest.files[0].size, 574673361);
  EXPECT_EQ(tv->manifest.files[0].sha256, "dcbb9e9dad569fff7a846263a77324fc34978fea2bfb039c012d710e1776ae44");
  EXPECT_TRUE(tv->downloadSizeExact);
  const auto caffe = std::find_if(registry.begin(), registry.end(),
                                  [](const RegistryEntry& e) { return e.manifest.name == "vgg19"; });
  ASSERT_NE(caffe, registry.end());
  EXPECT_TRUE(caffe->manifest.input.bgr);
  EXPECT_FLOAT_EQ(caffe->manifest.input.scale, 255.f);
  EXPECT_EQ(caffe->manifest.defaultContentLayer, "relu4_2");
}

TEST(BuiltinRegistryTest, DarknetReferenceDownloadsOnlyTheShardsBlocksOneToFiveNeed) {
  const auto registry = builtinRegistry();
  const auto darknet = std::find_if(registry.begin(), registry.end(), [](const RegistryEntry& e) {
    return e.manifest.name == "darknet-reference";
  });
  if (darknet == registry.end())
    GTEST_SKIP() << "resources/models/darknet-reference.json has no registry fields yet";
  EXPECT_EQ(darknet->manifest.format, "tfjs");
  EXPECT_EQ(darknet->manifest.weightsFile, "model.json");
  EXPECT_EQ(darknet->manifest.files.size(), 11u);
  EXPECT_TRUE(darknet->downloadSizeExact);
  if (!fs::exists(kSharedDarknet / "tfjs")) return;
  for (const auto& file : darknet->manifest.files) {
    const fs::path local = kSharedDarknet / "tfjs" / file.name;
    ASSERT_TRUE(fs::exists(local)) << local;
    EXPECT_EQ(std::int64_t(fs::file_size(local)), file.size) << file.name;
    EXPECT_EQ(sha256File(local), file.sha256) << file.name;
  }
}

// End to end with the real pretrained model, when this machine has it.
TEST_F(ModelLibraryTest, InstallsDarknetReferenceFromALocalMirrorAndImportsIt) {
  const auto registry = builtinRegistry();
  const auto darknet = std::find_if(registry.begin(), registry.end(), [](const RegistryEntry& e) {
    return e.manifest.name == "darknet-reference";
  });
  if (darknet == registry.end() || !fs::exists(kSharedDarknet / "tfjs"))
    GTEST_SKIP() << "needs the darknet-reference registry entry and ../shared";

  // A mirror folder that reproduces the registry URLs' paths.
  const fs::path mirror = cache_ / "mirror";
  for (const auto& file : darknet->manifest.files) {
    const std::string url = file.urls.front();
    const fs::path path = mirror / url.substr(url.find('/', url.find("://") + 3) + 1);
    fs::create_directories(path.parent_path());
    fs::copy_file(kSharedDarknet / "tfjs" / file.name, path);
  }
  const ModelLibrary lib(cache_ / "cache");
  const fs::path weights = lib.install("darknet-reference", {}, nullptr, mirror.string());
  EXPECT_EQ(weights, cache_ / "cache" / "darknet-reference" / "model.json");
  EXPECT_TRUE(lib.isInstalled("darknet-reference"));
  EXPECT_NO_THROW(validateModelFile(weights));
  for (const auto& check : lib.verify()) EXPECT_TRUE(check.ok) << check.path << ": " << check.problem;

  // Importing the same files from the shared folder installs the same model.
  const ModelLibrary other(cache_ / "other");
  EXPECT_EQ(other.importFile(kSharedDarknet / "tfjs" / "model.json"),
            cache_ / "other" / "darknet-reference" / "model.json");
  EXPECT_TRUE(other.isInstalled("darknet-reference"));
}

TEST_F(ModelLibraryTest, ImportsAnOnnxModelUnderItsManifestName) {
  const fs::path onnx = kSharedDarknet / "darknet-reference-conv5.onnx";
  if (!fs::exists(onnx)) GTEST_SKIP() << "needs ../shared";
  auto manifest = nlohmann::json::parse(readAll(kSharedDarknet / "darknet-reference-conv5.json"));
  manifest["name"] = "my-darknet";
  const fs::path manifestPath = cache_ / "my-darknet.json";
  fs::create_directories(cache_);
  writeAll(manifestPath, manifest.dump());

  const auto lib = library();
  const fs::path weights = lib.importFile(onnx, manifestPath);
  EXPECT_EQ(weights, cache_ / "my-darknet" / "darknet-reference-conv5.onnx");
  const ModelManifest installed = readManifest(manifestPathFor(weights));
  EXPECT_EQ(installed.name, "my-darknet");
  EXPECT_EQ(installed.defaultContentLayer, "leaky4");
  ASSERT_EQ(installed.files.size(), 1u);
  EXPECT_EQ(installed.files[0].sha256, sha256File(onnx));

  EXPECT_TRUE(lib.isInstalled("my-darknet"));
  EXPECT_EQ(lib.resolveModelArgument("my-darknet"), weights);
  const auto statuses = lib.list();
  ASSERT_EQ(statuses.size(), 3u);
  EXPECT_EQ(statuses[2].name, "my-darknet");
  EXPECT_FALSE(statuses[2].builtIn);
  const auto checks = lib.verify();
  ASSERT_EQ(checks.size(), 1u);
  EXPECT_TRUE(checks[0].ok) << checks[0].problem;

  // A manifest that takes a built-in name is refused.
  manifest["name"] = "tiny";
  writeAll(manifestPath, manifest.dump());
  const Error clash = captureError([&] { lib.importFile(onnx, manifestPath); });
  EXPECT_EQ(clash.kind(), ErrorKind::Usage);
  EXPECT_THAT(clash.what(), HasSubstr("built-in model"));
}

}  // namespace
}  // namespace impasto
