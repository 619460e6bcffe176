// Helpers shared by the libFuzzer targets (fuzz/README.md).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace corral::fuzz {

// Deepest [ / { nesting in a JSON text (brackets inside strings are skipped). The server refuses
// request JSON deeper than 512 levels at parse time (server/api_common.h), so nothing deeper ever
// reaches the schema compiler or the template data; the schema and template targets, which parse
// their JSON themselves, skip such inputs the same way. The request target does not: it goes
// through the server's own parse_body, bound included.
constexpr int kMaxJsonNesting = 512;

inline int json_nesting(std::string_view s) {
  int depth = 0, max_depth = 0;
  bool in_string = false;
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (in_string) {
      if (c == '\\') ++i;
      else if (c == '"') in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > max_depth) max_depth = depth;
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return max_depth;
}

// Splits a fuzz input at the first occurrence of `sep` (e.g. a template and its data); the
// second part is empty when there is no separator.
inline std::pair<std::string_view, std::string_view> split_input(const uint8_t* data, size_t size,
                                                                 std::string_view sep) {
  const std::string_view all(reinterpret_cast<const char*>(data), size);
  const size_t at = all.find(sep);
  if (at == std::string_view::npos) return {all, {}};
  return {all.substr(0, at), all.substr(at + sep.size())};
}

// Keeps a value alive so the compiler cannot drop the computation that produced it.
template <typename T>
inline void keep(const T& v) {
  asm volatile("" : : "g"(&v) : "memory");
}

}  // namespace corral::fuzz
