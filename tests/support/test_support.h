#pragma once

#include <gtest/gtest.h>

#include <cstddef>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>

#include "core/util/error.h"

// Helpers shared by the core tests (and the UI tests): scratch folders,
// file bytes, environment overrides, captured errors and child processes.
namespace impasto::test {

// A fresh, empty folder for the running test, removed with all it holds when
// the object goes. Named <prefix>-<pid>-<test name> so parallel test binaries
// never share one and a leftover says which test made it.
class ScratchDir {
 public:
  explicit ScratchDir(const std::string& prefix);
  ~ScratchDir();
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;

  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// $IMPASTO_STRESS_SEED replays a stress test's run; otherwise a fresh seed
// (print it, so a failure can be replayed).
unsigned stressSeed();
// The threads of this process, from /proc/self/task.
int threadCount();

// size bytes from a seeded generator: the same seed gives the same bytes.
std::string randomBytes(std::size_t size, unsigned seed);
std::string readAll(const std::filesystem::path& path);
void writeAll(const std::filesystem::path& path, const std::string& bytes);

// Sets (or, with nullptr, unsets) an environment variable for one scope and
// restores the old value afterwards.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value);
  ~ScopedEnv();
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;

 private:
  std::string name_;
  std::optional<std::string> old_;
};

// Runs fn and returns the impasto::Error it throws; a test failure if it
// throws none (any other exception propagates and fails the test too).
template <typename Fn>
Error captureError(Fn&& fn) {
  try {
    fn();
  } catch (const Error& e) {
    return e;
  }
  ADD_FAILURE() << "expected an impasto::Error";
  return Error(ErrorKind::Internal, "no error thrown");
}

struct RunResult {
  int exitCode = -1;   // -1 when the command did not exit normally
  std::string output;  // whatever the command wrote to the pipe
};

// Runs a shell command line and collects its stdout (append 2>&1 for stderr).
RunResult runShell(const std::string& command);

// How a call run by runBounded ended.
struct BoundedOutcome {
  enum class End {
    Returned,        // fn returned
    ThrewError,      // fn threw impasto::Error: kind and message
    OutOfMemory,     // fn hit the memory limit (std::bad_alloc)
    OtherException,  // fn threw something else: message
    Died,            // the child was killed (the time limit, a crash): message names the signal
  };
  End end = End::Died;
  ErrorKind kind = ErrorKind::Internal;
  std::string message;
  long peakGrowthKb = 0;  // how far the child's peak resident memory rose above its start (0 if it died)
};

// Runs fn in a forked child whose address space may grow by at most
// extraBytes and which is killed after `seconds`, so a reader that would
// allocate without bound ends in OutOfMemory instead of exhausting the
// machine, and one that would loop for hours ends in Died. fn runs on the
// child's only thread: it must not need torch's thread pools or GoogleTest
// assertions (their failures would stay in the child). Under AddressSanitizer
// (which reserves terabytes) there is no address-space limit, only the timer.
BoundedOutcome runBounded(const std::function<void()>& fn, std::size_t extraBytes, unsigned seconds = 120);
std::string describe(const BoundedOutcome& outcome);  // for assertion messages

}  // namespace impasto::test
