#include "templates/builtin_templates.h"

#include <spdlog/spdlog.h>

#include "templates/ollama_library_templates.h"

namespace corral {
namespace {

// Each template renders the format its model family documents, written the way Ollama
// writes its templates: one pass over .Messages, `$last` (the `len (slice ...)` idiom) to
// close the conversation with an open assistant turn, and no BOS token (the tokenizer adds
// it). System text comes from .System (all system messages joined) unless the family renders
// system messages in place.

// Llama 3.x, including the tool-calling convention of Llama 3.1 (tools listed in the last
// user turn, calls as {"name", "parameters"} JSON, results from the "ipython" role).
constexpr std::string_view kLlama3 = R"tmpl({{- if or .System .Tools }}<|start_header_id|>system<|end_header_id|>

{{ if .System }}{{ .System }}{{ end }}
{{- if .Tools }}{{ if .System }}

{{ end }}You are a helpful assistant with tool calling capabilities. When you receive a tool call response, use the output to format an answer to the original user question.{{ end }}<|eot_id|>
{{- end }}
{{- range $i, $m := .Messages }}
{{- $last := eq (len (slice $.Messages $i)) 1 }}
{{- if eq .Role "user" }}<|start_header_id|>user<|end_header_id|>

{{ if and $.Tools $last }}Given the following functions, please respond with a JSON for a function call with its proper arguments that best answers the given prompt.

Respond in the format {"name": function name, "parameters": dictionary of argument name and its value}. Do not use variables.

{{ range $.Tools }}{{ json . }}

{{ end }}{{ end }}{{ .Content }}<|eot_id|>
{{- else if eq .Role "assistant" }}<|start_header_id|>assistant<|end_header_id|>

{{ if .ToolCalls }}{{ range .ToolCalls }}{"name": "{{ .Function.Name }}", "parameters": {{ json .Function.Arguments }}}{{ end }}{{ else }}{{ .Content }}{{ end }}
{{- if not $last }}<|eot_id|>{{ end }}
{{- else if eq .Role "tool" }}<|start_header_id|>ipython<|end_header_id|>

{{ .Content }}<|eot_id|>
{{- end }}
{{- if and $last (ne .Role "assistant") }}<|start_header_id|>assistant<|end_header_id|>

{{ end }}
{{- end }})tmpl";

// ChatML with Qwen 2.5's tool convention (<tools> in the system turn, <tool_call> blocks,
// results as <tool_response> in a user turn).
constexpr std::string_view kChatML = R"tmpl({{- if or .System .Tools }}<|im_start|>system
{{ if .System }}{{ .System }}{{ end }}
{{- if .Tools }}{{ if .System }}

{{ end }}# Tools

You may call one or more functions to assist with the user query.

You are provided with function signatures within <tools></tools> XML tags:
<tools>
{{- range .Tools }}
{{ json . }}
{{- end }}
</tools>

For each function call, return a json object with function name and arguments within <tool_call></tool_call> XML tags:
<tool_call>
{"name": <function-name>, "arguments": <args-json-object>}
</tool_call>{{ end }}<|im_end|>
{{ end }}
{{- range $i, $m := .Messages }}
{{- $last := eq (len (slice $.Messages $i)) 1 }}
{{- if eq .Role "user" }}<|im_start|>user
{{ .Content }}<|im_end|>
{{ else if eq .Role "assistant" }}<|im_start|>assistant
{{ .Content }}
{{- range $j, $c := .ToolCalls }}{{ if or $j $m.Content }}
{{ end }}<tool_call>
{"name": "{{ .Function.Name }}", "arguments": {{ json .Function.Arguments }}}
</tool_call>
{{- end }}
{{- if not $last }}<|im_end|>
{{ end }}
{{- else if eq .Role "tool" }}<|im_start|>user
<tool_response>
{{ .Content }}
</tool_response><|im_end|>
{{ end }}
{{- if and $last (ne .Role "assistant") }}<|im_start|>assistant
{{ end }}
{{- end }})tmpl";

