// The guards every reader of files from strangers goes through: JSON nesting
// and paths that must stay inside a model's folder.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "core/util/error.h"
#include "core/util/json_depth.h"
#include "core/util/text.h"
#include "tests/support/test_support.h"

namespace impasto {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

TEST(JsonDepth, CountsNestingAndIgnoresBracketsInStrings) {
  EXPECT_EQ(jsonNestingDepth("42"), 0u);
  EXPECT_EQ(jsonNestingDepth(R"({"a": [1, {"b": []}]})"), 4u);
  EXPECT_EQ(jsonNestingDepth(R"({"a": "[[[{{{", "b": "\"[[["})"), 1u);
  EXPECT_EQ(jsonNestingDepth(R"(["\\", [[]]])"), 3u) << "an escaped backslash ends before the quote";
  const std::string deep = std::string(1000000, '[') + std::string(1000000, ']');
  EXPECT_GT(jsonNestingDepth(deep), kMaxJsonDepth);
  const std::string fine = std::string(kMaxJsonDepth, '[') + std::string(kMaxJsonDepth, ']');
  EXPECT_NO_THROW(requireJsonDepth(fine, ErrorKind::Model, "x"));
  const Error e =
      test::captureError([&] { requireJsonDepth(deep, ErrorKind::Model, "Model manifest m.json"); });
  EXPECT_EQ(e.kind(), ErrorKind::Model);
  EXPECT_THAT(e.what(), HasSubstr("Model manifest m.json nests deeper than 64 levels"));
}

TEST(PathInside, KeepsAModelsFilesInItsFolder) {
  test::ScratchDir scratch("impasto-path-inside");
  const fs::path model = scratch.path() / "model";
  const fs::path outside = scratch.path() / "outside";
  fs::create_directories(model / "sub");
  fs::create_directories(outside);
  test::writeAll(model / "sub" / "shard.bin", "ok");
  test::writeAll(outside / "secret.bin", "not yours");

  EXPECT_EQ(pathInside(model, "sub/shard.bin", "a shard"), model / "sub" / "shard.bin");
  EXPECT_EQ(pathInside(model, "missing.bin", "a shard"), model / "missing.bin") << "the reader reports it";

  const std::pair<std::string, std::string> refused[] = {
      {"../outside/secret.bin", "climbs out"},
      {"sub/../../outside/secret.bin", "climbs out"},
      {(outside / "secret.bin").string(), "absolute path"},
  };
  for (const auto& [path, why] : refused) {
    const Error e = test::captureError([&] { pathInside(model, path, "a shard"); });
    EXPECT_EQ(e.kind(), ErrorKind::Model) << path;
    EXPECT_THAT(e.what(), HasSubstr(why)) << path;
  }
  fs::create_symlink(outside / "secret.bin", model / "link.bin");
  fs::create_directory_symlink(outside, model / "linked-dir");
  for (const char* path : {"link.bin", "linked-dir/secret.bin"}) {
    const Error e = test::captureError([&] { pathInside(model, path, "a shard"); });
    EXPECT_THAT(e.what(), HasSubstr("a link that leads out")) << path;
  }
  fs::create_symlink(model / "sub" / "shard.bin", model / "inner-link.bin");
  EXPECT_NO_THROW(pathInside(model, "inner-link.bin", "a shard")) << "a link within the folder is fine";
}

}  // namespace
}  // namespace impasto
