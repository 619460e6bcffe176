#include "parsers/select.h"

#include <utility>

#include "parsers/harmony_parser.h"
#include "parsers/markers.h"
#include "parsers/staged_parser.h"
#include "parsers/template_hints.h"
#include "parsers/tool_call_stage.h"

namespace corral::parsers {
namespace {

const ThinkingTags kThinkTags{"<think>", "</think>"};

bool qwen_parser_name(std::string_view name) {
  return name == "qwen3" || name == "qwen3-thinking" || name == "qwen3.5";
}

bool thinking_parser_name(std::string_view name) { return name == "qwen3-thinking" || name == "qwen3.5"; }

ToolFormat format_for_tag(std::string_view tag) {
  if (tag == "<tool_call>") return ToolFormat::kQwen;
  if (tag == "[TOOL_CALLS]") return ToolFormat::kMistral;
  if (tag == "<|tool_call|>") return ToolFormat::kPhi4;
  if (tag == "{" || tag == "[" || tag == "<|python_tag|>") return ToolFormat::kLlamaJson;
  return ToolFormat::kGeneric;
}

// A template without a .ToolCalls block still renders tools for some families; their
// documented call format, by architecture. Others get Ollama's default: bare JSON.
std::string tag_for_architecture(std::string_view arch) {
  if (arch.starts_with("qwen")) return "<tool_call>";
  if (arch.starts_with("mistral")) return "[TOOL_CALLS]";
  if (arch == "phi3") return "<|tool_call|>";
  return "{";
}

ToolCallFormat format_of(const ParserSpec& spec) {
  ToolCallFormat f;
  switch (spec.tools) {
    case ToolFormat::kNone: break;
    case ToolFormat::kQwen:
      f.open_tags = {"<tool_call>"};
      f.close_tag = "</tool_call>";
      break;
    case ToolFormat::kPhi4:
      f.open_tags = {"<|tool_call|>"};
      f.close_tag = "<|/tool_call|>";
      break;
    case ToolFormat::kMistral:
      f.open_tags = {"[TOOL_CALLS]"};
      f.named_arguments = true;
      f.tool_names = spec.tool_names;
      break;
    case ToolFormat::kLlamaJson:
      f.open_tags = {"<|python_tag|>"};
      f.leading_json = true;
      f.bad_call = BadCallPolicy::kContent;
      f.tool_names = spec.tool_names;
      break;
    case ToolFormat::kGeneric:
      f.open_tags = {spec.tool_tag};
      f.bad_call = BadCallPolicy::kDrop;
      break;
  }
  return f;
}

// The thinking tags of a model: from the template's {{ .Thinking }} (Ollama's InferTags), else
// <think>/</think> for templates that mention <think> and for the Qwen3 architectures, whose
// output opens with a <think> block even under a template that drops it from history.
std::optional<ThinkingTags> model_thinking_tags(const ParserInputs& in) {
  if (auto tags = thinking_tags(in.template_text)) return tags;
  if (in.template_text.find(kThinkTags.open) != std::string_view::npos || in.architecture == "qwen3" ||
      in.architecture == "qwen3moe") {
    return kThinkTags;
  }
  return std::nullopt;
}

}  // namespace

bool uses_harmony(const ParserInputs& in) {
  if (in.parser_name == "harmony") return true;
  // Ollama's shouldUseHarmony: the gpt-oss family with a template that writes harmony tags.
  return (in.architecture == "gptoss" || in.architecture == "gpt-oss") &&
         in.template_text.find("<|start|>") != std::string_view::npos &&
         in.template_text.find("<|end|>") != std::string_view::npos;
}

bool supports_thinking(const ParserInputs& in) {
  return uses_harmony(in) || thinking_parser_name(in.parser_name) || model_thinking_tags(in).has_value();
}

ParserSpec select_parser(const ParserInputs& in) {
  ParserSpec spec;
  if (uses_harmony(in)) {
    spec.harmony = true;
    return spec;
  }
  if (in.parser_name == "passthrough") return spec;

  bool named_qwen = qwen_parser_name(in.parser_name);
  if (in.tools) {
    spec.tool_names = in.tool_names;
    if (named_qwen) {
      spec.tools = ToolFormat::kQwen;
    } else if (in.parser_name == "ministral") {
      spec.tools = ToolFormat::kMistral;
    } else {
      std::string tag = tool_call_tag(in.template_text);
      if (tag.empty()) tag = tag_for_architecture(in.architecture);
      spec.tools = format_for_tag(tag);
      if (spec.tools == ToolFormat::kGeneric) spec.tool_tag = tag;
    }
  }

  if (in.think) {
    if (named_qwen && in.parser_name != "qwen3") {
      // Ollama's qwen3-thinking parser: its renderer ends the prompt with <think>.
      spec.thinking = kThinkTags;
      spec.starts_in_thinking = true;
    } else if (auto tags = model_thinking_tags(in)) {
      spec.thinking = *tags;
      // Ollama: when the prompt already ends with the opening tag, the output is thinking.
      spec.starts_in_thinking = trim_right(in.prompt).ends_with(tags->open);
    }
  }
  return spec;
}

std::unique_ptr<OutputParser> make_parser(const ParserSpec& spec) {
  if (spec.harmony) return std::make_unique<HarmonyParser>();
  std::optional<ToolCallStage> tools;
  if (spec.tools != ToolFormat::kNone) tools.emplace(format_of(spec));
  std::optional<ThinkingSplitter> thinking;
  if (spec.thinking) {
    // A tool call opened inside thinking ends it (Ollama's qwen3 parser).
    std::vector<std::string> interrupts;
    if (spec.tools == ToolFormat::kQwen) interrupts.push_back("<tool_call>");
    thinking.emplace(*spec.thinking, spec.starts_in_thinking, std::move(interrupts));
  }
  return std::make_unique<StagedParser>(std::move(thinking), std::move(tools));
}

}  // namespace corral::parsers
