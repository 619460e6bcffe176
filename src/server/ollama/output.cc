#include "server/ollama/output.h"

namespace corral::server {

ordered_json ollama_tool_calls(const std::vector<OutputToolCall>& calls) {
  ordered_json out = ordered_json::array();
  for (const OutputToolCall& c : calls) {
    out.push_back(ordered_json{
        {"id", c.id},
        {"function", {{"index", c.call.index}, {"name", c.call.name}, {"arguments", ordered_json(c.call.arguments)}}}});
  }
  return out;
}

namespace {

ordered_json token_entry(const engine::TokenLogprob& t) {
  ordered_json bytes = ordered_json::array();
  for (unsigned char c : t.text) bytes.push_back(static_cast<int>(c));
  return ordered_json{{"token", t.text}, {"logprob", t.logprob}, {"bytes", bytes}};
}

}  // namespace

ordered_json ollama_logprobs(const std::vector<engine::TokenLogprob>& logprobs) {
  ordered_json out = ordered_json::array();
  for (const engine::TokenLogprob& t : logprobs) {
    ordered_json e = token_entry(t);
    if (!t.top.empty()) {
      ordered_json top = ordered_json::array();
      for (const engine::TokenLogprob& a : t.top) top.push_back(token_entry(a));
      e["top_logprobs"] = std::move(top);
    }
    out.push_back(std::move(e));
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
