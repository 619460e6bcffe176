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

// Whether s is well-formed UTF-8 (RFC 3629).
inline bool valid_utf8(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) { ++i; continue; }
    size_t n;
    unsigned char lo = 0x80, hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF) n = 2;
    else if (c == 0xE0) n = 3, lo = 0xA0;
    else if (c == 0xED) n = 3, hi = 0x9F;
    else if (c >= 0xE1 && c <= 0xEF) n = 3;
    else if (c == 0xF0) n = 4, lo = 0x90;
    else if (c == 0xF4) n = 4, hi = 0x8F;
    else if (c >= 0xF1 && c <= 0xF3) n = 4;
    else return false;
    if (i + n > s.size()) return false;
    for (size_t k = 1; k < n; ++k) {
      const auto b = static_cast<unsigned char>(s[i + k]);
      if (b < (k == 1 ? lo : 0x80) || b > (k == 1 ? hi : 0xBF)) return false;
    }
    i += n;
  }
  return true;
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
