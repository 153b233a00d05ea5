#include "tests/support/test_paths.h"

#include <cstdlib>

namespace impasto::test {
namespace fs = std::filesystem;

namespace {

fs::path executable() { return fs::read_symlink("/proc/self/exe"); }

}  // namespace

std::string cliPath() {
  if (const char* env = std::getenv("IMPASTO_CLI")) return env;
  return (executable().parent_path().parent_path() / "app" / "impasto-cli").string();
}

fs::path sharedDir() {
  if (const char* env = std::getenv("IMPASTO_SHARED_DIR")) return env;
  // The test binaries live in <checkout>/<build>/tests; ../shared sits beside the checkout.
  std::error_code error;
  for (fs::path dir = executable().parent_path(); dir.has_relative_path(); dir = dir.parent_path()) {
    const fs::path candidate = dir.parent_path() / "shared";
    if (fs::is_directory(candidate / "images", error) && fs::is_directory(candidate / "models", error))
      return candidate;
  }
  return {};
}

}  // namespace impasto::test
