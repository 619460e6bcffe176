// OpenAI chat messages as the templates see them (ChatMessage), mapped as Ollama's
// FromChatRequest does: assistant tool_calls' JSON-string arguments become objects, a tool
// message's name comes from `name` or from the call its tool_call_id answers, `reasoning` is
// the message's thinking. Differences: text content parts are joined with "\n" into one message
// (Ollama makes one message per part), "developer" (OpenAI's newer name for the system role)
// is "system", and image parts are rejected (no vision models yet).
#pragma once

#include <vector>

#include "base/status.h"
#include "server/api_common.h"
#include "templates/chat_template.h"

namespace corral::server::openai {

Result<std::vector<ChatMessage>> parse_messages(const ordered_json& messages);

}  // namespace corral::server::openai
