#include "tests/support/test_support.h"

#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <new>
#include <random>
#include <stdexcept>

namespace impasto::test {

namespace fs = std::filesystem;

ScratchDir::ScratchDir(const std::string& prefix) {
  std::string name = "no-test";
  if (const auto* info = ::testing::UnitTest::GetInstance()->current_test_info()) name = info->name();
  std::replace(name.begin(), name.end(), '/', '_');  // parameterised test names contain '/'
  path_ = fs::temp_directory_path() / (prefix + "-" + std::to_string(::getpid()) + "-" + name);
  fs::remove_all(path_);
  fs::create_directories(path_);
}

ScratchDir::~ScratchDir() {
  // A test may have left the folder read-only; removal must still work.
  std::error_code ec;
  fs::permissions(path_, fs::perms::owner_all, fs::perm_options::add, ec);
  fs::remove_all(path_, ec);
}

std::string randomBytes(std::size_t size, unsigned seed) {
  std::mt19937 rng(seed);
  std::string bytes(size, '\0');
  for (char& c : bytes) c = char(rng() & 0xff);
  return bytes;
}

std::string readAll(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void writeAll(const fs::path& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary);
  out << bytes;
}

ScopedEnv::ScopedEnv(const char* name, const char* value) : name_(name) {
  if (const char* old = std::getenv(name)) old_ = old;
  if (value)
    ::setenv(name, value, 1);
  else
    ::unsetenv(name);
}

ScopedEnv::~ScopedEnv() {
  if (old_)
    ::setenv(name_.c_str(), old_->c_str(), 1);
  else
    ::unsetenv(name_.c_str());
}

RunResult runShell(const std::string& command) {
  RunResult result;
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) return result;
  std::array<char, 4096> buffer{};
  std::size_t got = 0;
  while ((got = std::fread(buffer.data(), 1, buffer.size(), pipe)) > 0)
    result.output.append(buffer.data(), got);
  const int status = ::pclose(pipe);
  result.exitCode = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

namespace {

#if defined(__SANITIZE_ADDRESS__)
constexpr bool kAddressSanitizer = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
constexpr bool kAddressSanitizer = true;
#else
constexpr bool kAddressSanitizer = false;
#endif
#else
constexpr bool kAddressSanitizer = false;
#endif

// Fields of /proc/self/statm, in bytes: 0 the address space, 1 resident memory.
std::size_t statmBytes(int field) {
  std::ifstream in("/proc/self/statm");
  std::size_t value = 0;
  for (int i = 0; i <= field; ++i) in >> value;
  return value * static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
}

void writeFully(int fd, const std::string& bytes) {
  std::size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n <= 0) return;
    done += static_cast<std::size_t>(n);
  }
}

// The child's report: its peak memory growth in KiB, a space, one letter for
// the ending, then the kind and message.
[[noreturn]] void runChild(const std::function<void()>& fn, int fd, std::size_t extraBytes,
                           unsigned seconds) {
  const long residentKb = static_cast<long>(statmBytes(1) / 1024);
  if (!kAddressSanitizer) {
    rlimit limit{};
    limit.rlim_cur = limit.rlim_max = statmBytes(0) + extraBytes;
    ::setrlimit(RLIMIT_AS, &limit);
  }
  ::alarm(seconds);
  std::string report;
  try {
    fn();
    report = "R";
  } catch (const Error& e) {
    report = "E" + std::to_string(static_cast<int>(e.kind())) + " " + e.what();
  } catch (const std::bad_alloc&) {
    report = "M";
  } catch (const std::exception& e) {
    report = std::string("X") + e.what();
  } catch (...) {
    report = "Xan unknown exception";
  }
  rusage usage{};
  ::getrusage(RUSAGE_SELF, &usage);
  writeFully(fd, std::to_string(usage.ru_maxrss - residentKb) + " " + report);
  ::_exit(0);  // no atexit handlers or static destructors of the parent's libraries
}

}  // namespace

BoundedOutcome runBounded(const std::function<void()>& fn, std::size_t extraBytes, unsigned seconds) {
  BoundedOutcome outcome;
  int fds[2];
  if (::pipe(fds) != 0) throw std::runtime_error("runBounded: pipe failed");
  std::fflush(nullptr);
  const pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error("runBounded: fork failed");
  if (pid == 0) {
    ::close(fds[0]);
    runChild(fn, fds[1], extraBytes, seconds);
  }
  ::close(fds[1]);
  std::string report;
  std::array<char, 4096> buffer{};
  ssize_t got = 0;
  while ((got = ::read(fds[0], buffer.data(), buffer.size())) > 0)
    report.append(buffer.data(), std::size_t(got));
  ::close(fds[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  const std::size_t space = report.find(' ');
  if (!WIFEXITED(status) || space == std::string::npos || space + 1 >= report.size()) {
    outcome.end = BoundedOutcome::End::Died;
    outcome.message = WIFSIGNALED(status) ? std::string("killed by ") + ::strsignal(WTERMSIG(status))
                                          : "exited without a report";
    return outcome;
  }
  outcome.peakGrowthKb = std::stol(report.substr(0, space));
  report.erase(0, space + 1);
  switch (report[0]) {
    case 'R':
      outcome.end = BoundedOutcome::End::Returned;
      break;
    case 'E': {
      outcome.end = BoundedOutcome::End::ThrewError;
      const std::size_t gap = report.find(' ');
      outcome.kind = static_cast<ErrorKind>(std::stoi(report.substr(1, gap - 1)));
      outcome.message = report.substr(gap + 1);
      break;
    }
    case 'M':
      outcome.end = BoundedOutcome::End::OutOfMemory;
      break;
    default:
      outcome.end = BoundedOutcome::End::OtherException;
      outcome.message = report.substr(1);
  }
  return outcome;
}

std::string describe(const BoundedOutcome& outcome) {
  static const char* const ends[] = {"returned", "threw impasto::Error", "ran out of memory",
                                     "threw another exception", "died"};
  return std::string(ends[static_cast<int>(outcome.end)]) + (outcome.message.empty() ? "" : ": ") +
         outcome.message.substr(0, 500) + " (peak memory +" + std::to_string(outcome.peakGrowthKb / 1024) +
         " MB)";
}

unsigned stressSeed() {
  if (const char* fixed = std::getenv("IMPASTO_STRESS_SEED"))
    return unsigned(std::strtoul(fixed, nullptr, 10));
  return std::random_device{}();
}

int threadCount() {
  int count = 0;
  for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator("/proc/self/task")) ++count;
  return count;
}

}  // namespace impasto::test
