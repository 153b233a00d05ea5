#pragma once

#include <filesystem>
#include <string>

namespace impasto::test {

// Paths found at run time rather than baked in, so every build directory
// compiles the tests identically and ccache can share them.

// The impasto-cli built beside the test binaries (<build>/app/impasto-cli), or $IMPASTO_CLI.
std::string cliPath();

// ../shared beside the checkout (images and real models for end-to-end checks),
// or $IMPASTO_SHARED_DIR. Empty when there is none: tests that need it skip.
// Every test finds it through here.
std::filesystem::path sharedDir();

}  // namespace impasto::test
