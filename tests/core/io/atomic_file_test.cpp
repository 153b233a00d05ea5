#include "core/io/atomic_file.h"

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "core/util/error.h"
#include "tests/support/test_support.h"

namespace impasto {
namespace {

namespace fs = std::filesystem;

class AtomicFileTest : public ::testing::Test {
 protected:
  std::set<std::string> entries(const fs::path& dir) const {
    std::set<std::string> names;
    for (const auto& entry : fs::directory_iterator(dir)) names.insert(entry.path().filename().string());
    return names;
  }

  static bool runningAsRoot() { return ::geteuid() == 0; }

  test::ScratchDir scratch_{"impasto-atomic"};
  const fs::path dir_ = scratch_.path();
};

using test::captureError;
using test::readAll;

TEST_F(AtomicFileTest, WritesExactBytesAndLeavesNoTemporaryFile) {
  const std::string bytes("binary\0data\xff\n", 13);
  writeFileAtomically(dir_ / "out.bin", bytes);
  EXPECT_EQ(readAll(dir_ / "out.bin"), bytes);
  EXPECT_EQ(entries(dir_), std::set<std::string>{"out.bin"});
}

TEST_F(AtomicFileTest, ReplacesAnExistingFileCompletely) {
  writeFileAtomically(dir_ / "out.txt", std::string(10000, 'a'));
  writeFileAtomically(dir_ / "out.txt", "short");
  EXPECT_EQ(readAll(dir_ / "out.txt"), "short");
  EXPECT_EQ(entries(dir_), std::set<std::string>{"out.txt"});
}

TEST_F(AtomicFileTest, WritesAnEmptyFile) {
  writeFileAtomically(dir_ / "empty", "");
  ASSERT_TRUE(fs::exists(dir_ / "empty"));
  EXPECT_EQ(fs::file_size(dir_ / "empty"), 0u);
}

TEST_F(AtomicFileTest, MissingDirectoryIsAnOutputErrorNamingThePath) {
  const fs::path target = dir_ / "missing" / "out.png";
  const Error error = captureError([&] { writeFileAtomically(target, "data"); });
  EXPECT_EQ(error.kind(), ErrorKind::Output);
  EXPECT_NE(std::string(error.what()).find(target.string()), std::string::npos) << error.what();
  EXPECT_NE(std::string(error.what()).find("No such file or directory"), std::string::npos) << error.what();
  EXPECT_FALSE(fs::exists(dir_ / "missing"));
  EXPECT_TRUE(entries(dir_).empty());
}

TEST_F(AtomicFileTest, FailedRenameRemovesTheTemporaryFile) {
  // A directory in the way makes the final rename fail after the data was written.
  fs::create_directory(dir_ / "taken");
  fs::create_directory(dir_ / "taken" / "child");
  const Error error = captureError([&] { writeFileAtomically(dir_ / "taken", std::string(4096, 'x')); });
  EXPECT_EQ(error.kind(), ErrorKind::Output);
  EXPECT_NE(std::string(error.what()).find((dir_ / "taken").string()), std::string::npos) << error.what();
  EXPECT_EQ(entries(dir_), std::set<std::string>{"taken"});
  EXPECT_TRUE(fs::is_directory(dir_ / "taken" / "child"));
}

TEST_F(AtomicFileTest, ReadOnlyDirectoryFailsWithoutLeavingAFile) {
  if (runningAsRoot()) GTEST_SKIP() << "root ignores directory permissions";
  fs::permissions(dir_, fs::perms::owner_read | fs::perms::owner_exec);
  const Error error = captureError([&] { writeFileAtomically(dir_ / "out.png", "data"); });
  fs::permissions(dir_, fs::perms::owner_all);
  EXPECT_EQ(error.kind(), ErrorKind::Output);
  EXPECT_NE(std::string(error.what()).find("Permission denied"), std::string::npos) << error.what();
  EXPECT_TRUE(entries(dir_).empty());
}

TEST_F(AtomicFileTest, ConcurrentWritersNeverMixTheirBytes) {
  const fs::path target = dir_ / "shared.txt";
  std::vector<std::string> payloads;
  for (char c = 'a'; c < 'a' + 8; ++c) payloads.emplace_back(200000, c);
  std::vector<std::thread> threads;
  for (const std::string& payload : payloads) {
    threads.emplace_back([&target, &payload] {
      for (int i = 0; i < 5; ++i) writeFileAtomically(target, payload);
    });
  }
  for (std::thread& thread : threads) thread.join();
  const std::string result = readAll(target);
  ASSERT_EQ(result.size(), 200000u);
  EXPECT_EQ(result, std::string(200000, result[0]));
  EXPECT_EQ(entries(dir_), std::set<std::string>{"shared.txt"});
}

TEST_F(AtomicFileTest, CheckOutputWritableAcceptsAWritableDirectoryAndLeavesNothing) {
  EXPECT_NO_THROW(checkOutputWritable(dir_ / "result.png"));
  EXPECT_TRUE(entries(dir_).empty());
}

TEST_F(AtomicFileTest, CheckOutputWritableNamesAMissingDirectory) {
  const fs::path missing = dir_ / "nope";
  const Error error = captureError([&] { checkOutputWritable(missing / "result.png"); });
  EXPECT_EQ(error.kind(), ErrorKind::Output);
  const std::string message = error.what();
  EXPECT_NE(message.find(missing.string() + " does not exist"), std::string::npos) << message;
  EXPECT_NE(message.find("Create it"), std::string::npos) << message;
}

TEST_F(AtomicFileTest, CheckOutputWritableRefusesADirectoryAsTheOutput) {
  fs::create_directory(dir_ / "folder");
  const Error error = captureError([&] { checkOutputWritable(dir_ / "folder"); });
  EXPECT_EQ(error.kind(), ErrorKind::Output);
  EXPECT_NE(std::string(error.what()).find("is a directory"), std::string::npos) << error.what();
}

TEST_F(AtomicFileTest, CheckOutputWritableRefusesAFileAsTheDirectory) {
  writeFileAtomically(dir_ / "plain", "x");
  const Error error = captureError([&] { checkOutputWritable(dir_ / "plain" / "result.png"); });
  EXPECT_EQ(error.kind(), ErrorKind::Output);
  EXPECT_NE(std::string(error.what()).find("is not a directory"), std::string::npos) << error.what();
}

TEST_F(AtomicFileTest, CheckOutputWritableRefusesAReadOnlyDirectory) {
  if (runningAsRoot()) GTEST_SKIP() << "root ignores directory permissions";
  fs::permissions(dir_, fs::perms::owner_read | fs::perms::owner_exec);
  const Error error = captureError([&] { checkOutputWritable(dir_ / "result.png"); });
  fs::permissions(dir_, fs::perms::owner_all);
  EXPECT_EQ(error.kind(), ErrorKind::Output);
  EXPECT_NE(std::string(error.what()).find(dir_.string()), std::string::npos) << error.what();
  EXPECT_NE(std::string(error.what()).find("Permission denied"), std::string::npos) << error.what();
}

TEST_F(AtomicFileTest, ReadFileBytesReturnsBinaryContent) {
  std::string bytes(70000, '\0');
  for (std::size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<char>(i * 31);
  {
    std::ofstream out(dir_ / "data.bin", std::ios::binary);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  }
  EXPECT_EQ(readFileBytes(dir_ / "data.bin"), bytes);
}

TEST_F(AtomicFileTest, ReadFileBytesOfAMissingFileSaysNoSuchFile) {
  const fs::path missing = dir_ / "absent.jpg";
  const Error error = captureError([&] { readFileBytes(missing); });
  EXPECT_EQ(error.kind(), ErrorKind::Input);
  EXPECT_EQ(std::string(error.what()), "No such file: " + missing.string());
}

TEST_F(AtomicFileTest, ReadFileBytesOfADirectoryIsAnInputError) {
  const Error error = captureError([&] { readFileBytes(dir_); });
  EXPECT_EQ(error.kind(), ErrorKind::Input);
  EXPECT_NE(std::string(error.what()).find("directory"), std::string::npos) << error.what();
}

TEST_F(AtomicFileTest, ReadFileBytesOfAnUnreadableFileSaysCannotRead) {
  if (runningAsRoot()) GTEST_SKIP() << "root ignores file permissions";
  writeFileAtomically(dir_ / "secret", "x");
  fs::permissions(dir_ / "secret", fs::perms::none);
  const Error error = captureError([&] { readFileBytes(dir_ / "secret"); });
  EXPECT_EQ(error.kind(), ErrorKind::Input);
  EXPECT_NE(std::string(error.what()).find("Cannot read"), std::string::npos) << error.what();
}

}  // namespace
}  // namespace impasto
