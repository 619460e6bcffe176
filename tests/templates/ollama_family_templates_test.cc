// The built-in templates of the families Ollama serves with a template of its own (qwen3,
// gemma3, phi4-mini, gpt-oss): one conversation (system, user, assistant with thinking and a
// tool call, tool result, user) rendered through each and compared with the text Ollama's
// template produces for it. The expected strings were written by hand from Ollama's template
// texts (sources in src/templates/ollama_library_templates.h) following Go's text/template
// rules; gemma3's also match Ollama's own template/testdata files. Detection is checked on the
// real Jinja templates of the shared synthetic models.
#include <gtest/gtest.h>

#include <ctime>
#include <string>
#include <vector>

#include "common/test_data.h"
#include "gguf/gguf_file.h"
#include "templates/builtin_templates.h"
#include "templates/chat_template.h"

namespace corral {
namespace {

using nlohmann::json;

const json kTools = json::parse(R"([{"type": "function", "function": {
    "name": "get_weather", "description": "Get the weather",
    "parameters": {"type": "object", "required": ["city"],
                   "properties": {"city": {"type": "string", "description": "City name"}}}}}])");
// {{ .Function }} and {{ .Tools }} print as Go's json.Marshal of Ollama's types.
const std::string kFunctionJson =
    R"({"name":"get_weather","description":"Get the weather","parameters":{"type":"object","required":["city"],)"
    R"("properties":{"city":{"type":"string","description":"City name"}}}})";

const json kCall = json::parse(R"([{"function": {"name": "get_weather", "arguments": {"city": "Paris"}}}])");

// The fixed conversation: a tool call answered, then a follow-up question.
const std::vector<ChatMessage> kConversation = {
    {.role = "system", .content = "You are a helpful assistant."},
    {.role = "user", .content = "What is the weather in Paris?"},
    {.role = "assistant", .content = "", .thinking = "The user wants the weather.", .tool_calls = kCall},
    {.role = "tool", .content = "{\"temp\": 21}", .tool_name = "get_weather"},
    {.role = "user", .content = "Thanks! And tomorrow?"},
};

// An agent loop's turn: the call and its result come after the last user message.
const std::vector<ChatMessage> kAfterCall = {
    {.role = "user", .content = "What is the weather in Paris?"},
    {.role = "assistant", .content = "", .thinking = "The user wants the weather.", .tool_calls = kCall},
    {.role = "tool", .content = "{\"temp\": 21}", .tool_name = "get_weather"},
};

std::string render(TemplateFamily family, const std::vector<ChatMessage>& messages, const json& tools,
                   const ThinkOption& think = {}) {
  auto t = GoTemplate::parse(builtin_go_template(family));
  if (!t.is_ok()) {
    ADD_FAILURE() << family_name(family) << ": " << t.error();
    return "";
  }
  auto r = render_chat(*t, messages, tools, think);
  if (!r.is_ok()) {
    ADD_FAILURE() << family_name(family) << ": " << r.error();
    return "";
  }
  return *r;
}

// ---- qwen3 (Ollama's qwen3 library template) ------------------------------------------------

const std::string kQwen3System =
    "<|im_start|>system\n\nYou are a helpful assistant.\n\n# Tools\n\nYou may call one or more functions to assist "
    "with the user query.\n\nYou are provided with function signatures within <tools></tools> XML tags:\n<tools>\n"
    "{\"type\": \"function\", \"function\": " +
    kFunctionJson +
    "}\n</tools>\n\nFor each function call, return a json object with function name and arguments within "
    "<tool_call></tool_call> XML tags:\n<tool_call>\n{\"name\": <function-name>, \"arguments\": "
    "<args-json-object>}\n</tool_call><|im_end|>\n";
// Thinking before the last user message is dropped; a turn with no content renders its calls.
const std::string kQwen3History =
    "<|im_start|>user\nWhat is the weather in Paris?<|im_end|>\n"
    "<|im_start|>assistant\n<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\":\"Paris\"}}\n"
    "</tool_call><|im_end|>\n"
    "<|im_start|>user\n<tool_response>\n{\"temp\": 21}\n</tool_response><|im_end|>\n";

TEST(OllamaFamilyTemplates, Qwen3ThinkOnMarksTheLastUserTurn) {
  EXPECT_EQ(render(TemplateFamily::kQwen3, kConversation, kTools, {.enabled = true}),
            kQwen3System + kQwen3History +
                "<|im_start|>user\nThanks! And tomorrow? /think<|im_end|>\n<|im_start|>assistant\n");
}

