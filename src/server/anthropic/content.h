// Anthropic message content -> the ChatMessages the model's template renders, as Ollama's
// anthropic.FromMessagesRequest converts them: text blocks join into the message's content,
// tool_use blocks become the assistant's tool_calls, each tool_result block a "tool" message
// (placed before the user's own text, so results follow the call they answer), thinking blocks
// the assistant's thinking. corral runs text-only models: image and document blocks are a 400
// "not supported yet", never silently dropped.
#pragma once

#include <string>
#include <vector>

#include "base/status.h"
#include "server/api_common.h"
#include "templates/chat_template.h"

namespace corral::server::anthropic {

// "system": a string or an array of text blocks (joined by newlines); absent or null: "".
Result<std::string> system_text(const ordered_json* system);

// "messages": [{role: "user" | "assistant", content: string | [blocks]}], non-empty.
Result<std::vector<ChatMessage>> convert_messages(const ordered_json* messages);

}  // namespace corral::server::anthropic