// Mistral v3 (mistral-common): the system prompt and the tool list go with the last user
// message, replies end with </s>.
constexpr std::string_view kMistral = R"tmpl({{- $lastUser := -1 }}
{{- range $i, $m := .Messages }}{{ if eq .Role "user" }}{{ $lastUser = $i }}{{ end }}{{ end }}
{{- range $i, $m := .Messages }}
{{- if eq .Role "user" }}
{{- if and $.Tools (eq $i $lastUser) }}[AVAILABLE_TOOLS] {{ json $.Tools }}[/AVAILABLE_TOOLS]{{ end -}}
[INST] {{ if and $.System (eq $i $lastUser) }}{{ $.System }}

{{ end }}{{ .Content }}[/INST]
{{- else if eq .Role "assistant" }}
{{- if .ToolCalls }}[TOOL_CALLS] [{{ range $j, $c := .ToolCalls }}{{ if $j }}, {{ end }}{"name": "{{ .Function.Name }}", "arguments": {{ json .Function.Arguments }}}{{ end }}]
{{- else }} {{ .Content }}{{ end }}
{{- if gt (len (slice $.Messages $i)) 1 }}</s>{{ end }}
{{- else if eq .Role "tool" }}[TOOL_RESULTS] {"content": {{ .Content }}}[/TOOL_RESULTS]
{{- end }}
{{- end }})tmpl";

// Llama 2 chat as Meta documents it: <<SYS>> inside the first [INST], "</s><s>" between turns.
constexpr std::string_view kLlama2 = R"tmpl({{- $first := true }}
{{- range $i, $m := .Messages }}
{{- if eq .Role "user" }}
{{- if not $first }}<s>{{ end }}[INST] {{ if $first }}{{ if $.System }}<<SYS>>
{{ $.System }}
<</SYS>>

{{ end }}{{ $first = false }}{{ end }}{{ .Content }} [/INST]
{{- else if eq .Role "assistant" }} {{ .Content }}{{ if gt (len (slice $.Messages $i)) 1 }} </s>{{ end }}
{{- end }}
{{- end }})tmpl";

// Gemma 1 and 2 have no system role: the system prompt opens the first user turn.
constexpr std::string_view kGemma = R"tmpl({{- $system := .System }}
{{- range $i, $m := .Messages }}
{{- $last := eq (len (slice $.Messages $i)) 1 }}
{{- if eq .Role "user" }}<start_of_turn>user
{{ if $system }}{{ $system }}

{{ $system = "" }}{{ end }}{{ .Content }}<end_of_turn>
{{ else if eq .Role "assistant" }}<start_of_turn>model
{{ .Content }}{{ if not $last }}<end_of_turn>
{{ end }}
{{- end }}
{{- if and $last (ne .Role "assistant") }}<start_of_turn>model
{{ end }}
{{- end }})tmpl";

// Phi-3 and Zephyr differ only in the end-of-turn marker; system messages stay in place.
constexpr std::string_view kPhi3 = R"tmpl({{- range $i, $m := .Messages }}
{{- $last := eq (len (slice $.Messages $i)) 1 }}
{{- if eq .Role "system" "user" "assistant" }}<|{{ .Role }}|>
{{ .Content }}{{ if or (ne .Role "assistant") (not $last) }}<|end|>
{{ end }}
{{- end }}
{{- if and $last (ne .Role "assistant") }}<|assistant|>
{{ end }}
{{- end }})tmpl";

constexpr std::string_view kZephyr = R"tmpl({{- range $i, $m := .Messages }}
{{- $last := eq (len (slice $.Messages $i)) 1 }}
{{- if eq .Role "system" "user" "assistant" }}<|{{ .Role }}|>
{{ .Content }}{{ if or (ne .Role "assistant") (not $last) }}</s>
{{ end }}
{{- end }}
{{- if and $last (ne .Role "assistant") }}<|assistant|>
{{ end }}
{{- end }})tmpl";

