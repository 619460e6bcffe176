// Ollama's own chat templates for the families it serves with a Go template of its own, copied
// byte for byte, so a GGUF that carries only a Jinja chat template renders the prompt Ollama
// renders for the same messages. Where each text comes from (Ollama, 2025-2026):
//   qwen3     the `qwen3` library model's template (`ollama show --template qwen3`): thinking
//             with /think and /no_think on the last user turn, an empty think block when
//             thinking is off, <tool_call> calls, results as <tool_response> user turns.
//   gemma3    template/gemma3-instruct.gotmpl, what `ollama create` picks for Gemma 3's Jinja
//             template (its index.json entry gemma3-instruct); the file ends with a newline,
//             which is part of the template.
//   phi4-mini the `phi4-mini` library model's template (blob 813f53fdc6e5): tools between
//             <|tool|> and <|/tool|> in the system turn, calls as <|tool_call|>[...]<|/tool_call|>.
//   gpt-oss   the harmony template Ollama creates gpt-oss with (x/create/client/create.go,
//             gptossDefaultTemplate): system message with the knowledge cutoff, currentDate
//             and the reasoning level, developer message with the instructions and the
//             function tools in TypeScript syntax, analysis/final channels, calls to
//             functions.NAME ending in <|call|>, results from functions.NAME to=assistant.
// Their quirks are Ollama's and are kept (e.g. phi4-mini closes a system turn with <|end|> only
// when tools are offered).
#pragma once

#include <string_view>

namespace corral::ollama_templates {

std::string_view qwen3();
std::string_view gemma3();
std::string_view phi4_mini();
std::string_view gpt_oss();

}  // namespace corral::ollama_templates
