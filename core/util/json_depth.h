#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "core/util/error.h"

namespace impasto {

// JSON from strangers (models, manifests, presets) nested a million levels
// deep crashes whatever copies, prints or frees it recursively. Every reader
// checks the raw text first, before anything is built from it.
constexpr std::size_t kMaxJsonDepth = 64;

// How deeply the text's arrays and objects nest (brackets inside strings do
// not count); counting stops once it passes `limit`.
std::size_t jsonNestingDepth(std::string_view text, std::size_t limit = kMaxJsonDepth);

// Throws Error(kind) "<what> nests deeper than 64 levels ..." when it does.
void requireJsonDepth(std::string_view text, ErrorKind kind, const std::string& what);

}  // namespace impasto
