// `impasto-cli models ...` end to end: exit codes and messages a user sees.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "core/library/model_library.h"
#include "tests/support/http_test_server.h"
#include "tests/support/test_paths.h"
#include "tests/support/test_support.h"

namespace impasto {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::Not;

const fs::path kSharedTfjs = test::sharedDir() / "models" / "darknet-reference" / "tfjs";

class ModelsCommandTest : public ::testing::Test {
 protected:
  // stdout and stderr together.
  test::RunResult run(const std::string& arguments) const {
    return test::runShell("env -u IMPASTO_MODEL_MIRROR IMPASTO_MODEL_DIR='" + cache_.string() + "' '" +
                          test::cliPath() + "' models " + arguments + " 2>&1 </dev/null");
  }

  // Serves the shared darknet-reference files under their registry URL paths.
  bool serveDarknet(test::HttpTestServer& server) const {
    if (!fs::exists(kSharedTfjs)) return false;
    for (const auto& entry : builtinRegistry()) {
      if (entry.manifest.name != "darknet-reference") continue;
      for (const auto& file : entry.manifest.files) {
        const std::string& url = file.urls.front();
        std::ifstream in(kSharedTfjs / file.name, std::ios::binary);
        server.addFile(url.substr(url.find('/', url.find("://") + 3)),
                       std::string(std::istreambuf_iterator<char>(in), {}));
      }
      return true;
    }
    return false;
  }

