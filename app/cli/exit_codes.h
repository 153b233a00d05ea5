#pragma once

#include <functional>

#include "core/util/error.h"

namespace impasto {

// impasto-cli's exit status for an error: 2 usage, 3 bad input, model or
// output, 4 network, 130 cancelled, 1 anything else.
int exitCodeFor(ErrorKind kind);

// Runs command and returns its exit code; an exception becomes one line on
// stderr ("impasto-cli: <message>") and the exit code for its kind.
int runReportingErrors(const std::function<int()>& command);

}  // namespace impasto
