#pragma once

// What the libFuzzer harnesses share. The readers under test take paths, so
// each input is first written to a scratch file of this process's own.

#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "core/util/error.h"

namespace impasto::fuzz {

// A folder for this process's scratch files, removed when it exits normally.
inline const std::filesystem::path& scratchDir() {
  static const std::filesystem::path dir = [] {
    auto path = std::filesystem::temp_directory_path() / ("impasto-fuzz-" + std::to_string(::getpid()));
    std::filesystem::create_directories(path);
    return path;
  }();
  static const struct Cleanup {
    ~Cleanup() {
      std::error_code ec;
      std::filesystem::remove_all(dir, ec);
    }
  } cleanup;
  return dir;
}

inline std::filesystem::path writeScratch(const std::string& name, const char* data, std::size_t size) {
  const std::filesystem::path path = scratchDir() / name;
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(data, static_cast<std::streamsize>(size));
  out.close();
  if (!out) {
    std::fprintf(stderr, "fuzz: cannot write %s\n", path.c_str());
    std::abort();
  }
  return path;
}

// The contract under test: a reader given bad bytes throws impasto::Error with
// a user-facing kind. Anything else that escapes (std::out_of_range, a JSON or
// OpenCV exception, Error(Internal), a crash) is a finding: abort, so that
// libFuzzer keeps the input.
template <typename Fn>
void expectCleanFailure(Fn&& fn) {
  try {
    fn();
  } catch (const Error& e) {
    if (e.kind() == ErrorKind::Internal) {
      std::fprintf(stderr, "fuzz: Error(Internal): %s\n", e.what());
      std::abort();
    }
  }
}

// An invariant of a successful read that does not hold.
[[noreturn]] inline void violated(const std::string& what) {
  std::fprintf(stderr, "fuzz: invariant violated: %s\n", what.c_str());
  std::abort();
}

}  // namespace impasto::fuzz
