// Ollama's template semantics: which values a template gets, message collation, the legacy
// (.System/.Prompt/.Response) rendering of multi-turn chats with the cut after .Response,
// generate and fill-in-the-middle.
#include "templates/chat_template.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace corral {
namespace {

using nlohmann::json;

std::string chat(std::string_view tmpl, const std::vector<ChatMessage>& messages, const json& tools = nullptr,
                 const ThinkOption& think = {}) {
  auto t = GoTemplate::parse(tmpl);
  if (!t.is_ok()) {
    ADD_FAILURE() << t.error();
    return "";
  }
  auto r = render_chat(*t, messages, tools, think);
  if (!r.is_ok()) {
    ADD_FAILURE() << r.error();
    return "";
  }
  return *r;
}

std::string generate(std::string_view tmpl, std::string_view system, std::string_view prompt,
                     std::string_view suffix = {}) {
  auto t = GoTemplate::parse(tmpl);
  if (!t.is_ok()) {
    ADD_FAILURE() << t.error();
    return "";
  }
  auto r = render_generate(*t, system, prompt, suffix);
  if (!r.is_ok()) {
    ADD_FAILURE() << r.error();
    return "";
  }
  return *r;
}

const std::vector<ChatMessage> kChat = {{.role = "user", .content = "Hello friend!"},
                                        {.role = "assistant", .content = "Hello human!"},
                                        {.role = "user", .content = "What is your name?"}};

std::vector<ChatMessage> with_system(std::vector<ChatMessage> m) {
  m.insert(m.begin(), {.role = "system", .content = "You are a helpful assistant!"});
  return m;
}

TEST(ChatTemplate, LegacyTemplateRendersOneExchangePerTurn) {
  // The same Mistral prompt from a template without .Response (Ollama appends it), with
  // .Response, and from a .Messages template.
  const char* no_response = "[INST] {{ if .System }}{{ .System }}\n\n{{ end }}{{ .Prompt }}[/INST] ";
  const char* response = "[INST] {{ if .System }}{{ .System }}\n\n{{ end }}{{ .Prompt }}[/INST] {{ .Response }}";
  const char* messages =
      "[INST] {{ if .System }}{{ .System }}\n\n{{ end }}{{- range .Messages }}{{- if eq .Role \"user\" }}{{ .Content }}"
      "[/INST] {{ else if eq .Role \"assistant\" }}{{ .Content }}[INST] {{ end }}{{- end }}";
  const std::string expected = "[INST] Hello friend![/INST] Hello human![INST] What is your name?[/INST] ";
  EXPECT_EQ(chat(no_response, kChat), expected);
  EXPECT_EQ(chat(response, kChat), expected);
  EXPECT_EQ(chat(messages, kChat), expected);

  const std::string expected_system =
      "[INST] You are a helpful assistant!\n\nHello friend![/INST] Hello human![INST] What is your name?[/INST] ";
  EXPECT_EQ(chat(no_response, with_system(kChat)), expected_system);
  EXPECT_EQ(chat(response, with_system(kChat)), expected_system);
  EXPECT_EQ(chat(messages, with_system(kChat)), expected_system);
}

TEST(ChatTemplate, LegacyChatMLIsCutAfterResponse) {
  // Everything after {{ .Response }} ("<|im_end|>\n") is dropped from the last exchange, so the
  // prompt ends where the reply starts.
  const char* legacy =
      "{{ if .System }}<|im_start|>system\n{{ .System }}<|im_end|>\n{{ end }}{{ if .Prompt }}<|im_start|>user\n"
      "{{ .Prompt }}<|im_end|>\n{{ end }}<|im_start|>assistant\n{{ .Response }}<|im_end|>\n";
  EXPECT_EQ(chat(legacy, with_system(kChat)),
            "<|im_start|>system\nYou are a helpful assistant!<|im_end|>\n<|im_start|>user\nHello friend!<|im_end|>\n"
            "<|im_start|>assistant\nHello human!<|im_end|>\n<|im_start|>user\nWhat is your name?<|im_end|>\n"
            "<|im_start|>assistant\n");
}

TEST(ChatTemplate, LegacyTrailingAssistantMessageIsAPrefill) {
  std::vector<ChatMessage> m = kChat;
  m.push_back({.role = "assistant", .content = "My name is Ollama and I"});
  const std::string expected =
      "[INST] Hello friend![/INST] Hello human![INST] What is your name?[/INST] My name is Ollama and I";
  EXPECT_EQ(chat("[INST] {{ .Prompt }}[/INST] ", m), expected);
  // Earlier exchanges render whole; only the last one is cut after {{ .Response }}.
  EXPECT_EQ(chat("[INST] {{ .Prompt }}[/INST] {{ .Response }}</s>", m),
            "[INST] Hello friend![/INST] Hello human!</s>[INST] What is your name?[/INST] My name is Ollama and I");
}

TEST(ChatTemplate, LegacySystemAfterAReplyStartsANewExchange) {
  std::vector<ChatMessage> m = {{.role = "user", .content = "u1"},
                                {.role = "assistant", .content = "a1"},
                                {.role = "system", .content = "s2"},
                                {.role = "user", .content = "u2"}};
  EXPECT_EQ(chat("({{ .System }}|{{ .Prompt }}|{{ .Response }})", m), "(|u1|a1)(s2|u2|");
}

TEST(ChatTemplate, DefaultPromptOnlyTemplateConcatenatesTurns) {
  // Ollama's default template for imported models is "{{ .Prompt }}".
  EXPECT_EQ(chat("{{ .Prompt }}", kChat), "Hello friend!Hello human!What is your name?");
}

TEST(ChatTemplate, MessagesTemplatesSeeSystemMessagesAndTools) {
  std::vector<ChatMessage> m = {
      {.role = "system", .content = "s1"}, {.role = "user", .content = "u"}, {.role = "system", .content = "s2"}};
  EXPECT_EQ(chat("[{{ .System }}]{{ range .Messages }}<{{ .Role }}:{{ .Content }}>{{ end }}", m),
            "[s1\n\ns2]<system:s1><user:u><system:s2>");
  // No tools: .Tools is nil.
  EXPECT_EQ(chat("{{ if .Tools }}tools{{ else }}none{{ end }} {{ json .Tools }} {{ len .Tools }}{{ .Messages }}", {}),
            "none null 0[]");
}

TEST(ChatTemplate, ConsecutiveSameRoleMessagesAreMergedExceptTools) {
  std::vector<ChatMessage> m = {{.role = "user", .content = "a"},
                                {.role = "user", .content = "b"},
                                {.role = "tool", .content = "t1", .tool_call_id = "1"},
                                {.role = "tool", .content = "t2", .tool_call_id = "2"}};
  EXPECT_EQ(chat("{{ range .Messages }}<{{ .Role }}:{{ .Content }}{{ .ToolCallID }}>{{ end }}", m),
            "<user:a\n\nb><tool:t11><tool:t22>");
}

TEST(ChatTemplate, ToolsAndToolCallsHaveOllamasShape) {
  // Key order in, Go struct order out; missing description becomes "".
  json tools = json::parse(R"([{"function": {"parameters": {"properties": {"b": {"type": "string", "x-extra": 1},
      "a": {"description": "first", "enum": ["p", "q"], "type": "string"}}, "type": "object"}, "name": "f"},
      "type": "function"}])");
  EXPECT_EQ(chat("{{ json .Tools }}|{{ range .Tools }}{{ .Function.Name }}[{{ .Function.Description }}]"
                 "{{ range $k, $v := .Function.Parameters.Properties }} {{ $k }}:{{ $v.Type }}{{ end }}{{ end }}"
                 "{{ range .Messages }}{{ end }}",
                 {}, tools),
            R"([{"type":"function","function":{"name":"f","description":"","parameters":{"type":"object",)"
            R"("properties":{"a":{"type":"string","description":"first","enum":["p","q"]},"b":{"type":"string"}}}}}])"
            "|f[] a:string b:string");

  std::vector<ChatMessage> m = {
      {.role = "assistant",
       .tool_calls = json::parse(R"([{"id": "c1", "function": {"name": "f", "arguments": {"z": 1, "a": "x"}}},
                                    {"function": {"name": "g", "arguments": "{\"k\": [1, 2]}"}}])")}};
  EXPECT_EQ(chat("{{ range .Messages }}{{ range .ToolCalls }}({{ .ID }} {{ .Function.Name }} {{ .Function.Arguments }})"
                 "{{ end }}{{ end }}",
                 m),
            "(c1 f {\"a\":\"x\",\"z\":1})( g {\"k\":[1,2]})");
}

