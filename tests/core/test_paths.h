#pragma once

#include <string>

namespace impasto::test {

// The impasto-cli built beside this test binary (<build>/app/impasto-cli).
// Found at run time rather than baked in, so every build directory compiles
// the tests identically and ccache can share them.
std::string cliPath();

}  // namespace impasto::test
