// Built-in family templates: one conversation rendered through each family and compared
// with the prompt the model's documented format prescribes; detection from Jinja excerpts.
#include "templates/builtin_templates.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "templates/chat_template.h"

namespace corral {
namespace {

using nlohmann::json;

const std::vector<ChatMessage> kConversation = {
    {.role = "system", .content = "You are a helpful assistant."},
    {.role = "user", .content = "Hello, how are you?"},
    {.role = "assistant", .content = "I'm doing great. How can I help you today?"},
    {.role = "user", .content = "I'd like to show off how chat templating works!"},
};

std::string render_family(TemplateFamily family, const std::vector<ChatMessage>& messages,
                          const json& tools = nullptr) {
  auto t = GoTemplate::parse(builtin_go_template(family));
  if (!t.is_ok()) {
    ADD_FAILURE() << family_name(family) << ": " << t.error();
    return "";
  }
  auto r = render_chat(*t, messages, tools);
  if (!r.is_ok()) {
    ADD_FAILURE() << family_name(family) << ": " << r.error();
    return "";
  }
  return *r;
}

TEST(BuiltinTemplates, Llama3) {
  EXPECT_EQ(render_family(TemplateFamily::kLlama3, kConversation),
            "<|start_header_id|>system<|end_header_id|>\n\nYou are a helpful assistant.<|eot_id|>"
            "<|start_header_id|>user<|end_header_id|>\n\nHello, how are you?<|eot_id|>"
            "<|start_header_id|>assistant<|end_header_id|>\n\nI'm doing great. How can I help you today?<|eot_id|>"
            "<|start_header_id|>user<|end_header_id|>\n\nI'd like to show off how chat templating works!<|eot_id|>"
            "<|start_header_id|>assistant<|end_header_id|>\n\n");
}

TEST(BuiltinTemplates, ChatML) {
  EXPECT_EQ(render_family(TemplateFamily::kChatML, kConversation),
            "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n"
            "<|im_start|>user\nHello, how are you?<|im_end|>\n"
            "<|im_start|>assistant\nI'm doing great. How can I help you today?<|im_end|>\n"
            "<|im_start|>user\nI'd like to show off how chat templating works!<|im_end|>\n"
            "<|im_start|>assistant\n");
}

TEST(BuiltinTemplates, Mistral) {
  // mistral-common v3: the system prompt goes with the last user message.
  EXPECT_EQ(render_family(TemplateFamily::kMistral, kConversation),
            "[INST] Hello, how are you?[/INST] I'm doing great. How can I help you today?</s>"
            "[INST] You are a helpful assistant.\n\nI'd like to show off how chat templating works![/INST]");
}

TEST(BuiltinTemplates, Llama2) {
  EXPECT_EQ(render_family(TemplateFamily::kLlama2, kConversation),
            "[INST] <<SYS>>\nYou are a helpful assistant.\n<</SYS>>\n\nHello, how are you? [/INST]"
            " I'm doing great. How can I help you today? </s>"
            "<s>[INST] I'd like to show off how chat templating works! [/INST]");
}

TEST(BuiltinTemplates, Gemma) {
  EXPECT_EQ(render_family(TemplateFamily::kGemma, kConversation),
            "<start_of_turn>user\nYou are a helpful assistant.\n\nHello, how are you?<end_of_turn>\n"
            "<start_of_turn>model\nI'm doing great. How can I help you today?<end_of_turn>\n"
            "<start_of_turn>user\nI'd like to show off how chat templating works!<end_of_turn>\n"
            "<start_of_turn>model\n");
}

TEST(BuiltinTemplates, Phi3) {
  EXPECT_EQ(render_family(TemplateFamily::kPhi3, kConversation),
            "<|system|>\nYou are a helpful assistant.<|end|>\n"
            "<|user|>\nHello, how are you?<|end|>\n"
            "<|assistant|>\nI'm doing great. How can I help you today?<|end|>\n"
            "<|user|>\nI'd like to show off how chat templating works!<|end|>\n"
            "<|assistant|>\n");
}

TEST(BuiltinTemplates, Zephyr) {
  EXPECT_EQ(render_family(TemplateFamily::kZephyr, kConversation),
            "<|system|>\nYou are a helpful assistant.</s>\n"
            "<|user|>\nHello, how are you?</s>\n"
            "<|assistant|>\nI'm doing great. How can I help you today?</s>\n"
            "<|user|>\nI'd like to show off how chat templating works!</s>\n"
            "<|assistant|>\n");
}

TEST(BuiltinTemplates, DeepSeek) {
  EXPECT_EQ(render_family(TemplateFamily::kDeepSeek, kConversation),
            "You are a helpful assistant.<｜User｜>Hello, how are you?"
            "<｜Assistant｜>I'm doing great. How can I help you today?<｜end▁of▁sentence｜>"
            "<｜User｜>I'd like to show off how chat templating works!<｜Assistant｜>");
}

TEST(BuiltinTemplates, DeepSeekCoder) {
  EXPECT_EQ(render_family(TemplateFamily::kDeepSeekCoder, kConversation),
            "You are a helpful assistant.\n"
            "### Instruction:\nHello, how are you?\n"
            "### Response:\nI'm doing great. How can I help you today?\n<|EOT|>\n"
            "### Instruction:\nI'd like to show off how chat templating works!\n"
            "### Response:\n");
}

TEST(BuiltinTemplates, PlainFallback) {
  EXPECT_EQ(render_family(TemplateFamily::kPlain, kConversation),
            "system: You are a helpful assistant.\n"
            "user: Hello, how are you?\n"
            "assistant: I'm doing great. How can I help you today?\n"
            "user: I'd like to show off how chat templating works!\n"
            "assistant:");
}

TEST(BuiltinTemplates, TrailingAssistantMessageIsLeftOpenAsAPrefill) {
  std::vector<ChatMessage> prefill = {{.role = "user", .content = "Name a color."},
                                      {.role = "assistant", .content = "The color is"}};
  EXPECT_EQ(render_family(TemplateFamily::kChatML, prefill),
            "<|im_start|>user\nName a color.<|im_end|>\n<|im_start|>assistant\nThe color is");
  EXPECT_EQ(render_family(TemplateFamily::kLlama3, prefill),
            "<|start_header_id|>user<|end_header_id|>\n\nName a color.<|eot_id|>"
            "<|start_header_id|>assistant<|end_header_id|>\n\nThe color is");
  EXPECT_EQ(render_family(TemplateFamily::kMistral, prefill), "[INST] Name a color.[/INST] The color is");
  EXPECT_EQ(render_family(TemplateFamily::kGemma, prefill),
            "<start_of_turn>user\nName a color.<end_of_turn>\n<start_of_turn>model\nThe color is");
}

const json kTools = json::parse(R"([{"type": "function", "function": {
    "name": "get_weather", "description": "Get the weather",
    "parameters": {"type": "object", "required": ["city"],
                   "properties": {"city": {"type": "string", "description": "City name"}}}}}])");
