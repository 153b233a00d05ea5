#include "core/library/downloader.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <vector>

#include "core/library/sha256.h"
#include "core/util/error.h"
#include "core/util/text.h"
#include "tests/support/http_test_server.h"
#include "tests/support/test_support.h"

namespace impasto {
namespace {

namespace fs = std::filesystem;
using test::HttpTestServer;
using test::randomBytes;
using test::readAll;
using test::ScopedEnv;
using test::writeAll;

class DownloaderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    body_ = randomBytes(600 * 1024, 7);
    server_.addFile("/models/weights.bin", body_);
    options_.retryDelay = std::chrono::milliseconds(10);
    options_.connectTimeoutSeconds = 5;
  }

  fs::path dest() const { return dir_ / "weights.bin"; }
  fs::path part() const { return partialDownloadPath(dest()); }
  std::string hash() const { return Sha256::hashHex(body_); }

  test::ScratchDir scratch_{"impasto-downloader-test"};
  const fs::path dir_ = scratch_.path();
  std::string body_;
  HttpTestServer server_;
  DownloadOptions options_;
  ScopedEnv noMirror_{"IMPASTO_MODEL_MIRROR", nullptr};
};

// A port nothing listens on: bound, then closed.
int closedPort() {
  const int s = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(s, reinterpret_cast<sockaddr*>(&address), sizeof address);
  socklen_t length = sizeof address;
  ::getsockname(s, reinterpret_cast<sockaddr*>(&address), &length);
  ::close(s);
  return ntohs(address.sin_port);
}

TEST_F(DownloaderTest, DownloadsWithMonotonicProgressThatReachesTheSize) {
  server_.throttle(16 * 1024, 10);
  std::vector<std::int64_t> done;
  std::vector<std::int64_t> totals;
  options_.progress = [&](std::int64_t bytes, std::int64_t total, double rate, double eta) {
    done.push_back(bytes);
    totals.push_back(total);
    EXPECT_GE(rate, 0.0);
  };
  downloadFile({server_.url("/models/weights.bin")}, std::int64_t(body_.size()), hash(), dest(), options_);

  EXPECT_EQ(readAll(dest()), body_);
  EXPECT_FALSE(fs::exists(part()));
  ASSERT_GE(done.size(), 3u) << "a throttled 600 KB download should report several times";
  for (std::size_t i = 1; i < done.size(); ++i) EXPECT_GE(done[i], done[i - 1]);
  EXPECT_EQ(done.back(), std::int64_t(body_.size()));
  EXPECT_EQ(totals.back(), std::int64_t(body_.size()));
}

TEST_F(DownloaderTest, UnknownSizeAndHashStillDownloads) {
  std::int64_t lastTotal = -1;
  options_.progress = [&](std::int64_t, std::int64_t total, double, double) { lastTotal = total; };
  downloadFile({server_.url("/models/weights.bin")}, 0, "", dest(), options_);
  EXPECT_EQ(readAll(dest()), body_);
  EXPECT_EQ(lastTotal, std::int64_t(body_.size())) << "the total comes from Content-Length";
}

TEST_F(DownloaderTest, ResumesWithARangeRequestAfterTheConnectionIsCut) {
  server_.cutOnce("/models/weights.bin", 200 * 1024);
  downloadFile({server_.url("/models/weights.bin")}, std::int64_t(body_.size()), hash(), dest(), options_);

  EXPECT_EQ(readAll(dest()), body_);
  const auto requests = server_.requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[0].range, "");
  EXPECT_EQ(requests[1].range, "bytes=" + std::to_string(200 * 1024) + "-");
  EXPECT_EQ(requests[1].status, 206);
}

TEST_F(DownloaderTest, ResumesAnExistingPartFile) {
  writeAll(part(), body_.substr(0, 1000));
  downloadFile({server_.url("/models/weights.bin")}, std::int64_t(body_.size()), hash(), dest(), options_);
  EXPECT_EQ(readAll(dest()), body_);
  const auto requests = server_.requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].range, "bytes=1000-");
}

