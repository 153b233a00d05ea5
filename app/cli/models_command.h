#pragma once

#include <functional>

namespace CLI {
class App;
}

namespace impasto {

// Adds `models list | download NAME [--mirror URL] | import FILE [--manifest M]
// | verify` to app. When one of them is parsed, `command` is set to run it;
// it prints to stdout/stderr and returns the exit code: 0 ok, 3 bad input or
// model, 4 network or download failure, 130 cancelled with Ctrl-C (the partial
// download is kept for a resume).
void addModelsCommand(CLI::App& app, std::function<int()>& command);

}  // namespace impasto
