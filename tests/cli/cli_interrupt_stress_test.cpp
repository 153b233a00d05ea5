// SIGINT and TERM at seeded random moments of impasto-cli runs: while it
// starts, while it loads its inputs and model, mid-render, and in the middle
// of writing a snapshot or the output. It must end promptly with 0 (the
// signal came too late to matter) or 128 + the signal, leave no temporary or
// partial file, and every image it says it saved must be complete.
#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/inotify.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>
#include <optional>
#include <random>
#include <regex>
#include <sstream>
#include <string>
#include <thread>

#include "core/io/image_io.h"
#include "core/settings/preset.h"
#include "tests/support/test_models.h"
#include "tests/support/test_paths.h"
#include "tests/support/test_support.h"

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using Clock = std::chrono::steady_clock;

namespace impasto {
namespace {

std::string readText(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), {});
}

// impasto-cli started with fork and exec in dir, stdout and stderr to files,
// and the names of the files it creates there, as inotify reports them.
class CliProcess {
 public:
  CliProcess(const fs::path& dir, const std::vector<std::string>& arguments) : dir_(dir) {
    watch_ = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (watch_ >= 0) ::inotify_add_watch(watch_, dir.c_str(), IN_CREATE);
    // Everything the child needs is made before fork: it only calls async-signal-safe functions.
    const std::string program = test::cliPath();
    std::vector<std::string> args{program};
    args.insert(args.end(), arguments.begin(), arguments.end());
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    const std::string out = (dir / "stdout.txt").string(), err = (dir / "stderr.txt").string();
    pid_ = ::fork();
    if (pid_ == 0) {
      if (::chdir(dir.c_str()) != 0) ::_exit(126);
      const int o = ::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      const int e = ::open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      if (o < 0 || e < 0 || ::dup2(o, 1) < 0 || ::dup2(e, 2) < 0) ::_exit(126);
      ::execv(program.c_str(), argv.data());
      ::_exit(127);
    }
  }
  ~CliProcess() {
    if (pid_ > 0 && !status_) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    if (watch_ >= 0) ::close(watch_);
  }

  bool started() const { return pid_ > 0 && watch_ >= 0; }
  // Only while it runs: the pid of a reaped child may be another process's.
  void signal(int number) {
    if (!exited()) ::kill(pid_, number);
  }

  // Waits until a file whose name matches `pattern` was created for the
  // `occurrence`-th time (1-based), or the process ended.
  bool waitForCreated(const std::regex& pattern, int occurrence) {
    int seen = 0;
    while (!exited()) {
      alignas(inotify_event) char buffer[4096];
      const ssize_t got = ::read(watch_, buffer, sizeof buffer);
      if (got <= 0) {
        std::this_thread::sleep_for(std::chrono::microseconds(200));
        continue;
      }
      for (ssize_t at = 0; at < got;) {
        const auto* event = reinterpret_cast<const inotify_event*>(buffer + at);
        if (event->len > 0 && std::regex_search(event->name, pattern) && ++seen == occurrence) return true;
        at += ssize_t(sizeof(inotify_event) + event->len);
      }
    }
    return false;
  }

  // Waits until stdout holds `text`, or the process ended.
  bool waitForOutput(const std::string& text) {
    while (!exited()) {
      if (readText(dir_ / "stdout.txt").find(text) != std::string::npos) return true;
      std::this_thread::sleep_for(std::chrono::microseconds(500));
    }
    return false;
  }

  bool exited() {
    if (status_) return true;
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) status_ = status;
    return status_.has_value();
  }

  // The wait status, or nothing when it did not end within limit.
  std::optional<int> wait(std::chrono::seconds limit) {
    const auto end = Clock::now() + limit;
    while (!exited() && Clock::now() < end) std::this_thread::sleep_for(std::chrono::milliseconds(2));
    return status_;
  }

 private:
  fs::path dir_;
  pid_t pid_ = -1;
  int watch_ = -1;
  std::optional<int> status_;
};

class CliInterruptStress : public ::testing::Test {
 protected:
  void SetUp() override {
    writeImage("content.png", 48, 36, 0);
    writeImage("style.png", 40, 40, 1);
    test::writeTinyOnnx(dir_ / "tiny.onnx");
  }