TEST(ChatTemplate, ThinkValues) {
  const char* t = "{{ .Think }}/{{ .ThinkLevel }}/{{ .IsThinkSet }}{{ .Messages }}";
  EXPECT_EQ(chat(t, {}, nullptr, {}), "false//false[]");
  EXPECT_EQ(chat(t, {}, nullptr, {.enabled = false}), "false//true[]");
  // Ollama's ThinkValue.String() of a bare true is "medium".
  EXPECT_EQ(chat(t, {}, nullptr, {.enabled = true}), "true/medium/true[]");
  EXPECT_EQ(chat(t, {}, nullptr, {.level = "high"}), "true/high/true[]");
}

TEST(ChatTemplate, GenerateUsesSystemAndPrompt) {
  const char* legacy = "{{ if .System }}<<{{ .System }}>>{{ end }}[{{ .Prompt }}]";
  EXPECT_EQ(generate(legacy, "sys", "hi"), "<<sys>>[hi]");
  EXPECT_EQ(generate(legacy, "", "hi"), "[hi]");
  const char* messages = "{{ .System }}{{ range .Messages }}|{{ .Role }}={{ .Content }}{{ end }}";
  EXPECT_EQ(generate(messages, "sys", "hi"), "sys|system=sys|user=hi");
}

TEST(ChatTemplate, FillInTheMiddle) {
  const char* t = "{{- if .Suffix }}<PRE> {{ .Prompt }} <SUF>{{ .Suffix }} <MID>{{- else }}{{ .Prompt }}{{- end }}";
  EXPECT_EQ(generate(t, "", "def add(", "return x"), "<PRE> def add( <SUF>return x <MID>");
  EXPECT_EQ(generate(t, "", "hello"), "hello");
}

