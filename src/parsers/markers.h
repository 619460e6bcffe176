// Finding markers (tags such as "<tool_call>") in streamed text, and deciding how much of a
// buffer can be released now without a marker split across pieces leaking out.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace corral::parsers {

// ASCII whitespace (Ollama trims with unicode.IsSpace; model output around markers is ASCII).
bool is_space(char c);
std::string_view trim_left(std::string_view s);
std::string_view trim_right(std::string_view s);
std::string_view trim(std::string_view s);

// Length of the longest suffix of `text` that is a proper prefix of `marker` (0 if none).
std::size_t partial_marker_suffix(std::string_view text, std::string_view marker);

struct MarkerHit {
  std::size_t pos = 0;    // byte offset of the marker in the text
  std::size_t which = 0;  // index into the marker list
};

// The earliest complete occurrence of any marker at or after `from` (ties: the longer marker).
std::optional<MarkerHit> find_first_marker(std::string_view text, const std::vector<std::string>& markers,
                                           std::size_t from = 0);

// How many leading bytes of `text` (which holds no complete marker) can be released now: all
// but a trailing partial marker and, when `hold_space`, the whitespace just before it (text
// before a marker is right-trimmed, so that whitespace is undecided too). Whitespace held past
// kMaxHeldBytes is released.
std::size_t releasable_prefix(std::string_view text, const std::vector<std::string>& markers, bool hold_space);

// True when `text` is a non-empty proper prefix of some marker (it may still become one).
bool is_partial_marker(std::string_view text, const std::vector<std::string>& markers);

}  // namespace corral::parsers