TEST(OllamaFamilyTemplates, Qwen3ThinkOffAddsNoThinkAndAnEmptyThinkBlock) {
  EXPECT_EQ(render(TemplateFamily::kQwen3, kConversation, kTools, {.enabled = false}),
            kQwen3System + kQwen3History +
                "<|im_start|>user\nThanks! And tomorrow? /no_think<|im_end|>\n<|im_start|>assistant\n"
                "<think>\n\n</think>\n\n");
}

TEST(OllamaFamilyTemplates, Qwen3ThinkUnsetLeavesTheTurnsAlone) {
  EXPECT_EQ(
      render(TemplateFamily::kQwen3, kConversation, kTools),
      kQwen3System + kQwen3History + "<|im_start|>user\nThanks! And tomorrow?<|im_end|>\n<|im_start|>assistant\n");
}

TEST(OllamaFamilyTemplates, Qwen3ToolsWithoutASystemMessage) {
  // No .System: the system turn still opens with the newline its {{ if .System }} leaves.
  const std::vector<ChatMessage> ask = {{.role = "user", .content = "Hi"}};
  const std::string out = render(TemplateFamily::kQwen3, ask, kTools, {.enabled = false});
  const std::string tools_part = kQwen3System.substr(kQwen3System.find("\n\n# Tools"));
  EXPECT_EQ(out, "<|im_start|>system\n" + tools_part +
                     "<|im_start|>user\nHi /no_think<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n");
}

TEST(OllamaFamilyTemplates, Qwen3KeepsThinkingAfterTheLastUserMessage) {
  EXPECT_EQ(render(TemplateFamily::kQwen3, kAfterCall, nullptr, {.enabled = true}),
            "<|im_start|>user\nWhat is the weather in Paris? /think<|im_end|>\n"
            "<|im_start|>assistant\n<think>The user wants the weather.</think>\n<tool_call>\n"
            "{\"name\": \"get_weather\", \"arguments\": {\"city\":\"Paris\"}}\n</tool_call><|im_end|>\n"
            "<|im_start|>user\n<tool_response>\n{\"temp\": 21}\n</tool_response><|im_end|>\n"
            "<|im_start|>assistant\n");
}

// ---- gemma3 (template/gemma3-instruct.gotmpl) --------------------------------------------------

TEST(OllamaFamilyTemplates, Gemma3MatchesOllamasTestdata) {
  // template/testdata/gemma3-instruct.gotmpl/system-user-assistant-user and user-assistant-user.
  const std::vector<ChatMessage> conversation = {
      {.role = "system", .content = "You are a helpful assistant."},
      {.role = "user", .content = "Hello, how are you?"},
      {.role = "assistant", .content = "I'm doing great. How can I help you today?"},
      {.role = "user", .content = "I'd like to show off how chat templating works!"},
  };
  EXPECT_EQ(render(TemplateFamily::kGemma3, conversation, nullptr),
            "<start_of_turn>user\nYou are a helpful assistant.\n\nHello, how are you?<end_of_turn>\n"
            "<start_of_turn>model\nI'm doing great. How can I help you today?<end_of_turn>\n"
            "<start_of_turn>user\nI'd like to show off how chat templating works!<end_of_turn>\n"
            "<start_of_turn>model\n\n");
  const std::vector<ChatMessage> no_system(conversation.begin() + 1, conversation.end());
  EXPECT_EQ(render(TemplateFamily::kGemma3, no_system, nullptr),
            "<start_of_turn>user\nHello, how are you?<end_of_turn>\n"
            "<start_of_turn>model\nI'm doing great. How can I help you today?<end_of_turn>\n"
            "<start_of_turn>user\nI'd like to show off how chat templating works!<end_of_turn>\n"
            "<start_of_turn>model\n\n");
}

TEST(OllamaFamilyTemplates, Gemma3RendersNeitherToolsNorThinking) {
  // Tool messages and calls have no place in Gemma 3's format: Ollama's template drops them.
  EXPECT_EQ(render(TemplateFamily::kGemma3, kConversation, kTools, {.enabled = true}),
            "<start_of_turn>user\nYou are a helpful assistant.\n\nWhat is the weather in Paris?<end_of_turn>\n"
            "<start_of_turn>model\n<end_of_turn>\n"
            "<start_of_turn>user\nThanks! And tomorrow?<end_of_turn>\n"
            "<start_of_turn>model\n\n");
}

// ---- phi4-mini (Ollama's phi4-mini library template) -----------------------------------------

