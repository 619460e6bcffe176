// Chat templates for GGUF models that carry no Go template: the model family is guessed from
// the Jinja `tokenizer.chat_template` and a built-in Go template (in Ollama's style, with the
// family's stop strings) stands in for it. For the families Ollama serves with a template of its
// own (qwen3, gemma3, phi4-mini, gpt-oss) the built-in is Ollama's text, byte for byte
// (ollama_library_templates.h). Unrecognised templates fall back to a plain "role: content"
// transcript, with a logged warning.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace corral {

enum class TemplateFamily {
  kLlama2,         // [INST] <<SYS>> ... <</SYS>> ... [/INST]        (Llama 2 chat, CodeLlama)
  kLlama3,         // <|start_header_id|>role<|end_header_id|>       (Llama 3, 3.1, 3.2, 3.3)
  kChatML,         // <|im_start|>role ... <|im_end|>                (Qwen 2/2.5, Yi, Hermes, ...)
  kQwen3,          // ChatML with <think> blocks, /think, /no_think   (Qwen3, Qwen3-MoE: Ollama's qwen3)
  kMistral,        // [INST] ... [/INST], system with the last turn  (Mistral, Mixtral)
  kGemma,          // <start_of_turn>user|model ... <end_of_turn>    (Gemma 1, 2)
  kGemma3,         // Gemma's turns, system text in the first turn   (Gemma 3: Ollama's gemma3-instruct)
  kPhi3,           // <|user|> ... <|end|>                           (Phi-3, Phi-3.5)
  kPhi4Mini,       // <|user|>...<|end|>, tools in <|tool|>          (Phi-4-mini: Ollama's phi4-mini)
  kGptOss,         // harmony: <|start|>role<|channel|>...<|message|> (gpt-oss: Ollama's gpt-oss)
  kZephyr,         // <|user|> ... </s>                              (Zephyr, TinyLlama chat)
  kDeepSeek,       // <｜User｜> ... <｜Assistant｜>                  (DeepSeek V3, R1)
  kDeepSeekCoder,  // ### Instruction: ... ### Response:             (DeepSeek Coder)
  kPlain,          // "role: content" lines, then "assistant:"       (fallback)
};

// Short lower-case name for logs and `show`: "llama3", "chatml", "qwen3", "gpt-oss", ...
std::string_view family_name(TemplateFamily family);

// Guesses the family from marker strings in a Jinja chat template; kPlain when none match
// (including an empty template).
TemplateFamily detect_family(std::string_view jinja_chat_template);

// The family's Go template. Every built-in one iterates .Messages, renders the generation
// prompt for the next assistant turn, and leaves a trailing assistant message open (prefill).
std::string_view builtin_go_template(TemplateFamily family);

// Strings that end a reply in this family's format (Ollama's per-template "stop" params; none
// for gpt-oss, whose <|return|> and <|call|> are end-of-generation tokens).
std::vector<std::string> default_stops(TemplateFamily family);

struct BuiltinTemplate {
  TemplateFamily family;
  std::string_view go_template;
  std::vector<std::string> stops;
};

// detect_family + builtin_go_template + default_stops; logs a warning when it has to fall
// back to the plain format.
BuiltinTemplate builtin_template_for(std::string_view jinja_chat_template);

}  // namespace corral