const char* kToolJson =
    R"({"type":"function","function":{"name":"get_weather","description":"Get the weather",)"
    R"("parameters":{"type":"object","required":["city"],"properties":{"city":{"type":"string","description":"City name"}}}}})";

const std::vector<ChatMessage> kToolConversation = {
    {.role = "user", .content = "Weather in Paris?"},
    {.role = "assistant",
     .content = "",
     .tool_calls = json::parse(R"([{"function": {"name": "get_weather", "arguments": {"city": "Paris"}}}])")},
    {.role = "tool", .content = "{\"temp\": 21}", .tool_name = "get_weather"},
};

TEST(BuiltinTemplates, ChatMLToolCallsFollowQwen) {
  EXPECT_EQ(
      render_family(TemplateFamily::kChatML, kToolConversation, kTools),
      std::string("<|im_start|>system\n# Tools\n\nYou may call one or more functions to assist with the user "
                  "query.\n\nYou are provided with function signatures within <tools></tools> XML tags:\n<tools>\n") +
          kToolJson +
          "\n</tools>\n\nFor each function call, return a json object with function name and arguments within "
          "<tool_call></tool_call> XML tags:\n<tool_call>\n{\"name\": <function-name>, \"arguments\": "
          "<args-json-object>}\n</tool_call><|im_end|>\n"
          "<|im_start|>user\nWeather in Paris?<|im_end|>\n"
          "<|im_start|>assistant\n<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\":\"Paris\"}}\n"
          "</tool_call><|im_end|>\n"
          "<|im_start|>user\n<tool_response>\n{\"temp\": 21}\n</tool_response><|im_end|>\n"
          "<|im_start|>assistant\n");
}

