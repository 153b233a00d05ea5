#include "test_paths.h"

#include <cstdlib>
#include <filesystem>

namespace impasto::test {

std::string cliPath() {
  if (const char* env = std::getenv("IMPASTO_CLI")) return env;
  const auto self = std::filesystem::read_symlink("/proc/self/exe");
  return (self.parent_path().parent_path() / "app" / "impasto-cli").string();
}

}  // namespace impasto::test
