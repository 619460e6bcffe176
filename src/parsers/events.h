// What an output parser reports: text split into content and thinking, and tool calls.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace corral::parsers {

// A tool call as Ollama's api.ToolCall carries it: the function name, its arguments as a JSON
// object (never a string), and the call's position among this response's calls (0, 1, ...).
// Ids (OpenAI's "call_xxxxxxxx") are the caller's business: see tool_call_id.h.
struct ToolCall {
  std::string name;
  nlohmann::json arguments = nlohmann::json::object();
  int index = 0;

  bool operator==(const ToolCall&) const = default;
};

enum class EventKind { kContent, kThinking, kToolCall };

struct ParseEvent {
  EventKind kind = EventKind::kContent;
  std::string text;  // kContent / kThinking
  ToolCall call;     // kToolCall

  bool operator==(const ParseEvent&) const = default;
};

using ParseEvents = std::vector<ParseEvent>;

// Appends text of `kind`, merged into the last event when that is the same kind (empty text
// adds nothing).
void append_text(ParseEvents& events, EventKind kind, std::string_view text);
void append_call(ParseEvents& events, ToolCall call);

// The events with adjacent text events of one kind merged: the same output fed in different
// pieces gives the same coalesced events.
ParseEvents coalesce(const ParseEvents& events);

// Concatenated text of one kind, and the calls, for callers that need totals (non-streaming).
std::string joined_text(const ParseEvents& events, EventKind kind);
std::vector<ToolCall> tool_calls(const ParseEvents& events);

}  // namespace corral::parsers