TEST(ChatTemplate, CutAfterResponseKeepsTheResponseAction) {
  auto t = GoTemplate::parse("A{{ .Prompt }}B{{ if .X }}{{ .Response }}C{{ end }}D{{ .Prompt }}");
  ASSERT_TRUE(t.is_ok());
  GoTemplate cut = t->cut_after_response();
  json data = {{"Prompt", "p"}, {"Response", "r"}, {"X", true}};
  EXPECT_EQ(t->execute(data).value(), "ApBrCDp");
  EXPECT_EQ(cut.execute(data).value(), "ApBr");
  EXPECT_EQ(cut.source(), t->source());
}

TEST(ChatTemplate, IdentifiersAreLowerCasedFieldAndVariableNames) {
  auto t = GoTemplate::parse("{{ range $i, $m := .Messages }}{{ $m.Role }}{{ $.System }}{{ end }}{{ json .Tools }}");
  ASSERT_TRUE(t.is_ok());
  EXPECT_EQ(t->identifiers(), (std::vector<std::string>{"$", "$m", "messages", "role", "system", "tools"}));
  EXPECT_TRUE(t->mentions("messages"));
  EXPECT_FALSE(t->mentions("response"));
}

TEST(ChatTemplate, ExecutionErrorsPropagate) {
  auto t = GoTemplate::parse("{{ range .Messages }}{{ .Content.Bad }}{{ end }}");
  ASSERT_TRUE(t.is_ok());
  auto r = render_chat(*t, kChat, nullptr);
  ASSERT_FALSE(r.is_ok());
  EXPECT_EQ(r.error(), "template:1:25: can't evaluate field Bad in type string");
}

}  // namespace
}  // namespace corral
