// What a chat template (Ollama's Go template text) says about the output format: the tag that
// opens tool calls and the tags around thinking. Read from the template text alone, like
// Ollama's tools.parseTag and thinking.InferTags read its parse tree.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "parsers/thinking_splitter.h"

namespace corral::parsers {

// The first text the template writes inside its .ToolCalls block (after `if .ToolCalls` or
// `range .ToolCalls`), trimmed and cut before the first '{', narrowed to its first bracketed
// token ("[TOOL_CALLS] [" -> "[TOOL_CALLS]"); "{" when that leaves nothing (the call is bare
// JSON); "" when the template has no .ToolCalls at all.
std::string tool_call_tag(std::string_view tmpl);

// The text right before and right after the template's {{ .Thinking }} output ("<think>",
// "</think>"); nothing when either is missing.
std::optional<ThinkingTags> thinking_tags(std::string_view tmpl);

}  // namespace corral::parsers
