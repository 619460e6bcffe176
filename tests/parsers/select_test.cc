// Choosing the parser from template text, architecture and request, as Ollama does.
#include <gtest/gtest.h>

#include "parse_util.h"
#include "parsers/template_hints.h"
#include "parsers/tool_call_id.h"
#include "templates/builtin_templates.h"

namespace corral::parsers {
namespace {

TEST(TemplateHints, ToolCallTagOfOllamaStyleTemplates) {
  EXPECT_EQ(tool_call_tag("{{ .Content }}"), "");
  EXPECT_EQ(tool_call_tag("{{- if .ToolCalls }}<tool_call>\n{{ range .ToolCalls }}{\"name\": \"{{ .Function.Name }}\""
                          "}{{ end }}</tool_call>{{ end }}"),
            "<tool_call>");
  EXPECT_EQ(
      tool_call_tag("{{ else if .ToolCalls }}[TOOL_CALLS] [{{ range .ToolCalls }}{\"name\": 1}{{ end }}]{{ end }}"),
      "[TOOL_CALLS]");
  EXPECT_EQ(tool_call_tag("{{ if .ToolCalls }}<|tool_call|>[{{ range .ToolCalls }}{}{{ end }}]<|/tool_call|>{{ end }}"),
            "<|tool_call|>");
  EXPECT_EQ(
      tool_call_tag("{{ if .ToolCalls }}{{ range .ToolCalls }}{\"name\": \"{{ .Function.Name }}\"}{{ end }}{{ end }}"),
      "{");
  EXPECT_EQ(tool_call_tag("{{- if $.ToolCalls -}} <function_calls> {{ .Content }}{{ end }}"), "<function_calls>");
  EXPECT_EQ(tool_call_tag("{{ if .ToolCallsX }}<x>{{ end }}"), "");
  EXPECT_EQ(tool_call_tag("{{ if .ToolCalls }}{{ .Content }}<x>{{ end }}"), "{");  // a value comes first
}

TEST(TemplateHints, ThinkingTags) {
  auto tags = thinking_tags(
      "{{- if and $.IsThinkSet $m.Thinking }}<|im_start|>assistant\n<think>\n{{ .Thinking }}\n"
      "</think>\n\n{{ end }}{{ .Content }}");
  ASSERT_TRUE(tags);
  EXPECT_EQ(tags->open, "<think>");
  EXPECT_EQ(tags->close, "</think>");
  EXPECT_FALSE(thinking_tags("{{ if .Thinking }}{{ .Thinking }}{{ end }}"));
  EXPECT_FALSE(thinking_tags("{{ .Content }}"));
}

ParserInputs with_template(TemplateFamily family) {
  ParserInputs in;
  in.template_text = builtin_go_template(family);
  in.tools = true;
  in.tool_names = {"get_weather"};
  return in;
}

TEST(SelectParser, BuiltinTemplatesPickTheirFamiliesFormat) {
  EXPECT_EQ(select_parser(with_template(TemplateFamily::kChatML)).tools, ToolFormat::kQwen);
  EXPECT_EQ(select_parser(with_template(TemplateFamily::kLlama3)).tools, ToolFormat::kLlamaJson);
  EXPECT_EQ(select_parser(with_template(TemplateFamily::kMistral)).tools, ToolFormat::kMistral);
  ParserInputs phi = with_template(TemplateFamily::kPhi3);  // no .ToolCalls block: by architecture
  phi.architecture = "phi3";
  EXPECT_EQ(select_parser(phi).tools, ToolFormat::kPhi4);
  ParserInputs gemma = with_template(TemplateFamily::kGemma);
  gemma.architecture = "gemma3";
  EXPECT_EQ(select_parser(gemma).tools, ToolFormat::kLlamaJson);  // Ollama's default tag "{"
}

TEST(SelectParser, NoToolsNoToolParsing) {
  ParserInputs in = with_template(TemplateFamily::kChatML);
  in.tools = false;
  ParserSpec spec = select_parser(in);
  EXPECT_EQ(spec.tools, ToolFormat::kNone);
  auto o = testing::run_pieces(spec, {"<tool_call>{\"name\": \"f\"}</tool_call>"});
  EXPECT_EQ(o.content(), "<tool_call>{\"name\": \"f\"}</tool_call>");
}

TEST(SelectParser, GenericTagFromTemplate) {
  ParserInputs in;
  std::string tmpl = "{{ if .ToolCalls }}<function_calls>{{ range .ToolCalls }}{}{{ end }}{{ end }}";
  in.template_text = tmpl;
  in.tools = true;
  ParserSpec spec = select_parser(in);
  EXPECT_EQ(spec.tools, ToolFormat::kGeneric);
  EXPECT_EQ(spec.tool_tag, "<function_calls>");
}

TEST(SelectParser, HarmonyForGptOss) {
  ParserInputs in;
  std::string tmpl = "<|start|>system<|message|>...<|end|>{{ range .Messages }}{{ end }}";
  in.template_text = tmpl;
  in.architecture = "gptoss";
  EXPECT_TRUE(select_parser(in).harmony);
  EXPECT_TRUE(supports_thinking(in));
  in.architecture = "llama";
  EXPECT_FALSE(select_parser(in).harmony);
  in.parser_name = "harmony";
  EXPECT_TRUE(select_parser(in).harmony);
}

TEST(SelectParser, ThinkingFromTemplateAndPrompt) {
  std::string tmpl =
      "{{ range .Messages }}{{ if .Thinking }}<think>{{ .Thinking }}</think>{{ end }}{{ end }}"
      "<|im_start|>assistant\n{{ if $.Think }}<think>\n{{ end }}";
  ParserInputs in;
  in.template_text = tmpl;
  in.think = true;
  in.prompt = "<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n<think>\n";
  ParserSpec spec = select_parser(in);
  ASSERT_TRUE(spec.thinking);
  EXPECT_EQ(spec.thinking->open, "<think>");
  EXPECT_TRUE(spec.starts_in_thinking);
  auto o = testing::parse_everywhere(spec, "Hmm.\n</think>\nHi!");
  EXPECT_EQ(o.thinking(), "Hmm.");
  EXPECT_EQ(o.content(), "Hi!");

  in.prompt = "<|im_start|>assistant\n";
  EXPECT_FALSE(select_parser(in).starts_in_thinking);
  in.think = false;
  EXPECT_FALSE(select_parser(in).thinking);
}

TEST(SelectParser, Qwen3ArchitectureThinksWithThinkTags) {
  ParserInputs in = with_template(TemplateFamily::kChatML);
  in.architecture = "qwen3";
  in.think = true;
  EXPECT_TRUE(supports_thinking(in));
  ParserSpec spec = select_parser(in);
  ASSERT_TRUE(spec.thinking);
  EXPECT_EQ(spec.tools, ToolFormat::kQwen);
  auto o = testing::parse_everywhere(spec, "<think>plan</think><tool_call>{\"name\": \"get_weather\"}</tool_call>");
  EXPECT_EQ(o.thinking(), "plan");
  EXPECT_EQ(o.calls().size(), 1u);
  in.architecture = "llama";
  EXPECT_FALSE(supports_thinking(in));
}

TEST(SelectParser, OllamaParserNames) {
  ParserInputs in;
  in.parser_name = "qwen3-thinking";
  in.think = true;
  in.tools = true;
  ParserSpec spec = select_parser(in);
  EXPECT_EQ(spec.tools, ToolFormat::kQwen);
  ASSERT_TRUE(spec.thinking);
  EXPECT_TRUE(spec.starts_in_thinking);
  in.parser_name = "ministral";
  EXPECT_EQ(select_parser(in).tools, ToolFormat::kMistral);
  in.parser_name = "passthrough";
  EXPECT_EQ(select_parser(in), ParserSpec{});
}

TEST(ToolCallIds, DeterministicUnderASeedInOllamasFormat) {
  ToolCallIds a(42), b(42), c(43);
  std::string first = a.next();
  EXPECT_EQ(first, b.next());
  EXPECT_NE(first, c.next());
  EXPECT_NE(first, a.next());
  ASSERT_EQ(first.size(), 13u);
  EXPECT_TRUE(first.starts_with("call_"));
  for (char ch : first.substr(5)) EXPECT_TRUE((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9')) << first;
}

}  // namespace
}  // namespace corral::parsers