TEST_F(DownloaderTest, ServerThatIgnoresRangeRestartsFromZero) {
  writeAll(part(), std::string(1000, 'X'));  // would corrupt the file if appended to
  server_.ignoreRange("/models/weights.bin");
  downloadFile({server_.url("/models/weights.bin")}, std::int64_t(body_.size()), hash(), dest(), options_);
  EXPECT_EQ(readAll(dest()), body_);
  const auto requests = server_.requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].range, "bytes=1000-");
  EXPECT_EQ(requests[0].status, 200);
}

TEST_F(DownloaderTest, CorruptPartFromEarlierSessionGetsOneCleanRetry) {
  std::string wrong = body_.substr(0, 1000);
  wrong[10] ^= 0x55;
  writeAll(part(), wrong);
  downloadFile({server_.url("/models/weights.bin")}, std::int64_t(body_.size()), hash(), dest(), options_);
  EXPECT_EQ(readAll(dest()), body_);
  EXPECT_EQ(server_.requestCount("/models/weights.bin"), 2);
}

TEST_F(DownloaderTest, FallsBackToTheNextUrlOn404And500) {
  server_.setStatus("/missing", 404);
  server_.setStatus("/broken", 500);
  downloadFile({server_.url("/missing"), server_.url("/broken"), server_.url("/models/weights.bin")},
               std::int64_t(body_.size()), hash(), dest(), options_);
  EXPECT_EQ(readAll(dest()), body_);
  EXPECT_EQ(server_.requestCount("/missing"), 1) << "a 404 is not retried";
  EXPECT_EQ(server_.requestCount("/broken"), 1);
}

TEST_F(DownloaderTest, FallsBackWhenTheConnectionIsRefused) {
  const std::string refused = "http://127.0.0.1:" + std::to_string(closedPort()) + "/models/weights.bin";
  downloadFile({refused, server_.url("/models/weights.bin")}, std::int64_t(body_.size()), hash(), dest(),
               options_);
  EXPECT_EQ(readAll(dest()), body_);
}

TEST_F(DownloaderTest, FailureNamesEveryUrlAndWhy) {
  server_.setStatus("/missing", 404);
  server_.setStatus("/broken", 500);
  try {
    downloadFile({server_.url("/missing"), server_.url("/broken")}, 10, "", dest(), options_);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::Network);
    const std::string message = e.what();
    EXPECT_NE(message.find("weights.bin"), std::string::npos) << message;
    EXPECT_NE(message.find(server_.url("/missing") + ": HTTP 404"), std::string::npos) << message;
    EXPECT_NE(message.find(server_.url("/broken") + ": HTTP 500"), std::string::npos) << message;
  }
  EXPECT_FALSE(fs::exists(dest()));
  EXPECT_FALSE(fs::exists(part()));
}

TEST_F(DownloaderTest, ChecksumMismatchDeletesThePartAndReportsBothHashes) {
  const std::string wrong = Sha256::hashHex("something else");
  try {
    downloadFile({server_.url("/models/weights.bin")}, std::int64_t(body_.size()), wrong, dest(), options_);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::Network);
    const std::string message = e.what();
    EXPECT_NE(message.find(wrong), std::string::npos) << message;
    EXPECT_NE(message.find(hash()), std::string::npos) << message;
  }
  EXPECT_FALSE(fs::exists(dest()));
  EXPECT_FALSE(fs::exists(part()));
}

TEST_F(DownloaderTest, ChecksumPrefixIsEnough) {
  downloadFile({server_.url("/models/weights.bin")}, 0, hash().substr(0, 8), dest(), options_);
  EXPECT_EQ(readAll(dest()), body_);
}

TEST_F(DownloaderTest, WrongSizeIsRejected) {
  EXPECT_THROW(downloadFile({server_.url("/models/weights.bin")}, std::int64_t(body_.size()) + 5, "", dest(),
                            options_),
               Error);
  EXPECT_FALSE(fs::exists(dest()));
}

