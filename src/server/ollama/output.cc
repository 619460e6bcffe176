#include "server/ollama/output.h"

namespace corral::server {

ordered_json ollama_tool_calls(const std::vector<OutputToolCall>& calls) {
  ordered_json out = ordered_json::array();
  for (const OutputToolCall& c : calls) {
    out.push_back(ordered_json{{"id", c.id},
                               {"function",
                                {{"index", c.call.index},
                                 {"name", c.call.name},
                                 {"arguments", ordered_json(c.call.arguments)}}}});
  }
  return out;
}

ordered_json ollama_message(const CompletionOutput& out) {
  ordered_json msg{{"role", "assistant"}, {"content", out.content}};
  if (!out.thinking.empty()) msg["thinking"] = out.thinking;
  if (!out.tool_calls.empty()) msg["tool_calls"] = ollama_tool_calls(out.tool_calls);
  return msg;
}

}  // namespace corral::server
