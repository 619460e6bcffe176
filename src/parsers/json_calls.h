// Tool-call JSON: finding where a streamed JSON value ends (incrementally, bounded), parsing it
// with a depth bound, and reading calls out of it.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/status.h"
#include "parsers/events.h"

namespace corral::parsers {

// Follows a JSON object or array as its text arrives, to tell when the value is complete. It
// tracks strings, escapes and bracket nesting only; full validation is the parse afterwards.
// Each call scans only bytes not yet seen, so a value fed in N pieces costs O(total) overall.
class JsonExtentScanner {
 public:
  enum class State { kIncomplete, kComplete, kInvalid };

  // `text` is the buffer whose first byte is '{' or '['; it may only grow between calls.
  State scan(std::string_view text);
  std::size_t end() const { return end_; }      // one past the value, when kComplete
  std::size_t scanned() const { return pos_; }  // bytes examined so far
  const std::string& error() const { return error_; }
  void reset() { *this = JsonExtentScanner(); }

 private:
  State fail(std::string message);

  std::size_t pos_ = 0;
  std::size_t end_ = 0;
  std::string closers_;  // [depth] the closing bracket each open container expects
  bool in_string_ = false;
  bool escaped_ = false;
  State state_ = State::kIncomplete;
  std::string error_;
};

// Parses a complete JSON text (one value, surrounding whitespace allowed) after checking its
// nesting depth (kMaxJsonDepth) and size (kMaxToolCallBytes). Never throws.
Result<nlohmann::json> parse_json_bounded(std::string_view text);

// The calls a JSON value spells: an object {"name": ..., "arguments"|"parameters": {...}}
// (also wrapped as {"function": {...}}, OpenAI's shape; arguments may be a JSON string holding
// an object), or an array of such objects. Indexes are left 0 for the caller to assign.
Result<std::vector<ToolCall>> calls_from_json(const nlohmann::json& value);

// One call from a name written as text and its arguments' JSON text (Mistral's name[ARGS]{...}).
Result<ToolCall> call_from_parts(std::string_view name, std::string_view arguments_json);

}  // namespace corral::parsers
