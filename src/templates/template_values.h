// The JSON shapes Ollama hands its templates for messages and tools (its templateMessage,
// templateToolCall and templateTool structs): every field present, keys in Go struct order
// and spelled as Ollama's API spells them, so `{{ json .Tools }}` matches Ollama's bytes and
// `.Function.Description` is "" rather than nil when a client leaves it out.
#pragma once

#include <nlohmann/json.hpp>

#include "templates/chat_template.h"
#include "templates/go_value.h"

namespace corral::gotmpl {

Json message_value(const ChatMessage& m);

// tools: null (no tools) or an array of {"type", "function": {...}}; anything else is treated
// as no tools. Tool properties keep the keys Ollama's ToolProperty has (anyOf, type, items,
// description, enum, properties, required) and drop the rest, as Go's decoder does.
Json tools_value(const nlohmann::json& tools);

}  // namespace corral::gotmpl