// DeepSeek V3 / R1: the system prompt is bare text before the first turn.
constexpr std::string_view kDeepSeek = R"tmpl({{- .System }}
{{- range $i, $m := .Messages }}
{{- $last := eq (len (slice $.Messages $i)) 1 }}
{{- if eq .Role "user" }}<｜User｜>{{ .Content }}
{{- else if eq .Role "assistant" }}<｜Assistant｜>{{ .Content }}{{ if not $last }}<｜end▁of▁sentence｜>{{ end }}
{{- end }}
{{- if and $last (ne .Role "assistant") }}<｜Assistant｜>{{ end }}
{{- end }})tmpl";

// DeepSeek Coder instruct. Its Jinja template glues a custom system prompt to the first
// "### Instruction:"; a newline keeps them apart here. The model's default system prompt is a
// model setting, not part of the template.
constexpr std::string_view kDeepSeekCoder = R"tmpl({{- if .System }}{{ .System }}
{{ end }}
{{- range $i, $m := .Messages }}
{{- $last := eq (len (slice $.Messages $i)) 1 }}
{{- if eq .Role "user" }}### Instruction:
{{ .Content }}
{{ else if eq .Role "assistant" }}### Response:
{{ .Content }}{{ if not $last }}
<|EOT|>
{{ end }}
{{- end }}
{{- if and $last (ne .Role "assistant") }}### Response:
{{ end }}
{{- end }})tmpl";

constexpr std::string_view kPlain = R"tmpl({{- range $i, $m := .Messages }}
{{- $last := eq (len (slice $.Messages $i)) 1 }}{{ .Role }}: {{ .Content }}
{{- if or (not $last) (ne .Role "assistant") }}
{{ end }}
{{- if and $last (ne .Role "assistant") }}assistant:{{ end }}
{{- end }})tmpl";

bool has(std::string_view haystack, std::string_view needle) { return haystack.find(needle) != std::string_view::npos; }

}  // namespace

std::string_view family_name(TemplateFamily family) {
  switch (family) {
    case TemplateFamily::kLlama2: return "llama2";
    case TemplateFamily::kLlama3: return "llama3";
    case TemplateFamily::kChatML: return "chatml";
    case TemplateFamily::kQwen3: return "qwen3";
    case TemplateFamily::kMistral: return "mistral";
    case TemplateFamily::kGemma: return "gemma";
    case TemplateFamily::kGemma3: return "gemma3";
    case TemplateFamily::kPhi3: return "phi3";
    case TemplateFamily::kPhi4Mini: return "phi4-mini";
    case TemplateFamily::kGptOss: return "gpt-oss";
    case TemplateFamily::kZephyr: return "zephyr";
    case TemplateFamily::kDeepSeek: return "deepseek";
    case TemplateFamily::kDeepSeekCoder: return "deepseek-coder";
    case TemplateFamily::kPlain: return "plain";
  }
  return "plain";
}

TemplateFamily detect_family(std::string_view t) {
  // Most specific markers first: several families share [INST] or <|user|>.
  // gpt-oss's harmony messages: <|start|>role<|channel|>name<|message|>.
  if (has(t, "<|start|>") && has(t, "<|channel|>")) return TemplateFamily::kGptOss;
  if (has(t, "<|start_header_id|>")) return TemplateFamily::kLlama3;
  if (has(t, "<｜User｜>") || has(t, "<｜Assistant｜>")) return TemplateFamily::kDeepSeek;
  // Qwen3's template writes reasoning between <think> tags; Qwen 2.5's has none.
  if (has(t, "<|im_start|>")) return has(t, "<think>") ? TemplateFamily::kQwen3 : TemplateFamily::kChatML;
  // Gemma 3's template puts the system text in the first user turn (first_user_prefix) and
  // knows images; Gemma 1/2's rejects a system role.
  if (has(t, "<start_of_turn>")) {
    return has(t, "first_user_prefix") || has(t, "<start_of_image>") ? TemplateFamily::kGemma3 : TemplateFamily::kGemma;
  }
  // Phi-4-mini builds the role markers ('<|' + role + '|>') and passes tools in <|tool|>.
  if (has(t, "<|tool|>") && has(t, "<|end|>")) return TemplateFamily::kPhi4Mini;
  if (has(t, "<|user|>") && has(t, "<|end|>")) return TemplateFamily::kPhi3;
  if (has(t, "<|user|>") && has(t, "<|assistant|>")) return TemplateFamily::kZephyr;
  if (has(t, "### Instruction:") && has(t, "### Response:")) return TemplateFamily::kDeepSeekCoder;
  if (has(t, "[INST]") && has(t, "<<SYS>>")) return TemplateFamily::kLlama2;
  if (has(t, "[INST]")) return TemplateFamily::kMistral;
  return TemplateFamily::kPlain;
}

