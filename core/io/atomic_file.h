#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <limits>
#include <string>

namespace impasto {

// Writes bytes to a temporary file beside path, flushes it and renames it over
// path, so a failed or cancelled write never leaves a partial file under path.
void writeFileAtomically(const std::filesystem::path& path, const std::string& bytes);
// The same for files too large to build in memory first: produce() hands the
// bytes to the sink in pieces.
using ByteSink = std::function<void(const void* data, std::size_t size)>;
void writeFileAtomically(const std::filesystem::path& path,
                         const std::function<void(const ByteSink&)>& produce);

// Throws Error(Output) with advice when a file could not be created at path
// (missing or read-only directory). Used before long work starts.
void checkOutputWritable(const std::filesystem::path& path);

// Reads a whole file; throws Error(Input) naming the file when it cannot, or
// when it holds more than maxBytes (checked before and while reading, so a
// hostile file costs no more memory than the bound).
std::string readFileBytes(const std::filesystem::path& path,
                          std::uintmax_t maxBytes = std::numeric_limits<std::uintmax_t>::max());

}  // namespace impasto