TEST_F(DownloaderTest, AStalledServerIsGivenUpOnAndNamed) {
  server_.throttle(1, 1500);  // a byte now and then: alive, but useless
  options_.lowSpeedBytesPerSecond = 1000;
  options_.lowSpeedSeconds = 1;
  options_.attemptsPerUrl = 2;
  const auto start = std::chrono::steady_clock::now();
  try {
    downloadFile({server_.url("/models/weights.bin")}, std::int64_t(body_.size()), hash(), dest(), options_);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::Network);
    EXPECT_NE(std::string(e.what()).find(server_.url("/models/weights.bin")), std::string::npos) << e.what();
  }
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(20));
  EXPECT_EQ(server_.requestCount("/models/weights.bin"), 2);
  EXPECT_FALSE(fs::exists(dest()));
}

TEST_F(DownloaderTest, CancelKeepsThePartAndNeverCreatesTheDestination) {
  server_.throttle(8 * 1024, 10);
  std::atomic<bool> cancel{false};
  options_.cancel = &cancel;
  options_.progress = [&](std::int64_t done, std::int64_t, double, double) {
    if (done >= 64 * 1024) cancel = true;
  };
  try {
    downloadFile({server_.url("/models/weights.bin")}, std::int64_t(body_.size()), hash(), dest(), options_);
    FAIL() << "expected cancellation";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::Cancelled);
  }
  EXPECT_FALSE(fs::exists(dest()));
  ASSERT_TRUE(fs::exists(part()));
  const auto kept = std::int64_t(fs::file_size(part()));
  EXPECT_GE(kept, 64 * 1024);
  EXPECT_LT(kept, std::int64_t(body_.size()));

  // The next download resumes where the cancelled one stopped.
  server_.throttle(0, 0);
  cancel = false;
  options_.progress = {};
  downloadFile({server_.url("/models/weights.bin")}, std::int64_t(body_.size()), hash(), dest(), options_);
  EXPECT_EQ(readAll(dest()), body_);
  EXPECT_EQ(server_.requests().back().range, "bytes=" + std::to_string(kept) + "-");
}

TEST_F(DownloaderTest, CancelledBeforeStartingDoesNothing) {
  std::atomic<bool> cancel{true};
  options_.cancel = &cancel;
  EXPECT_THROW(downloadFile({server_.url("/models/weights.bin")}, 0, "", dest(), options_), Error);
  EXPECT_EQ(server_.requests().size(), 0u);
  EXPECT_FALSE(fs::exists(dest()));
}

// A hostile or broken server streams 48 MB for a file that has 600 KB.
class OversizedDownloadTest : public DownloaderTest {
 protected:
  static constexpr std::int64_t kHuge = 48 << 20;

  void SetUp() override {
    DownloaderTest::SetUp();
    // Filler, not random: what matters is that it never ends in time.
    server_.addFile("/models/huge.bin", body_ + std::string(std::size_t(kHuge) - body_.size(), 'x'));
  }

  // Downloads /models/huge.bin, watching how large the .part ever gets, and
  // returns the error it must end with.
  Error downloadHuge(std::int64_t expectedSize) {
    options_.progress = [&](std::int64_t, std::int64_t, double, double) {
      std::error_code ec;
      largestPart_ = std::max(largestPart_, std::int64_t(fs::file_size(part(), ec)));
    };
    const auto start = std::chrono::steady_clock::now();
    Error error = test::captureError(
        [&] { downloadFile({server_.url("/models/huge.bin")}, expectedSize, "", dest(), options_); });
    elapsed_ = std::chrono::steady_clock::now() - start;
    return error;
  }

