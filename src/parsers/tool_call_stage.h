// Finds JSON tool calls in the content stream for the families that write them as JSON:
// Qwen 2.5/3 (<tool_call>{...}</tool_call>), Phi-4-mini (<|tool_call|>[...]<|/tool_call|>),
// Mistral ([TOOL_CALLS][{...}] and [TOOL_CALLS]name[ARGS]{...}), Llama 3.x (a JSON call
// opening the answer, or after <|python_tag|>), and Ollama's generic parser for any template
// whose .ToolCalls block starts with some tag.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "parsers/events.h"
#include "parsers/json_calls.h"

namespace corral::parsers {

// What to do with a tool-call marker whose payload is not a call.
enum class BadCallPolicy {
  kError,    // end the response with an error (Ollama's qwen3/harmony parsers)
  kDrop,     // drop it silently (Ollama's generic parser drops what follows its tag)
  kContent,  // it was content after all (a JSON answer that is not a call)
};

struct ToolCallFormat {
  std::vector<std::string> open_tags;  // each starts one or more calls
  std::string close_tag;               // ends them; empty when the format has none
  // A JSON value that opens the answer (only whitespace before it) is a call when it parses
  // as one naming an offered tool; otherwise it is content (Ollama's "{" tag: Llama 3.x).
  bool leading_json = false;
  bool named_arguments = false;  // name[ARGS]{...} after the open tag (Mistral v11+)
  BadCallPolicy bad_call = BadCallPolicy::kError;
  // The request's tool names. For leading_json, a leading JSON object naming another function
  // is content; with named_arguments, a name not among them is an error (Ollama's ministral
  // parser: "tool 'x' not found"). Empty: any name.
  std::vector<std::string> tool_names;
};

class ToolCallStage {
 public:
  explicit ToolCallStage(ToolCallFormat format);

  // Consumes content text; appends content and tool-call events.
  Status feed(std::string_view text, ParseEvents& out);
  // End of output. An unterminated call (JSON still open) is dropped, as Ollama's qwen3 parser
  // drops it (kContent formats give the text back as content).
  Status finish(ParseEvents& out);

 private:
  enum class State { kStart, kContent, kCall, kLeading, kPassthrough };
  Result<bool> step(ParseEvents& out);  // true to keep going
  Result<bool> step_call(ParseEvents& out);
  Result<bool> bad_call(std::string why, ParseEvents& out);
  bool emit_calls(std::vector<ToolCall> calls, ParseEvents& out);
  bool named_tool(const ToolCall& call) const;

  ToolCallFormat format_;
  std::vector<std::string> call_markers_;  // open tags (+ close tag): what content may hide
  State state_;
  std::string buf_;             // undecided text
  JsonExtentScanner scanner_;   // the JSON value at the front of buf_ (kLeading: at json_start_)
  std::size_t json_start_ = 0;  // kLeading: whitespace before the JSON, kept for give-back
  bool scanning_ = false;
  bool payload_seen_ = false;  // a call was read since the last open tag
  bool eat_space_ = false;     // drop whitespace opening the next content
  bool have_name_ = false;     // named_arguments: name read, [ARGS] consumed
  std::string pending_name_;
  int next_index_ = 0;
  Status error_;
};

}  // namespace corral::parsers
