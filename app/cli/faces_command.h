#pragma once

#include <functional>

namespace CLI {
class App;
}

namespace impasto {

// Adds `faces detect [--crops] IMAGE...`, `faces verify A B [--crops]
// [--threshold T]` and `faces identify --people DIR [--crops] [--threshold
// T] IMAGE...` to app (face verification and recognition with face-api.js's
// networks). When one is parsed, `command` is set to run it; it prints one
// line per result (JSON objects with --json) and returns the exit code: 0 ok,
// 2 bad arguments, 3 no face found, an unreadable image, an empty people
// folder or missing face models.
void addFacesCommand(CLI::App& app, std::function<int()>& command);

}  // namespace impasto
