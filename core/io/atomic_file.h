#pragma once

#include <filesystem>
#include <string>

namespace impasto {

// Writes bytes to a temporary file beside path, flushes it and renames it over
// path, so a failed or cancelled write never leaves a partial file under path.
void writeFileAtomically(const std::filesystem::path& path, const std::string& bytes);

// Throws Error(Output) with advice when a file could not be created at path
// (missing or read-only directory). Used before long work starts.
void checkOutputWritable(const std::filesystem::path& path);

// Reads a whole file; throws Error(kind) naming the file when it cannot.
std::string readFileBytes(const std::filesystem::path& path);

}  // namespace impasto
