// Picks the output parser for a request from what the server knows about the model (template
// text, architecture, Ollama's explicit parser setting) and about the request (tools, think),
// the way Ollama's chat handler picks its built-in, thinking and tool parsers.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "parsers/output_parser.h"
#include "parsers/thinking_splitter.h"

namespace corral::parsers {

enum class ToolFormat {
  kNone,       // no tools offered: no tool parsing (Ollama makes no tool parser then)
  kQwen,       // <tool_call>{"name","arguments"}</tool_call>, several in a row
  kLlamaJson,  // {"name","parameters"} opening the answer, or after <|python_tag|>
  kMistral,    // [TOOL_CALLS][{...}] or [TOOL_CALLS]name[ARGS]{...}
  kPhi4,       // <|tool_call|>[{...}]<|/tool_call|>
  kGeneric,    // another tag from the template: JSON calls after it, the rest dropped
};

struct ParserInputs {
  std::string_view template_text;  // the model's chat template (Go template text)
  std::string_view architecture;   // GGUF general.architecture or Ollama's model family
  std::string_view parser_name;    // Ollama's explicit "parser" setting, when the model has one
  bool tools = false;              // the request offers tools
  std::vector<std::string> tool_names;
  bool think = false;       // thinking requested (the caller resolves the default)
  std::string_view prompt;  // the rendered prompt: does it end inside <think>?
};

struct ParserSpec {
  bool harmony = false;  // gpt-oss: thinking and tool calls come from the harmony channels
  ToolFormat tools = ToolFormat::kNone;
  std::string tool_tag;  // kGeneric: the tag calls follow
  std::vector<std::string> tool_names;
  std::optional<ThinkingTags> thinking;  // split thinking off with these tags
  bool starts_in_thinking = false;       // the prompt opened the thinking block

  bool operator==(const ParserSpec&) const = default;
};

ParserSpec select_parser(const ParserInputs& in);
std::unique_ptr<OutputParser> make_parser(const ParserSpec& spec);

// Whether the model speaks harmony (gpt-oss): Ollama's explicit "harmony" parser, or the gpt-oss
// family with a template that writes harmony's <|start|> and <|end|> (Ollama's shouldUseHarmony).
// Only these models take a thinking level ("low", "medium", "high").
bool uses_harmony(const ParserInputs& in);

// Whether the model can think as these inputs describe it (harmony, a thinking parser name, or
// a template that writes {{ .Thinking }} between tags): the server's "does not support
// thinking" check.
bool supports_thinking(const ParserInputs& in);

}  // namespace corral::parsers
