#pragma once

#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>

#include <gtest/gtest.h>

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
  int exitCode = -1;  // -1 when the command did not exit normally
  std::string output;  // whatever the command wrote to the pipe
};

// Runs a shell command line and collects its stdout (append 2>&1 for stderr).
RunResult runShell(const std::string& command);

}  // namespace impasto::test