  void writeImage(const std::string& name, int w, int h, int pattern) {
    cv::Mat image(h, w, CV_8UC3);
    for (int y = 0; y < h; ++y)
      for (int x = 0; x < w; ++x)
        image.at<cv::Vec3b>(y, x) = pattern ? cv::Vec3b((x / 4 % 2) * 200, 50, (y / 4 % 2) * 200)
                                            : cv::Vec3b(uchar(x * 5), uchar(y * 7), 128);
    cv::imwrite((dir_ / name).string(), image);
  }

  test::ScratchDir scratch_{"impasto-cli-interrupt"};
  const fs::path dir_ = scratch_.path();
};

constexpr int kIterations = 8;
constexpr int kSaveEvery = 2;

const std::vector<std::string> kArguments{"--content",
                                          "content.png",
                                          "--style",
                                          "style.png",
                                          "--model",
                                          "tiny.onnx",
                                          "--size",
                                          "48",
                                          "--threads",
                                          "1",
                                          "--json",
                                          "--iterations",
                                          std::to_string(kIterations),
                                          "--save-every",
                                          std::to_string(kSaveEvery),
                                          "--output",
                                          "out.png"};

// --json: the last line says whether it finished and what it saved.
nlohmann::json lastJsonLine(const std::string& out) {
  std::istringstream lines(out);
  std::string line, last;
  while (std::getline(lines, line))
    if (!line.empty()) last = line;
  nlohmann::json parsed = nlohmann::json::parse(last, nullptr, false);
  EXPECT_TRUE(parsed.is_object() && parsed.value("done", false)) << "last line: " << last;
  return parsed.is_object() ? parsed : nlohmann::json::object();
}

// A written image must decode whole (loadImage refuses a truncated PNG).
void expectCompleteImage(const fs::path& path) {
  SCOPED_TRACE(path.filename().string());
  cv::Mat image;
  EXPECT_NO_THROW(image = loadImage(path));
  EXPECT_EQ(image.size(), cv::Size(48, 36));
}

