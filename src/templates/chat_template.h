// Ollama's rules for turning a chat (or a generate prompt) into a model prompt with the
// model's Go template (ollama/template/template.go, Template.Execute).
//
// What a template sees:
//  - Templates that mention .Messages (anywhere, any case) run once over
//      .System    all system messages' contents joined by "\n\n"
//      .Messages  the messages, consecutive same-role messages merged ("\n\n"; tool messages
//                 are never merged); each has .Role .Content .Thinking .ToolCalls (each
//                 .ID .Function.Index .Function.Name .Function.Arguments) .ToolName .ToolCallID
//      .Tools     the request's tools (each .Type .Function.Name .Function.Description
//                 .Function.Parameters.Type/.Required/.Properties), nil when none
//      .Response  "" and .Think .ThinkLevel .IsThinkSet.
//    System messages stay in .Messages too; the template decides where they go.
//  - Legacy templates (no .Messages) are run once per exchange with .System .Prompt .Response:
//    a system message, then a user message, then an assistant message fill one exchange; the
//    next system or user message (after a reply) starts another. The last exchange is rendered
//    through a copy of the template cut right after {{ .Response }}, so the prompt ends where
//    the model's reply begins (and a trailing assistant message becomes a prefill). A template
//    that never mentions .Response gets {{ .Response }} appended, as Ollama's Parse does.
//  - Fill-in-the-middle (generate with a suffix): .Prompt .Suffix and .Response = "".
// Tool messages are skipped by the legacy path, as in Ollama. Images are ignored for now.
// Prepending the model's default system prompt or Modelfile MESSAGEs, truncation to the
// context window and image tags are the caller's job (Ollama does them in server/).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/status.h"
#include "templates/go_template.h"

namespace corral {

// Default member initializers let callers write {.role = "user", .content = "hi"}.
struct ChatMessage {
  std::string role = {};  // "system", "user", "assistant" or "tool" (lower-case, as Ollama has it)
  std::string content = {};
  std::string thinking = {};       // an assistant's reasoning, for templates that render .Thinking
  nlohmann::json tool_calls = {};  // null, or [{"id"?, "function": {"index"?, "name", "arguments"}}]
  std::string tool_name = {};      // tool messages: which tool produced the content
  std::string tool_call_id = {};   // tool messages: which call this answers
  // images: ignored for now
};

// The request's "think" field: absent, true/false, or a level ("high", "medium", "low").
struct ThinkOption {
  std::optional<bool> enabled = {};
  std::string level = {};  // non-empty implies enabled
};

// Everything Template.Execute looks at (Ollama's template.Values).
struct ChatTemplateInput {
  std::vector<ChatMessage> messages;
  nlohmann::json tools;  // array of tools, or null
  std::string prompt;    // fill-in-the-middle only (with suffix)
  std::string suffix;
  ThinkOption think;
};

// Renders exactly as Ollama's Template.Execute does (see above).
Result<std::string> render_template(const GoTemplate& t, const ChatTemplateInput& input,
                                    const GoTemplateLimits& limits = {});

// /api/chat: the request's messages and tools.
Result<std::string> render_chat(const GoTemplate& t, const std::vector<ChatMessage>& messages,
                                const nlohmann::json& tools, const ThinkOption& think = {});

// /api/generate without raw: Ollama turns it into [system (if any), user prompt] messages;
// with a non-empty suffix it renders fill-in-the-middle instead.
Result<std::string> render_generate(const GoTemplate& t, std::string_view system, std::string_view prompt,
                                    std::string_view suffix = {}, const ThinkOption& think = {});

}  // namespace corral