TEST(BuiltinTemplates, Llama3ToolCallsFollowLlama31) {
  std::vector<ChatMessage> ask = {{.role = "user", .content = "Weather in Paris?"}};
  EXPECT_EQ(render_family(TemplateFamily::kLlama3, ask, kTools),
            std::string("<|start_header_id|>system<|end_header_id|>\n\nYou are a helpful assistant with tool calling "
                        "capabilities. When you receive a tool call response, use the output to format an answer to "
                        "the original user question.<|eot_id|>"
                        "<|start_header_id|>user<|end_header_id|>\n\nGiven the following functions, please respond "
                        "with a JSON for a function call with its proper arguments that best answers the given "
                        "prompt.\n\nRespond in the format {\"name\": function name, \"parameters\": dictionary of "
                        "argument name and its value}. Do not use variables.\n\n") +
                kToolJson + "\n\nWeather in Paris?<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n");
  std::string full = render_family(TemplateFamily::kLlama3, kToolConversation, kTools);
  EXPECT_NE(full.find("<|start_header_id|>assistant<|end_header_id|>\n\n{\"name\": \"get_weather\", \"parameters\": "
                      "{\"city\":\"Paris\"}}<|eot_id|><|start_header_id|>ipython<|end_header_id|>\n\n{\"temp\": "
                      "21}<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n"),
            std::string::npos)
      << full;
}

TEST(BuiltinTemplates, MistralToolCalls) {
  EXPECT_EQ(render_family(TemplateFamily::kMistral, kToolConversation, kTools),
            std::string("[AVAILABLE_TOOLS] [") + kToolJson +
                "][/AVAILABLE_TOOLS][INST] Weather in Paris?[/INST]"
                "[TOOL_CALLS] [{\"name\": \"get_weather\", \"arguments\": {\"city\":\"Paris\"}}]</s>"
                "[TOOL_RESULTS] {\"content\": {\"temp\": 21}}[/TOOL_RESULTS]");
}

TEST(BuiltinTemplates, EveryFamilyHasANameTemplateAndStops) {
  for (TemplateFamily f :
       {TemplateFamily::kLlama2, TemplateFamily::kLlama3, TemplateFamily::kChatML, TemplateFamily::kQwen3,
        TemplateFamily::kMistral, TemplateFamily::kGemma, TemplateFamily::kGemma3, TemplateFamily::kPhi3,
        TemplateFamily::kPhi4Mini, TemplateFamily::kGptOss, TemplateFamily::kZephyr, TemplateFamily::kDeepSeek,
        TemplateFamily::kDeepSeekCoder, TemplateFamily::kPlain}) {
    EXPECT_FALSE(family_name(f).empty());
    auto t = GoTemplate::parse(builtin_go_template(f));
    ASSERT_TRUE(t.is_ok()) << family_name(f) << ": " << t.error();
    EXPECT_TRUE(t->mentions("messages")) << family_name(f);
    // gpt-oss ends its replies with end-of-generation tokens (<|return|>, <|call|>), no stop strings.
    if (f != TemplateFamily::kGptOss) { EXPECT_FALSE(default_stops(f).empty()) << family_name(f); }
  }
  EXPECT_EQ(default_stops(TemplateFamily::kLlama3),
            (std::vector<std::string>{"<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>"}));
  EXPECT_EQ(default_stops(TemplateFamily::kChatML), (std::vector<std::string>{"<|im_start|>", "<|im_end|>"}));
}

// Short excerpts in the style of each model's Hugging Face `chat_template`.
struct Detection {
  const char* jinja;
  TemplateFamily family;
};