TEST_F(CliInterruptStress, SignalsAtRandomMomentsLeaveNoPartialFilesAndAHonestExitCode) {
  const unsigned seed = test::stressSeed();
  std::printf("[ seed     ] IMPASTO_STRESS_SEED=%u\n", seed);
  std::mt19937 rng(seed);
  auto pick = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };

  // How long the CLI takes to reach its first line of work: where "while it
  // starts" ends (seconds here, loading LibTorch, on a busy machine).
  std::chrono::microseconds startup{};
  {
    const auto begin = Clock::now();
    CliProcess cli(dir_, kArguments);
    ASSERT_TRUE(cli.started());
    ASSERT_TRUE(cli.waitForCreated(std::regex(R"(^\.out\.png\.probe)"), 1));
    startup = std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - begin);
    const auto status = cli.wait(std::chrono::seconds(120));
    ASSERT_TRUE(status && WIFEXITED(*status) && WEXITSTATUS(*status) == 0) << readText(dir_ / "stderr.txt");
  }
  std::printf("[ measured ] the CLI reaches its work %.3f s after it starts\n", startup.count() * 1e-6);

  enum class When { Starting, Loading, MidRender, MidWrite };
  const char* const whenNames[] = {"starting", "loading", "mid-render", "mid-write"};
  std::map<std::string, int> outcomes;
  for (int trial = 0; trial < 12; ++trial) {
    for (const auto& entry : fs::directory_iterator(dir_))
      if (entry.path().filename().string().rfind("out", 0) == 0 || entry.path().extension() == ".txt")
        fs::remove(entry.path());
    const auto when = When(trial % 4);
    const int signal = trial % 2 ? SIGTERM : SIGINT;
    std::string point = whenNames[int(when)];
    CliProcess cli(dir_, kArguments);
    ASSERT_TRUE(cli.started());
    switch (when) {
      case When::Starting: {
        const int us = pick(0, int(startup.count()));
        point += " +" + std::to_string(us) + " us";
        std::this_thread::sleep_for(std::chrono::microseconds(us));
        break;
      }
      case When::Loading: {
        // The output check is the command's first file: inputs, model and targets follow.
        const int us = pick(0, 30000);
        point += " +" + std::to_string(us) + " us";
        cli.waitForCreated(std::regex(R"(^\.out\.png\.probe)"), 1);
        std::this_thread::sleep_for(std::chrono::microseconds(us));
        break;
      }
      case When::MidRender: {
        const int step = pick(1, kIterations - 1), us = pick(0, 5000);
        point += " after step " + std::to_string(step) + " +" + std::to_string(us) + " us";
        cli.waitForOutput("\"iteration\":" + std::to_string(step) + ",");
        std::this_thread::sleep_for(std::chrono::microseconds(us));
        break;
      }
      case When::MidWrite: {
        // A snapshot's temporary file (out-0002.png ...) or the output's.
        const int write = pick(1, kIterations / kSaveEvery + 1);
        point += " in write " + std::to_string(write);
        cli.waitForCreated(std::regex(R"(^\.out.*\.png\.tmp-)"), write);
        break;
      }
    }
    const auto signalledAt = Clock::now();
    cli.signal(signal);
    point += signal == SIGINT ? ", SIGINT" : ", SIGTERM";
    SCOPED_TRACE("trial " + std::to_string(trial) + ": " + point +
                 " (IMPASTO_STRESS_SEED=" + std::to_string(seed) + ")");
    const auto status = cli.wait(std::chrono::seconds(60));
    ASSERT_TRUE(status) << "the CLI did not end after the signal";
    const double seconds = std::chrono::duration<double>(Clock::now() - signalledAt).count();
    const std::string err = readText(dir_ / "stderr.txt");
    const std::string out = readText(dir_ / "stdout.txt");

    std::string outcome;
    if (WIFSIGNALED(*status)) {
      // Only before main has installed its handlers, or after the command has
      // put them back with its output complete (the default action ends it).
      EXPECT_EQ(WTERMSIG(*status), signal);
      if (fs::exists(dir_ / "out.png")) {
        EXPECT_EQ(lastJsonLine(out).value("done", false), true) << out;
        expectCompleteImage(dir_ / "out.png");
        outcome = "killed while exiting, its render complete";
      } else {
        EXPECT_EQ(when, When::Starting) << "killed by signal " << WTERMSIG(*status) << "\n" << err;
        outcome = "killed before main";
      }
    } else {
      ASSERT_TRUE(WIFEXITED(*status));
      const int code = WEXITSTATUS(*status);
      if (code == 0) {
        outcome = "finished";
        const nlohmann::json done = lastJsonLine(out);
        EXPECT_EQ(done.value("cancelled", true), false);
        EXPECT_EQ(done.value("iteration", 0), kIterations);
        expectCompleteImage(dir_ / "out.png");
      } else {
        EXPECT_EQ(code, 128 + signal) << err;
        if (err.find("nothing was saved") != std::string::npos) {
          outcome = "stopped before the first step";
          EXPECT_FALSE(fs::exists(dir_ / "out.png"));
          EXPECT_NE(when, When::MidRender);
        } else {
          outcome = "stopped mid-render";
          const nlohmann::json done = lastJsonLine(out);
          EXPECT_EQ(done.value("cancelled", false), true);
          EXPECT_EQ(done.value("output", ""), "out.png");
          EXPECT_GE(done.value("iteration", 0), 1);
          expectCompleteImage(dir_ / "out.png");
          EXPECT_EQ(readPngText(dir_ / "out.png").count(kSettingsPngKey), 1u);
        }
      }
    }
    ++outcomes[outcome];
    std::printf("[ trial    ] %2d %-40s -> %s, ended %.3f s after the signal\n", trial, point.c_str(),
                outcome.c_str(), seconds);
    // Snapshots are whole; nothing else (no temporary, no probe) is left.
    const std::regex expected(
        R"(^(content\.png|style\.png|tiny\.onnx|stdout\.txt|stderr\.txt|out\.png|out-\d{4}\.png)$)");
    for (const auto& entry : fs::directory_iterator(dir_)) {
      const std::string name = entry.path().filename().string();
      EXPECT_TRUE(std::regex_match(name, expected)) << "left behind: " << name;
      if (std::regex_match(name, std::regex(R"(^out-\d{4}\.png$)"))) expectCompleteImage(entry.path());
    }
    if (::testing::Test::HasFailure()) break;
  }
  for (const auto& [outcome, count] : outcomes) std::printf("[ measured ] %s: %d\n", outcome.c_str(), count);
}

}  // namespace
}  // namespace impasto