  // The command makes its cache folder itself, so the tests start without one.
  test::ScratchDir scratch_{"impasto-models-cli-test"};
  const fs::path cache_ = scratch_.path() / "cache";
};

TEST_F(ModelsCommandTest, ListShowsTheBuiltInModelsAndTheDefault) {
  const auto r = run("list");
  EXPECT_EQ(r.exitCode, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr(cache_.string()));
  EXPECT_THAT(r.output, HasSubstr("* vgg19 "));
  EXPECT_THAT(r.output, HasSubstr("vgg16-torchvision"));
  EXPECT_THAT(r.output, HasSubstr("not installed"));
}

TEST_F(ModelsCommandTest, ListSaysWhichModelsAreCheckedByAHashPrefixOnly) {
  const auto r = run("list");
  EXPECT_EQ(r.exitCode, 0) << r.output;
  // The line of each model, from its name to the end of the line.
  const auto line = [&](const std::string& name) {
    const auto start = r.output.find(" " + name + " ");
    return start == std::string::npos ? std::string()
                                      : r.output.substr(start, r.output.find('\n', start) - start);
  };
  EXPECT_THAT(line("vgg19"), HasSubstr("[SHA-256 prefix only]"));
  EXPECT_THAT(line("vgg16"), HasSubstr("[SHA-256 prefix only]"));
  EXPECT_THAT(line("vgg19-torchvision"), Not(HasSubstr("prefix")));
  EXPECT_THAT(line("darknet-reference"), Not(HasSubstr("prefix")));
  EXPECT_THAT(r.output,
              HasSubstr("only that prefix is checked, and a download larger than the stated size bound "
                        "is refused"));
}

TEST_F(ModelsCommandTest, UsageErrorsExitWithTwo) {
  EXPECT_EQ(run("").exitCode, 2);
  EXPECT_EQ(run("frobnicate").exitCode, 2);
  EXPECT_EQ(run("download").exitCode, 2);
  EXPECT_EQ(run("download vgg19 --bogus").exitCode, 2);
  EXPECT_EQ(run("--help").exitCode, 0);
}

TEST_F(ModelsCommandTest, HelpAfterAnySubcommandPrintsItsUsage) {
  for (const std::string command : {"list", "download", "import", "verify"}) {
    const auto r = run(command + " --help");
    EXPECT_EQ(r.exitCode, 0) << command << "\n" << r.output;
    EXPECT_THAT(r.output, HasSubstr("Usage: impasto-cli models " + command)) << r.output;
  }
  EXPECT_THAT(run("download --help").output, HasSubstr("--mirror"));
  EXPECT_THAT(run("import --help").output, HasSubstr("--manifest"));
  // A wrong flag points at the help of the command it was given to.
  EXPECT_THAT(run("download vgg19 --bogus").output, HasSubstr("impasto-cli models download --help"));
}

TEST_F(ModelsCommandTest, UnknownModelExitsWithThree) {
  const auto r = run("download vgg42");
  EXPECT_EQ(r.exitCode, 3);
  EXPECT_THAT(r.output, HasSubstr("Known models:"));
}

TEST_F(ModelsCommandTest, UnreachableMirrorExitsWithFourAndExplainsWhatToDo) {
  test::HttpTestServer server;
  server.setStatus(
      "/ml5js/ml5-data-and-models/e77bfb7484bb37babeaba4d1fbf8ea119f14cee6/models/darknetclassifier/"
      "darknetreference/model.json",
      404);
  const auto r = run("download darknet-reference --mirror " + server.baseUrl());
  if (r.output.find("Unknown model") != std::string::npos)
    GTEST_SKIP() << "no darknet-reference in the registry";
  EXPECT_EQ(r.exitCode, 4) << r.output;
  EXPECT_THAT(r.output, HasSubstr("HTTP 404"));
  EXPECT_THAT(r.output, HasSubstr("impasto-cli models import FOLDER/model.json"));
  EXPECT_THAT(r.output, HasSubstr((cache_ / "darknet-reference").string()));
}

TEST_F(ModelsCommandTest, AServerSendingMoreThanTheFileHasIsStoppedAndLeavesNothing) {
  // darknet-reference's model.json has an exact size in the registry; this
  // server streams 64 MB in its place, with no Content-Length to warn of it.
  const RegistryEntry* entry = nullptr;
  const auto registry = builtinRegistry();
  for (const auto& e : registry)
    if (e.manifest.name == "darknet-reference") entry = &e;
  if (entry == nullptr) GTEST_SKIP() << "no darknet-reference in the registry";
  const ModelFile& file = entry->manifest.files.front();
  ASSERT_GT(file.size, 0);
  const std::string& url = file.urls.front();
  const std::string path = url.substr(url.find('/', url.find("://") + 3));
  test::HttpTestServer server;
  server.addFile(path, std::string(64 << 20, '{'));
  server.omitLength(path);

  const auto r = run("download darknet-reference --mirror " + server.baseUrl());
  EXPECT_EQ(r.exitCode, 4) << r.output;
  EXPECT_THAT(r.output, HasSubstr("more than the expected " + std::to_string(file.size)));
  const auto requests = server.finishedRequests();
  ASSERT_EQ(requests.size(), 1u) << "a file that is too large is not retried";
  EXPECT_LT(requests[0].bodyBytesSent, 32 << 20);
  EXPECT_FALSE(fs::exists(cache_ / "darknet-reference" / file.name));
  EXPECT_FALSE(fs::exists(cache_ / "darknet-reference" / (file.name + ".part")));
}

TEST_F(ModelsCommandTest, DownloadListVerifyAndImportDarknetReference) {
  test::HttpTestServer server;
  if (!serveDarknet(server)) GTEST_SKIP() << "needs ../shared and the darknet-reference registry entry";
  auto r = run("download darknet-reference --mirror " + server.baseUrl());
  ASSERT_EQ(r.exitCode, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr((cache_ / "darknet-reference" / "model.json").string()));
  EXPECT_TRUE(fs::exists(cache_ / "darknet-reference" / "impasto.json"));

  r = run("list");
  EXPECT_THAT(r.output, HasSubstr("installed"));
  r = run("verify");
  EXPECT_EQ(r.exitCode, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("ok    darknet-reference"));

  r = run("download darknet-reference");
  EXPECT_EQ(r.exitCode, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("already installed"));

  // A damaged shard is reported with exit code 3.
  {
    std::ofstream damage(cache_ / "darknet-reference" / "group1-shard1of1", std::ios::binary | std::ios::in);
    damage.seekp(7);
    damage.put('\x42');
  }
  r = run("verify");
  EXPECT_EQ(r.exitCode, 3) << r.output;
  EXPECT_THAT(r.output, HasSubstr("BAD   darknet-reference"));

  fs::remove_all(cache_);
  r = run("import " + (kSharedTfjs / "model.json").string());
  EXPECT_EQ(r.exitCode, 0) << r.output;
  EXPECT_TRUE(fs::exists(cache_ / "darknet-reference" / "group12-shard1of1"));
}

TEST_F(ModelsCommandTest, ImportOfJunkExitsWithThree) {
  fs::create_directories(cache_);
  const fs::path junk = cache_ / "junk.onnx";
  std::ofstream(junk) << "not a model";
  const auto r = run("import " + junk.string());
  EXPECT_EQ(r.exitCode, 3) << r.output;
}

}  // namespace
}  // namespace impasto