std::string_view builtin_go_template(TemplateFamily family) {
  switch (family) {
    case TemplateFamily::kLlama2: return kLlama2;
    case TemplateFamily::kLlama3: return kLlama3;
    case TemplateFamily::kChatML: return kChatML;
    case TemplateFamily::kQwen3: return ollama_templates::qwen3();
    case TemplateFamily::kMistral: return kMistral;
    case TemplateFamily::kGemma: return kGemma;
    case TemplateFamily::kGemma3: return ollama_templates::gemma3();
    case TemplateFamily::kPhi3: return kPhi3;
    case TemplateFamily::kPhi4Mini: return ollama_templates::phi4_mini();
    case TemplateFamily::kGptOss: return ollama_templates::gpt_oss();
    case TemplateFamily::kZephyr: return kZephyr;
    case TemplateFamily::kDeepSeek: return kDeepSeek;
    case TemplateFamily::kDeepSeekCoder: return kDeepSeekCoder;
    case TemplateFamily::kPlain: return kPlain;
  }
  return kPlain;
}

std::vector<std::string> default_stops(TemplateFamily family) {
  // The lists Ollama ships with its templates (template/*.json) where it has one.
  switch (family) {
    case TemplateFamily::kLlama2: return {"[INST]", "[/INST]", "<<SYS>>", "<</SYS>>"};
    case TemplateFamily::kLlama3: return {"<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>"};
    case TemplateFamily::kChatML: return {"<|im_start|>", "<|im_end|>"};
    case TemplateFamily::kQwen3: return {"<|im_start|>", "<|im_end|>"};
    case TemplateFamily::kMistral: return {"[INST]", "[/INST]"};
    case TemplateFamily::kGemma: return {"<start_of_turn>", "<end_of_turn>"};
    case TemplateFamily::kGemma3: return {"<end_of_turn>"};  // template/gemma3-instruct.json
    case TemplateFamily::kPhi3:
    case TemplateFamily::kPhi4Mini: return {"<|end|>", "<|system|>", "<|user|>", "<|assistant|>"};
    case TemplateFamily::kGptOss: return {};  // <|return|> and <|call|> end generation as tokens
    case TemplateFamily::kZephyr: return {"<|system|>", "</s>", "<|user|>", "<|assistant|>"};
    case TemplateFamily::kDeepSeek:
      return {"<｜begin▁of▁sentence｜>", "<｜end▁of▁sentence｜>", "<｜User｜>", "<｜Assistant｜>"};
    case TemplateFamily::kDeepSeekCoder: return {"<|EOT|>", "### Instruction:"};
    case TemplateFamily::kPlain: return {"\nuser:", "\nsystem:", "\nassistant:"};
  }
  return {};
}

BuiltinTemplate builtin_template_for(std::string_view jinja_chat_template) {
  TemplateFamily family = detect_family(jinja_chat_template);
  if (family == TemplateFamily::kPlain) {
    spdlog::warn("chat template not recognised ({} bytes of Jinja); using the plain \"role: content\" format",
                 jinja_chat_template.size());
  } else {
    spdlog::debug("chat template recognised as {}", family_name(family));
  }
  return {family, builtin_go_template(family), default_stops(family)};
}

}  // namespace corral