TEST(OllamaFamilyTemplates, Phi4MiniToolsAndCalls) {
  // Ollama's template leaves each call object unclosed ({"name":...,"arguments":{...}): kept.
  EXPECT_EQ(render(TemplateFamily::kPhi4Mini, kConversation, kTools),
            "<|system|>You are a helpful assistant.<|tool|>[{\"type\":\"function\",\"function\":" + kFunctionJson +
                "}]<|/tool|><|end|>"
                "<|user|>What is the weather in Paris?<|end|>"
                "<|assistant|><|tool_call|>[{\"name\":\"get_weather\",\"arguments\":{\"city\":\"Paris\"}]"
                "<|/tool_call|><|end|>"
                "<|tool|>{\"temp\": 21}<|end|>"
                "<|user|>Thanks! And tomorrow?<|end|><|assistant|>");
}

TEST(OllamaFamilyTemplates, Phi4MiniDefaultSystemWithToolsAndNoEndWithout) {
  const std::vector<ChatMessage> ask = {{.role = "user", .content = "Hi"}};
  EXPECT_EQ(render(TemplateFamily::kPhi4Mini, ask, kTools),
            "<|system|>You are a helpful assistant with some tools.<|tool|>[{\"type\":\"function\",\"function\":" +
                kFunctionJson + "}]<|/tool|><|end|><|user|>Hi<|end|><|assistant|>");
  // Ollama's template closes the system turn only when tools are offered.
  const std::vector<ChatMessage> with_system = {{.role = "system", .content = "Be brief."},
                                                {.role = "user", .content = "Hi"}};
  EXPECT_EQ(render(TemplateFamily::kPhi4Mini, with_system, nullptr),
            "<|system|>Be brief.<|user|>Hi<|end|><|assistant|>");
}

// ---- gpt-oss (harmony: Ollama's gptossDefaultTemplate) ----------------------------------------

