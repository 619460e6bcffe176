#include "registry/byte_range.h"

#include <algorithm>
#include <charconv>
#include <limits>

#include <fmt/format.h>

namespace corral::registry {

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// A non-negative decimal that fits int64 (no sign, no blanks): digits only.
std::optional<int64_t> parse_count(std::string_view s) {
  if (s.empty() || s.size() > 18) return std::nullopt;  // 18 digits always fit; more is absurd here
  int64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || v < 0) return std::nullopt;
  return v;
}

}  // namespace

RangeRequest parse_range_header(std::string_view value, int64_t size, ByteRange* out) {
  value = trim(value);
  constexpr std::string_view kUnit = "bytes=";
  if (value.substr(0, kUnit.size()) != kUnit) return RangeRequest::kWhole;  // unknown unit
  std::string_view spec = trim(value.substr(kUnit.size()));
  if (spec.find(',') != std::string_view::npos) return RangeRequest::kWhole;  // multipart: not worth it
  size_t dash = spec.find('-');
  if (dash == std::string_view::npos) return RangeRequest::kWhole;  // malformed: ignored, per RFC
  std::string_view a = trim(spec.substr(0, dash)), b = trim(spec.substr(dash + 1));
  ByteRange r;
  if (a.empty()) {  // suffix: the last N bytes
    auto n = parse_count(b);
    if (!n) return RangeRequest::kWhole;
    if (*n == 0 || size == 0) return RangeRequest::kUnsatisfiable;
    r.first = size - std::min(*n, size);
    r.last = size - 1;
  } else {
    auto first = parse_count(a);
    if (!first) return RangeRequest::kWhole;
    std::optional<int64_t> last =
        b.empty() ? std::optional<int64_t>(std::numeric_limits<int64_t>::max()) : parse_count(b);
    if (!last || *last < *first) return RangeRequest::kWhole;
    if (*first >= size) return RangeRequest::kUnsatisfiable;
    r.first = *first;
    r.last = std::min(*last, size - 1);
  }
  *out = r;
  return RangeRequest::kRange;
}

std::string content_range(const ByteRange& r, int64_t size) {
  return fmt::format("bytes {}-{}/{}", r.first, r.last, size);
}

std::optional<ContentRange> parse_content_range(std::string_view value) {
  value = trim(value);
  constexpr std::string_view kUnit = "bytes ";
  if (value.substr(0, kUnit.size()) != kUnit) return std::nullopt;
  value.remove_prefix(kUnit.size());
  size_t dash = value.find('-'), slash = value.find('/');
  if (dash == std::string_view::npos || slash == std::string_view::npos || dash > slash) return std::nullopt;
  auto first = parse_count(value.substr(0, dash));
  auto last = parse_count(value.substr(dash + 1, slash - dash - 1));
  if (!first || !last || *last < *first) return std::nullopt;
  ContentRange cr;
  cr.range = {*first, *last};
  std::string_view size = value.substr(slash + 1);
  if (size != "*") {
    auto s = parse_count(size);
    if (!s || *s <= *last) return std::nullopt;
    cr.size = *s;
  }
  return cr;
}

}  // namespace corral::registry
