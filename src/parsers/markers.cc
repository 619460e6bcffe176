#include "parsers/markers.h"

#include <algorithm>

#include "parsers/limits.h"

namespace corral::parsers {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

std::string_view trim_left(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size() && is_space(s[i])) ++i;
  return s.substr(i);
}

std::string_view trim_right(std::string_view s) {
  std::size_t n = s.size();
  while (n > 0 && is_space(s[n - 1])) --n;
  return s.substr(0, n);
}

std::string_view trim(std::string_view s) { return trim_right(trim_left(s)); }

std::size_t partial_marker_suffix(std::string_view text, std::string_view marker) {
  if (marker.empty()) return 0;
  std::size_t longest = std::min(text.size(), marker.size() - 1);
  for (std::size_t n = longest; n > 0; --n) {
    if (text.substr(text.size() - n) == marker.substr(0, n)) return n;
  }
  return 0;
}

std::optional<MarkerHit> find_first_marker(std::string_view text, const std::vector<std::string>& markers,
                                           std::size_t from) {
  std::optional<MarkerHit> best;
  for (std::size_t i = 0; i < markers.size(); ++i) {
    if (markers[i].empty()) continue;
    std::size_t p = text.find(markers[i], from);
    if (p == std::string_view::npos) continue;
    if (!best || p < best->pos || (p == best->pos && markers[i].size() > markers[best->which].size())) {
      best = MarkerHit{p, i};
    }
  }
  return best;
}

std::size_t releasable_prefix(std::string_view text, const std::vector<std::string>& markers, bool hold_space) {
  std::size_t partial = 0;
  for (const std::string& m : markers) partial = std::max(partial, partial_marker_suffix(text, m));
  std::size_t end = text.size() - partial;
  if (hold_space) {
    std::size_t space_start = trim_right(text.substr(0, end)).size();
    if (end - space_start <= kMaxHeldBytes) end = space_start;
  }
  return end;
}

bool is_partial_marker(std::string_view text, const std::vector<std::string>& markers) {
  if (text.empty()) return false;
  for (const std::string& m : markers) {
    if (text.size() < m.size() && m.compare(0, text.size(), text) == 0) return true;
  }
  return false;
}

}  // namespace corral::parsers
