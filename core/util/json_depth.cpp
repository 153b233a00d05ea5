#include "core/util/json_depth.h"

#include <algorithm>

namespace impasto {

std::size_t jsonNestingDepth(std::string_view text, std::size_t limit) {
  std::size_t depth = 0;
  std::size_t deepest = 0;
  bool inString = false;
  bool escaped = false;
  for (const char c : text) {
    if (inString) {
      if (escaped)
        escaped = false;
      else if (c == '\\')
        escaped = true;
      else if (c == '"')
        inString = false;
      continue;
    }
    if (c == '"') {
      inString = true;
    } else if (c == '[' || c == '{') {
      deepest = std::max(deepest, ++depth);
      if (deepest > limit) return deepest;
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return deepest;
}

void requireJsonDepth(std::string_view text, ErrorKind kind, const std::string& what) {
  if (jsonNestingDepth(text) > kMaxJsonDepth)
    throw Error(kind, what + " nests deeper than " + std::to_string(kMaxJsonDepth) +
                          " levels: it is not a file Impasto wrote or reads, and was not opened");
}

}  // namespace impasto
