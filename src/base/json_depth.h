// How deeply a JSON text nests, measured before parsing it. nlohmann parses and destroys
// iteratively, but copying, comparing and dumping a value recurse once per level, so a value
// from outside (a request body, a JSON string inside one) must have its depth bounded first.
#pragma once

#include <string_view>

namespace corral {

// Whether `text` (JSON or not) opens more than `limit` arrays/objects at once, counting
// brackets outside strings. Linear and allocation-free.
inline bool json_nests_deeper_than(std::string_view text, int limit) {
  int depth = 0;
  bool in_string = false, escaped = false;
  for (char c : text) {
    if (in_string) {
      if (escaped) escaped = false;
      else if (c == '\\') escaped = true;
      else if (c == '"') in_string = false;
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > limit) return true;
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return false;
}

}  // namespace corral
