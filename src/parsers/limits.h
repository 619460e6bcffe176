// Size and depth bounds of the output parsers. Model output is untrusted text: every buffer a
// parser holds is bounded by one of these, and crossing a bound is a decision (emit, drop or
// fail), never growth.
#pragma once

#include <cstddef>

namespace corral::parsers {

// Text held back because it may still turn into a marker: a partial marker is a few dozen bytes
// at most, so anything held beyond this is whitespace (held so it can be trimmed before a
// marker). 4 KiB of whitespace in a row is no longer plausibly "space before a tag": it is
// released as ordinary text.
inline constexpr std::size_t kMaxHeldBytes = 4096;

// One tool call's raw text (the JSON between its markers). Real calls are a few hundred bytes;
// 1 MiB leaves room for calls that carry a whole file as an argument, and caps what a runaway
// model can make the server buffer per request.
inline constexpr std::size_t kMaxToolCallBytes = 1 << 20;

// Nesting depth of a tool call's JSON. Arguments are shallow in practice; 512 is far beyond any
// schema yet keeps recursive JSON handling (parse, destruction, dump) well inside the stack.
inline constexpr std::size_t kMaxJsonDepth = 512;

// A tool name written as text before its arguments ([TOOL_CALLS]name[ARGS]{...}). Function
// names are identifiers (OpenAI allows 64 characters); 256 bytes without [ARGS] is not a name.
inline constexpr std::size_t kMaxToolNameBytes = 256;

// A harmony message header (`<|start|>assistant<|channel|>commentary to=functions.x
// <|constrain|>json<|message|>`): under 100 bytes in practice, 1 KiB is generous.
inline constexpr std::size_t kMaxHarmonyHeaderBytes = 1024;

}  // namespace corral::parsers