// currentDate: the server's local date, as Ollama's template function writes it.
std::string today() {
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  localtime_r(&now, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d", &tm);
  return buf;
}

// Renders twice around midnight rather than flaking: the date is read before and after.
std::string render_dated(TemplateFamily family, const std::vector<ChatMessage>& messages, const json& tools,
                         const ThinkOption& think, std::string* date) {
  for (;;) {
    *date = today();
    std::string out = render(family, messages, tools, think);
    if (*date == today()) return out;
  }
}

std::string harmony_system(const std::string& date, const std::string& reasoning, bool functions) {
  std::string s =
      "<|start|>system<|message|>You are ChatGPT, a large language model trained by OpenAI.\n"
      "Knowledge cutoff: 2024-06\nCurrent date: " +
      date;
  if (!reasoning.empty()) s += "\n\nReasoning: " + reasoning;
  s += "\n\n# Valid channels: analysis, commentary, final. Channel must be included for every message.";
  if (functions) s += "\nCalls to these tools must go to the commentary channel: 'functions'.";
  return s + "<|end|>";
}

TEST(OllamaFamilyTemplates, GptOssHarmonyWithToolsAndAThinkingLevel) {
  std::string date;
  const std::string out = render_dated(TemplateFamily::kGptOss, kConversation, kTools, {.level = "high"}, &date);
  EXPECT_EQ(out, harmony_system(date, "high", true) +
                     "<|start|>developer<|message|># Tools\n\n## functions\n\nnamespace functions {\n\n"
                     "// Get the weather\ntype get_weather = (_: {\n  // City name\n  city: string,\n}) => any;\n\n"
                     "} // namespace functions\n\n# Instructions\n\nYou are a helpful assistant.<|end|>"
                     "<|start|>user<|message|>What is the weather in Paris?<|end|>"
                     "<|start|>assistant<|channel|>commentary to=functions.get_weather <|constrain|>json"
                     "<|message|>{\"city\":\"Paris\"}<|call|>"
                     "<|start|>functions.get_weather to=assistant<|message|>{\"temp\": 21}<|end|>"
                     "<|start|>user<|message|>Thanks! And tomorrow?<|end|>"
                     "<|start|>assistant");
}

TEST(OllamaFamilyTemplates, GptOssAnalysisChannelAfterTheLastUserMessage) {
  std::string date;
  // think: true is Ollama's "medium"; the call's reasoning stays on the analysis channel.
  const std::string out = render_dated(TemplateFamily::kGptOss, kAfterCall, nullptr, {.enabled = true}, &date);
  EXPECT_EQ(out, harmony_system(date, "medium", false) +
                     "<|start|>user<|message|>What is the weather in Paris?<|end|>"
                     "<|start|>assistant<|channel|>analysis<|message|>The user wants the weather.<|end|>"
                     "<|start|>assistant<|channel|>commentary to=functions.get_weather <|constrain|>json"
                     "<|message|>{\"city\":\"Paris\"}<|call|>"
                     "<|start|>functions.get_weather to=assistant<|message|>{\"temp\": 21}<|end|>"
                     "<|start|>assistant");
}

TEST(OllamaFamilyTemplates, GptOssReasoningLine) {
  const std::vector<ChatMessage> ask = {{.role = "user", .content = "Hi"}};
  const std::string tail = "<|start|>user<|message|>Hi<|end|><|start|>assistant";
  std::string date;
  // Unset: medium. Off: no reasoning line. A level: that level.
  std::string out = render_dated(TemplateFamily::kGptOss, ask, nullptr, {}, &date);
  EXPECT_EQ(out, harmony_system(date, "medium", false) + tail);
  out = render_dated(TemplateFamily::kGptOss, ask, nullptr, {.enabled = false}, &date);
  EXPECT_EQ(out, harmony_system(date, "", false) + tail);
  out = render_dated(TemplateFamily::kGptOss, ask, nullptr, {.level = "low"}, &date);
  EXPECT_EQ(out, harmony_system(date, "low", false) + tail);
}

TEST(OllamaFamilyTemplates, GptOssTrailingAssistantMessageIsAPrefill) {
  const std::vector<ChatMessage> prefill = {{.role = "user", .content = "Hi"},
                                            {.role = "assistant", .content = "Hello"}};
  std::string date;
  const std::string out = render_dated(TemplateFamily::kGptOss, prefill, nullptr, {.enabled = true}, &date);
  EXPECT_EQ(out, harmony_system(date, "medium", false) +
                     "<|start|>user<|message|>Hi<|end|><|start|>assistant<|channel|>final<|message|>Hello");
}

// ---- detection from the models' own Jinja templates ---------------------------------------------

std::string jinja_of(const std::string& model) {
  auto f = gguf::GgufFile::open(testing::test_data_path("models/synthetic/" + model));
  if (!f) {
    ADD_FAILURE() << model << ": " << f.error();
    return "";
  }
  return (*f)->string_or("tokenizer.chat_template", "");
}

TEST(OllamaFamilyTemplates, DetectedFromTheSharedModelsJinja) {
  const std::pair<const char*, TemplateFamily> cases[] = {
      {"syn-qwen3-q8_0.gguf", TemplateFamily::kQwen3},     // Qwen3-0.6B's template
      {"syn-qwen3moe-q8_0.gguf", TemplateFamily::kQwen3},  // the same for Qwen3-30B-A3B
      {"syn-gemma3-q8_0.gguf", TemplateFamily::kGemma3},   // Gemma 3's (Ollama's gemma3-instruct entry)
      {"syn-phi3-q8_0.gguf", TemplateFamily::kPhi3},       // Phi-3.5-mini's: no tools
      {"syn-gptoss-q8_0.gguf", TemplateFamily::kGptOss},   // gpt-oss-120b's harmony template
  };
  for (const auto& [model, family] : cases) {
    const std::string jinja = jinja_of(model);
    ASSERT_FALSE(jinja.empty()) << model;
    EXPECT_EQ(family_name(detect_family(jinja)), family_name(family)) << model;
  }
}

TEST(OllamaFamilyTemplates, DetectsPhi4MiniFromItsJinja) {
  // microsoft/Phi-4-mini-instruct's chat_template: role markers are built, tools go in <|tool|>.
  const char* phi4_mini =
      "{% for message in messages %}{% if message['role'] == 'system' and 'tools' in message and message['tools'] "
      "is not none %}{{ '<|' + message['role'] + '|>' + message['content'] + '<|tool|>' + message['tools'] + "
      "'<|/tool|>' + '<|end|>' }}{% else %}{{ '<|' + message['role'] + '|>' + message['content'] + '<|end|>' }}"
      "{% endif %}{% endfor %}{% if add_generation_prompt %}{{ '<|assistant|>' }}{% else %}{{ eos_token }}{% endif %}";
  EXPECT_EQ(family_name(detect_family(phi4_mini)), "phi4-mini");
}

TEST(OllamaFamilyTemplates, NamesAndStops) {
  EXPECT_EQ(family_name(TemplateFamily::kQwen3), "qwen3");
  EXPECT_EQ(family_name(TemplateFamily::kGemma3), "gemma3");
  EXPECT_EQ(family_name(TemplateFamily::kPhi4Mini), "phi4-mini");
  EXPECT_EQ(family_name(TemplateFamily::kGptOss), "gpt-oss");
  EXPECT_EQ(default_stops(TemplateFamily::kQwen3), (std::vector<std::string>{"<|im_start|>", "<|im_end|>"}));
  EXPECT_EQ(default_stops(TemplateFamily::kGemma3), (std::vector<std::string>{"<end_of_turn>"}));
  EXPECT_TRUE(default_stops(TemplateFamily::kGptOss).empty());
}

}  // namespace
}  // namespace corral
