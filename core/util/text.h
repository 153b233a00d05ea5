#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace impasto {

// Small helpers every layer uses, written once.

// ASCII lower case ("PNG" -> "png"); other bytes (UTF-8) are left alone.
std::string lowerCase(std::string s);

// "a, b, c"; with more than `limit` names, the first `limit` and ", ...".
std::string joined(const std::vector<std::string>& names, std::size_t limit = SIZE_MAX);

// "548 MB", "1.6 MB", "17 KB", "12 bytes" (binary units, as file managers show them).
std::string formatByteSize(std::int64_t bytes);

// "4:05", "1:02:03" (hours only when there are some).
std::string formatDuration(double seconds);

// True for a regular file (or a link to one); false for anything else or an error.
bool isRegularFile(const std::filesystem::path& path);

// A path that a model's own files name (a TF.js shard, a manifest's weights
// file), resolved inside the model's folder. A model from a stranger must not
// read files beside or above it: an absolute path, a ".." or a symbolic link
// that leads out throws Error(Model) naming `what`. A path that does not exist
// is returned as it is, for the reader to report.
std::filesystem::path pathInside(const std::filesystem::path& folder, const std::string& relative,
                                 const std::string& what);

}  // namespace impasto
