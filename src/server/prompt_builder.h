// Builds prompt tokens from a chat or a generate request: renders the model's template, keeps
// users' text from injecting control tokens, and fits long chats into the context window by
// dropping the oldest messages (system messages stay), as Ollama does.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/status.h"
#include "templates/chat_template.h"
#include "templates/go_template.h"
#include "tokenizer/tokenizer.h"

namespace corral::server {

// Renders `input` through `t`, then tokenizes it so that special-token text counts only where
// the template itself wrote it, never inside message contents (user text). add_special: BOS
// as the vocabulary wants it. `rendered`, when given, receives the prompt text.
Result<std::vector<int32_t>> render_and_tokenize(const Tokenizer& tok, const GoTemplate& t,
                                                 const ChatTemplateInput& input, bool add_special,
                                                 std::string* rendered = nullptr);

// /api/chat: the fewest oldest non-system messages dropped so the prompt leaves room in
// num_ctx; an error if even the last message alone does not fit.
Result<std::vector<int32_t>> chat_prompt(const Tokenizer& tok, const GoTemplate& t,
                                         const std::vector<ChatMessage>& messages, const nlohmann::json& tools,
                                         const ThinkOption& think, int64_t num_ctx, std::string* rendered = nullptr);

}  // namespace corral::server