  // The client stopped early: the server could not push the 48 MB (the
  // slack is what loopback socket buffers take in), nothing is left behind.
  void expectStoppedEarly(std::int64_t limit) {
    const auto requests = server_.finishedRequests();
    ASSERT_EQ(requests.size(), 1u);
    EXPECT_LT(requests[0].bodyBytesSent, limit + (16 << 20));
    EXPECT_LE(largestPart_, limit);
    EXPECT_LT(elapsed_, std::chrono::seconds(60)) << "finishes at all (a generous bound, not a timing)";
    EXPECT_FALSE(fs::exists(dest()));
    EXPECT_FALSE(fs::exists(fs::symlink_status(part()))) << "a .part that could poison a resume";
  }

  std::int64_t largestPart_ = 0;
  std::chrono::steady_clock::duration elapsed_{};
};

TEST_F(OversizedDownloadTest, StreamWithoutLengthIsStoppedAtTheExpectedSize) {
  server_.omitLength("/models/huge.bin");
  const std::int64_t expected = std::int64_t(body_.size());
  const Error e = downloadHuge(expected);
  EXPECT_EQ(e.kind(), ErrorKind::Network);
  const std::string message = e.what();
  EXPECT_NE(message.find(server_.url("/models/huge.bin")), std::string::npos) << message;
  EXPECT_NE(message.find("more than the expected " + std::to_string(expected)), std::string::npos) << message;
  EXPECT_NE(message.find("the server sent at least "), std::string::npos) << message;
  expectStoppedEarly(expected);
}

TEST_F(OversizedDownloadTest, AnnouncedLengthAboveTheExpectedSizeIsRefusedBeforeAnyByte) {
  const std::int64_t expected = std::int64_t(body_.size());
  const Error e = downloadHuge(expected);
  EXPECT_EQ(e.kind(), ErrorKind::Network);
  EXPECT_NE(std::string(e.what()).find("announced " + std::to_string(kHuge) +
                                       " bytes, more than the expected " + std::to_string(expected)),
            std::string::npos)
      << e.what();
  EXPECT_EQ(largestPart_, 0);
  expectStoppedEarly(expected);
}

TEST_F(OversizedDownloadTest, UnknownSizeIsHeldToTheStatedBound) {
  server_.omitLength("/models/huge.bin");
  options_.maxSize = 1 << 20;
  const Error e = downloadHuge(0);
  EXPECT_EQ(e.kind(), ErrorKind::Network);
  EXPECT_NE(std::string(e.what()).find("more than the stated upper bound of " + std::to_string(1 << 20)),
            std::string::npos)
      << e.what();
  expectStoppedEarly(1 << 20);
}

TEST_F(DownloaderTest, AFileWithinTheStatedBoundDownloads) {
  options_.maxSize = std::int64_t(body_.size());
  downloadFile({server_.url("/models/weights.bin")}, 0, hash().substr(0, 8), dest(), options_);
  EXPECT_EQ(readAll(dest()), body_);
}

TEST_F(DownloaderTest, ASymlinkPlantedAtThePartPathIsRefusedAndItsTargetUntouched) {
  const fs::path victim = dir_ / "victim.txt";
  writeAll(victim, "precious");
  const fs::path absent = dir_ / "created-through-the-link";
  for (const fs::path& target : {victim, absent}) {
    fs::remove(part());
    fs::create_symlink(target, part());
    const Error e = test::captureError([&] {
      downloadFile({server_.url("/models/weights.bin")}, std::int64_t(body_.size()), hash(), dest(),
                   options_);
    });
    EXPECT_EQ(e.kind(), ErrorKind::Output);
    EXPECT_NE(std::string(e.what()).find(part().string()), std::string::npos) << e.what();
    EXPECT_TRUE(fs::is_symlink(part()));
    EXPECT_FALSE(fs::exists(dest()));
  }
  EXPECT_EQ(readAll(victim), "precious");
  EXPECT_FALSE(fs::exists(absent)) << "the download followed a dangling symlink";
  EXPECT_EQ(server_.requests().size(), 0u);
}

