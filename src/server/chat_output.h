// How a chat or generate request's output is read back: Ollama's capability checks before
// anything runs (tools on a model that cannot render them, think on a model that cannot think),
// think's default, OpenAI's tool_choice (also accepted by /api/chat), and the output parser that
// splits the generated text into content, thinking and tool calls (src/parsers).
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "base/status.h"
#include "parsers/output_parser.h"
#include "scheduler/job.h"
#include "server/completion_stream.h"
#include "server/model_resolver.h"
#include "templates/chat_template.h"

namespace corral::server {

// OpenAI's tool_choice: "auto" (the model decides), "none" (no tools: they are neither rendered
// nor parsed), "required" (some call), or {"type": "function", "function": {"name": ...}}.
struct ToolChoice {
  enum class Mode { kAuto, kNone, kRequired, kFunction };
  Mode mode = Mode::kAuto;
  std::string function;  // kFunction

  // required / a named function: decoding is constrained so the output is one call.
  bool forces_call() const { return mode == Mode::kRequired || mode == Mode::kFunction; }
};

// Reads tool_choice (absent: auto). A named function must be among `tools` (an array or null);
// forcing a call without tools is an error.
Result<ToolChoice> parse_tool_choice(const nlohmann::ordered_json* value, const nlohmann::json& tools);

// Ollama's checks, kInvalidArgument with Ollama's wording: tools for a model whose template
// cannot render them ("<model> does not support tools"), think on for a model that cannot think
// ("\"<name>\" does not support thinking", with the name the request used), a thinking level on a
// model that is not harmony (gpt-oss) ("think value \"high\" is not supported for this model"). Then think's
// default: on for a model that thinks (Ollama), and off when the call is forced (a constrained
// call leaves no room for reasoning text).
Status check_capabilities(const ServedModel& m, std::string_view requested_name, bool wants_tools,
                          const ToolChoice& choice, ThinkOption& think);

// The JSON schema a forced call is decoded under: {"name": <the tool>, "arguments": <its
// parameters>}. With tool_choice "required" and several tools, one such branch per tool in an
// anyOf: the arguments always validate against the schema of the tool the call names.
nlohmann::ordered_json forced_call_schema(const nlohmann::json& tools, const ToolChoice& choice);

struct OutputReading {
  std::unique_ptr<parsers::OutputParser> parser;  // null: every byte of output is content
  bool render_special = false;                    // the parser reads control tokens' text
};

// The output parser for this request (Ollama's built-in, thinking and tool parsers as its chat
// handler picks them). `rendered_prompt`: the prompt text (does it open a thinking block?).
OutputReading output_reading(const ServedModel& m, const nlohmann::json& tools, const ThinkOption& think,
                             const ToolChoice& choice, std::string_view rendered_prompt);

// Wires `reading` in after prepare_job: the stream parses choice `choice`'s output (tool-call
// ids drawn from the job's seed when it has one, so seeded responses repeat), and the job
// streams control tokens' text when the parser reads them.
void read_output_with(CompletionStream& stream, scheduler::Job& job, OutputReading reading, int choice = 0);

// The tool names of an OpenAI/Ollama tools array ([{"type": "function", "function": {"name"}}]).
std::vector<std::string> tool_names(const nlohmann::json& tools);

}  // namespace corral::server