TEST(BuiltinTemplates, DetectsFamilyFromJinja) {
  const Detection cases[] = {
      {"{% for message in messages %}{{ '<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n' + "
       "message['content'] | trim + '<|eot_id|>' }}{% endfor %}{% if add_generation_prompt %}"
       "{{ '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}{% endif %}",
       TemplateFamily::kLlama3},
      {"{%- for message in messages %}{{- '<|im_start|>' + message.role + '\\n' + message.content + '<|im_end|>\\n' }}"
       "{%- endfor %}{%- if tools %}<tool_call>{%- endif %}{%- if add_generation_prompt %}{{ "
       "'<|im_start|>assistant\\n' }}"
       "{%- endif %}",
       TemplateFamily::kChatML},
      {"{{ bos_token }}{% for message in messages %}{% if message['role'] == 'user' %}{{ '[INST] ' + "
       "message['content'] + "
       "' [/INST]' }}{% elif message['role'] == 'assistant' %}{{ message['content'] + eos_token }}{% endif %}{% endfor "
       "%}",
       TemplateFamily::kMistral},
      {"{%- if messages[0]['role'] == 'system' %}{%- set system_message = messages[0]['content'] %}{%- endif %}"
       "{{- bos_token }}[SYSTEM_PROMPT]{{ system_message }}[/SYSTEM_PROMPT]{%- for message in loop_messages %}"
       "[INST]{{ message['content'] }}[/INST]{%- endfor %}",
       TemplateFamily::kMistral},
      {"{% if loop.index0 == 0 and system_message != false %}{% set content = '<<SYS>>\\n' + system_message + "
       "'\\n<</SYS>>\\n\\n' + message['content'] %}{% endif %}{{ bos_token + '[INST] ' + content | trim + ' [/INST]' "
       "}}",
       TemplateFamily::kLlama2},
      {"{{ bos_token }}{% for message in messages %}{% if (message['role'] == 'assistant') %}{% set role = 'model' %}"
       "{% else %}{% set role = message['role'] %}{% endif %}{{ '<start_of_turn>' + role + '\\n' + message['content'] "
       "| "
       "trim + '<end_of_turn>\\n' }}{% endfor %}{% if add_generation_prompt %}{{'<start_of_turn>model\\n'}}{% endif %}",
       TemplateFamily::kGemma},
      {"{% for message in messages %}{% if message['role'] == 'system' %}{{'<|system|>\\n' + message['content'] + "
       "'<|end|>\\n'}}{% elif message['role'] == 'user' %}{{'<|user|>\\n' + message['content'] + '<|end|>\\n'}}"
       "{% elif message['role'] == 'assistant' %}{{'<|assistant|>\\n' + message['content'] + '<|end|>\\n'}}{% endif %}"
       "{% endfor %}{% if add_generation_prompt %}{{ '<|assistant|>\\n' }}{% endif %}",
       TemplateFamily::kPhi3},
      {"{% for message in messages %}\n{% if message['role'] == 'user' %}\n{{ '<|user|>\\n' + message['content'] + "
       "eos_token }}\n{% elif message['role'] == 'assistant' %}\n{{ '<|assistant|>\\n' + message['content'] + "
       "eos_token }}"
       "\n{% endif %}\n{% if loop.last and add_generation_prompt %}\n{{ '<|assistant|>' }}\n{% endif %}\n{% endfor %}",
       TemplateFamily::kZephyr},
      {"{{ bos_token }}{{ ns.system_prompt }}{%- for message in messages %}{%- if message['role'] == 'user' %}"
       "{{'<｜User｜>' + message['content']}}{%- endif %}{%- if message['role'] == 'assistant' %}{{'<｜Assistant｜>' + "
       "content + '<｜end▁of▁sentence｜>'}}{%- endif %}{%- endfor -%}{% if add_generation_prompt %}"
       "{{'<｜Assistant｜><think>\\n'}}{% endif %}",
       TemplateFamily::kDeepSeek},
      {"{%- if message['role'] == 'user' %}\n{{'### Instruction:\\n' + message['content'] + '\\n'}}\n{%- else %}\n"
       "{{'### Response:\\n' + message['content'] + '\\n<|EOT|>\\n'}}\n{%- endif %}\n{% if add_generation_prompt %}"
       "{{'### Response:'}}{% endif %}",
       TemplateFamily::kDeepSeekCoder},
      {"{% for message in messages %}{{ message['role'] }}: {{ message['content'] }}\n{% endfor %}",
       TemplateFamily::kPlain},
      {"", TemplateFamily::kPlain},
  };
  for (const Detection& c : cases) EXPECT_EQ(family_name(detect_family(c.jinja)), family_name(c.family)) << c.jinja;
}

TEST(BuiltinTemplates, BuiltinTemplateForBundlesTemplateAndStops) {
  BuiltinTemplate b = builtin_template_for("{{ '<|im_start|>' + message['role'] }}");
  EXPECT_EQ(b.family, TemplateFamily::kChatML);
  EXPECT_EQ(b.go_template, builtin_go_template(TemplateFamily::kChatML));
  EXPECT_EQ(b.stops, default_stops(TemplateFamily::kChatML));
  BuiltinTemplate plain = builtin_template_for("{{ something unknown }}");  // logs a warning
  EXPECT_EQ(plain.family, TemplateFamily::kPlain);
}

}  // namespace
}  // namespace corral
