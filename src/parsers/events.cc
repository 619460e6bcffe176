#include "parsers/events.h"

#include <utility>

namespace corral::parsers {

void append_text(ParseEvents& events, EventKind kind, std::string_view text) {
  if (text.empty()) return;
  if (!events.empty() && events.back().kind == kind) {
    events.back().text.append(text);
    return;
  }
  ParseEvent e;
  e.kind = kind;
  e.text.assign(text);
  events.push_back(std::move(e));
}

void append_call(ParseEvents& events, ToolCall call) {
  ParseEvent e;
  e.kind = EventKind::kToolCall;
  e.call = std::move(call);
  events.push_back(std::move(e));
}

ParseEvents coalesce(const ParseEvents& events) {
  ParseEvents out;
  for (const ParseEvent& e : events) {
    if (e.kind == EventKind::kToolCall) {
      out.push_back(e);
    } else {
      append_text(out, e.kind, e.text);
    }
  }
  return out;
}

std::string joined_text(const ParseEvents& events, EventKind kind) {
  std::string out;
  for (const ParseEvent& e : events) {
    if (e.kind == kind) out += e.text;
  }
  return out;
}

std::vector<ToolCall> tool_calls(const ParseEvents& events) {
  std::vector<ToolCall> out;
  for (const ParseEvent& e : events) {
    if (e.kind == EventKind::kToolCall) out.push_back(e.call);
  }
  return out;
}

}  // namespace corral::parsers