TEST_F(DownloaderTest, AFifoPlantedAtThePartPathIsRefusedWithoutHanging) {
  ASSERT_EQ(::mkfifo(part().c_str(), 0600), 0);
  const Error e = test::captureError([&] {
    downloadFile({server_.url("/models/weights.bin")}, std::int64_t(body_.size()), hash(), dest(), options_);
  });
  EXPECT_EQ(e.kind(), ErrorKind::Output);
  EXPECT_FALSE(fs::exists(dest()));
}

TEST(MirrorTest, ReplacesSchemeAndHostAndKeepsThePath) {
  EXPECT_EQ(applyMirror("https://host.example/a/b/file.pth", "http://127.0.0.1:8765"),
            "http://127.0.0.1:8765/a/b/file.pth");
  EXPECT_EQ(applyMirror("https://host.example/a/b/file.pth", "https://mirror.example/base/"),
            "https://mirror.example/base/a/b/file.pth");
  EXPECT_EQ(applyMirror("https://host.example:8443/x?y=1", "http://m"), "http://m/x?y=1");
  EXPECT_EQ(applyMirror("https://host.example/a/file", "/srv/models"), "file:///srv/models/a/file");
  EXPECT_EQ(applyMirror("https://host.example/a/file", ""), "https://host.example/a/file");
}

TEST(MirrorTest, ExplicitMirrorWinsOverTheEnvironment) {
  ScopedEnv env("IMPASTO_MODEL_MIRROR", "http://from-env");
  EXPECT_EQ(effectiveMirror(""), "http://from-env");
  EXPECT_EQ(effectiveMirror("http://explicit"), "http://explicit");
}

TEST_F(DownloaderTest, DownloadsThroughAMirror) {
  options_.mirror = server_.baseUrl();
  // The original host does not exist; only the mirror can answer.
  downloadFile({"https://models.invalid/models/weights.bin"}, std::int64_t(body_.size()), hash(), dest(),
               options_);
  EXPECT_EQ(readAll(dest()), body_);
  EXPECT_EQ(server_.requestCount("/models/weights.bin"), 1);
}

TEST_F(DownloaderTest, MirrorFromTheEnvironment) {
  ScopedEnv env("IMPASTO_MODEL_MIRROR", server_.baseUrl().c_str());
  downloadFile({"https://models.invalid/models/weights.bin"}, std::int64_t(body_.size()), hash(), dest(),
               options_);
  EXPECT_EQ(readAll(dest()), body_);
}

TEST_F(DownloaderTest, LocalFolderMirrorWithResume) {
  const fs::path mirror = dir_ / "mirror";
  fs::create_directories(mirror / "models");
  writeAll(mirror / "models" / "weights.bin", body_);
  writeAll(part(), body_.substr(0, 5000));
  options_.mirror = mirror.string();
  downloadFile({"https://models.invalid/models/weights.bin"}, std::int64_t(body_.size()), hash(), dest(),
               options_);
  EXPECT_EQ(readAll(dest()), body_);
}

TEST_F(DownloaderTest, HonoursTheHttpProxyEnvironmentVariable) {
  // Our server plays the proxy: a proxied request carries the absolute URL.
  server_.addFile("http://models.invalid/models/weights.bin", body_);
  ScopedEnv proxy("http_proxy", server_.baseUrl().c_str());
  ScopedEnv noProxy("no_proxy", nullptr);
  ScopedEnv noProxyUpper("NO_PROXY", nullptr);
  downloadFile({"http://models.invalid/models/weights.bin"}, std::int64_t(body_.size()), hash(), dest(),
               options_);
  EXPECT_EQ(readAll(dest()), body_);
  EXPECT_EQ(server_.requestCount("http://models.invalid/models/weights.bin"), 1);
}

TEST(FormatByteSizeTest, HumanUnits) {
  EXPECT_EQ(formatByteSize(0), "0 bytes");
  EXPECT_EQ(formatByteSize(17 * 1024), "17 KB");
  EXPECT_EQ(formatByteSize(1572900), "1.5 MB");
  EXPECT_EQ(formatByteSize(574673361), "548 MB");
}

}  // namespace
}  // namespace impasto
