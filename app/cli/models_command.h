#pragma once

#include <string>
#include <vector>

namespace impasto {

// `impasto-cli models list|download NAME [--mirror URL]|import FILE [--manifest M]|verify`.
// args: what follows "models". Prints to stdout/stderr and returns the exit
// code: 0 ok, 2 usage, 3 bad input or model, 4 network or download failure,
// 130 cancelled with Ctrl-C (the partial download is kept for a resume).
int runModelsCommand(const std::vector<std::string>& args);

}  // namespace impasto
