#include "core/io/private_file.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include "core/models/caffe_model.h"
#include "core/util/error.h"
#include "tests/support/test_support.h"

namespace impasto {
namespace {

namespace fs = std::filesystem;
using test::captureError;
using test::readAll;
using test::writeAll;

class PrivateFileTest : public ::testing::Test {
 protected:
  test::ScratchDir scratch_{"impasto-private-file-test"};
  const fs::path dir_ = scratch_.path();
  const fs::path victim_ = dir_ / "victim.txt";

  void SetUp() override { writeAll(victim_, "precious"); }
};

TEST_F(PrivateFileTest, CreatesANewFileOnlyWeCanRead) {
  const fs::path path = dir_ / "new.part";
  {
    const FilePtr file = createFileExclusively(path);
    ASSERT_GE(std::fputs("abc", file.get()), 0);
  }
  EXPECT_EQ(readAll(path), "abc");
  struct stat info {};
  ASSERT_EQ(::stat(path.c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0600u);
}

TEST_F(PrivateFileTest, CreationRefusesAnythingAlreadyThere) {
  const fs::path link = dir_ / "link.part";
  const fs::path dangling = dir_ / "dangling.part";
  fs::create_symlink(victim_, link);
  fs::create_symlink(dir_ / "would-be-created", dangling);
  for (const fs::path& path : {link, dangling, victim_}) {
    const Error e = captureError([&] { createFileExclusively(path); });
    EXPECT_EQ(e.kind(), ErrorKind::Output);
    EXPECT_NE(std::string(e.what()).find(path.string()), std::string::npos) << e.what();
  }
  EXPECT_EQ(readAll(victim_), "precious");
  EXPECT_FALSE(fs::exists(dir_ / "would-be-created"));
}

TEST_F(PrivateFileTest, AppendingResumesOurOwnFile) {
  const fs::path path = dir_ / "resume.part";
  writeAll(path, "abc");
  {
    const FilePtr file = openOwnFileForAppend(path);
    std::fputs("def", file.get());
  }
  EXPECT_EQ(readAll(path), "abcdef");
}

TEST_F(PrivateFileTest, AppendingRefusesSymlinksAndSpecialFiles) {
  const fs::path link = dir_ / "link.part";
  fs::create_symlink(victim_, link);
  const fs::path fifo = dir_ / "fifo.part";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  for (const fs::path& path : {link, fifo, dir_}) {
    const Error e = captureError([&] { openOwnFileForAppend(path); });
    EXPECT_EQ(e.kind(), ErrorKind::Output) << path;
  }
  EXPECT_EQ(readAll(victim_), "precious");
}

TEST_F(PrivateFileTest, PrivateTempDirIsUnguessableClosedAndRemoved) {
  fs::path first;
  {
    const PrivateTempDir a(dir_, "x-");
    const PrivateTempDir b(dir_, "x-");
    first = a.path();
    EXPECT_NE(a.path(), b.path());
    EXPECT_EQ(a.path().parent_path(), dir_);
    EXPECT_EQ(a.path().filename().string().rfind("x-", 0), 0u);
    EXPECT_EQ(fs::status(a.path()).permissions() & fs::perms::all, fs::perms::owner_all);
    writeAll(a.path() / "inside", "x");
  }
  EXPECT_FALSE(fs::exists(first));
}

// The built-in VGG prototxt used to go to /tmp/impasto-<pid>-<n>-<name> through
// a plain ofstream: symlinks planted at those names would overwrite their target.
TEST_F(PrivateFileTest, BuiltInCaffePrototxtIgnoresSymlinksPlantedInTmp) {
  const fs::path tmp = dir_ / "tmp";
  fs::create_directories(tmp);
  test::ScopedEnv tmpdir("TMPDIR", tmp.c_str());
  for (int n = 0; n < 64; ++n)
    fs::create_symlink(victim_, tmp / ("impasto-" + std::to_string(::getpid()) + "-" + std::to_string(n) +
                                       "-vgg19_deploy.prototxt"));
  const fs::path weights = dir_ / "VGG_ILSVRC_19_layers.caffemodel";
  writeAll(weights, "not a caffemodel");
  const auto prototxt = findCaffePrototxt(weights);
  ASSERT_TRUE(prototxt.has_value());
  ASSERT_TRUE(prototxt->file.empty()) << "the built-in prototxt";

  EXPECT_EQ(captureError([&] { readCaffeLayers(*prototxt, weights); }).kind(), ErrorKind::Model);
  EXPECT_EQ(readAll(victim_), "precious");
  int left = 0;
  for (const auto& entry : fs::directory_iterator(tmp)) left += entry.is_symlink() ? 0 : 1;
  EXPECT_EQ(left, 0) << "the private temporary folder is removed";
}

}  // namespace
}  // namespace impasto
