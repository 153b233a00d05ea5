#include "core/library/downloader.h"
#include "core/util/text.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <vector>

#include "core/util/error.h"
#include "core/library/sha256.h"
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
