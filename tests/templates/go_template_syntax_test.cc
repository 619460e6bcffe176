// Lexing and parsing: text, trimming, comments, literals, fields, and syntax errors with
// positions.
#include <gtest/gtest.h>

#include "template_test_util.h"

namespace corral {
namespace {

using nlohmann::json;
using testing::exec_error;
using testing::parse_error;
using testing::render;

TEST(GoTemplateSyntax, TextPassesThroughUnchanged) {
  EXPECT_EQ(render(""), "");
  EXPECT_EQ(render("plain <b>text</b> & \"quotes\"\n"), "plain <b>text</b> & \"quotes\"\n");
  EXPECT_EQ(render("a } b { c }}"), "a } b { c }}");
}

TEST(GoTemplateSyntax, FieldsPrintRawStringsWithoutEscaping) {
  EXPECT_EQ(render("Hi {{ .Name }}!", {{"Name", "<Bob & \"Al\">"}}), "Hi <Bob & \"Al\">!");
  EXPECT_EQ(render("{{.A.B.C}}", {{"A", {{"B", {{"C", "deep"}}}}}}), "deep");
  EXPECT_EQ(render("{{ . }}", "dot"), "dot");
}

TEST(GoTemplateSyntax, LeftTrimEatsPrecedingWhitespaceIncludingNewlines) {
  EXPECT_EQ(render("a \n\t \n{{- .X }}", {{"X", "b"}}), "ab");
  // Only the text directly before the action is trimmed.
  EXPECT_EQ(render("x {{ .X }} \n {{- .X }}", {{"X", "b"}}), "x bb");
}

TEST(GoTemplateSyntax, RightTrimEatsFollowingWhitespaceIncludingNewlines) {
  EXPECT_EQ(render("{{ .X -}} \n\n\t c", {{"X", "b"}}), "bc");
  EXPECT_EQ(render("{{- .X -}}\n", {{"X", "b"}}), "b");
  EXPECT_EQ(render("1\n{{- if true -}}\n  2\n{{- end -}}\n3"), "123");
}

TEST(GoTemplateSyntax, TrimMarkersNeedTheSpace) {
  // "{{-3}}" is the number -3, not a trim marker.
  EXPECT_EQ(render("a {{-3}} b"), "a -3 b");
  EXPECT_EQ(render("a {{- 3}} b"), "a3 b");
  EXPECT_EQ(render("a {{3 -}} b"), "a 3b");
  // Trimming a whole line of whitespace-only text leaves nothing.
  EXPECT_EQ(render("{{- 1 }}   \n   {{- 2 }}"), "12");
}

TEST(GoTemplateSyntax, CommentsVanishAndMayTrim) {
  EXPECT_EQ(render("a{{/* a comment */}}b"), "ab");
  EXPECT_EQ(render("a {{- /* multi\nline */ -}} b"), "ab");
  EXPECT_NE(parse_error("{{/* never closed }}").find("unclosed comment"), std::string::npos);
  EXPECT_NE(parse_error("{{/* c */ x}}").find("comment ends before closing delimiter"), std::string::npos);
}

TEST(GoTemplateSyntax, Literals) {
  EXPECT_EQ(render("{{ \"tab\\there\" }}"), "tab\there");
  EXPECT_EQ(render("{{ \"\\u00e9\\x41\\101\\\"\" }}"),
            "\xC3\xA9"
            "AA\"");
  EXPECT_EQ(render("{{ `raw \\n {{ stays` }}"), "raw \\n {{ stays");
  EXPECT_EQ(render("{{ `multi\nline` }}"), "multi\nline");
  EXPECT_EQ(render("{{ 42 }} {{ -7 }} {{ 0x1F }} {{ 0o17 }} {{ 017 }} {{ 0b101 }} {{ 1_000 }}"),
            "42 -7 31 15 15 5 1000");
  EXPECT_EQ(render("{{ 1.5 }} {{ 2.0 }} {{ 1e3 }} {{ 1e6 }} {{ 0.0001 }} {{ 0.00001 }} {{ .5 }}"),
            "1.5 2 1000 1e+06 0.0001 1e-05 0.5");
  EXPECT_EQ(render("{{ 'a' }} {{ '\\n' }} {{ true }} {{ false }}"), "97 10 true false");
}

TEST(GoTemplateSyntax, ValuesPrintLikeGo) {
  json data = {
      {"I", 3},   {"U", 18446744073709551615ull}, {"F", 2.5},         {"Big", 123456789.0}, {"B", true}, {"N", nullptr},
      {"S", "s"}, {"A", {1, "two", nullptr}},     {"O", {{"k", "v"}}}};
  EXPECT_EQ(render("{{.I}}|{{.U}}|{{.F}}|{{.Big}}|{{.B}}|{{.N}}|{{.S}}", data),
            "3|18446744073709551615|2.5|1.23456789e+08|true|<no value>|s");
  // Composite values print as Go's encoding/json (Ollama's String() methods on tool types).
  EXPECT_EQ(render("{{.A}} {{.O}}", data), "[1,\"two\",null] {\"k\":\"v\"}");
}

TEST(GoTemplateSyntax, MissingKeysPrintNoValueLikeOllama) {
  // Ollama executes with missingkey=zero over map[string]any, which prints "<no value>".
  EXPECT_EQ(render("[{{ .Missing }}]"), "[<no value>]");
  EXPECT_EQ(render("[{{ .A.Missing }}]", {{"A", json::object()}}), "[<no value>]");
}

TEST(GoTemplateSyntax, FieldOfNilOrScalarIsAnErrorWithPosition) {
  EXPECT_EQ(exec_error("ab\n  {{ .A.B }}"), "template:2:6: nil pointer evaluating interface {}.B");
  EXPECT_EQ(exec_error("{{ .S.X }}", {{"S", "str"}}), "template:1:4: can't evaluate field X in type string");
  EXPECT_EQ(exec_error("{{ .S 1 }}", {{"S", "str"}}), "template:1:4: S is not a method but has arguments");
}

TEST(GoTemplateSyntax, GoFieldNamesFallBackToSnakeCaseJsonKeys) {
  json m = {
      {"role", "assistant"}, {"tool_calls", {{{"id", "c1"}, {"function", {{"name", "f"}}}}}}, {"tool_call_id", "c9"}};
  EXPECT_EQ(render("{{ .Role }}:{{ range .ToolCalls }}{{ .ID }}/{{ .Function.Name }}{{ end }}:{{ .ToolCallID }}", m),
            "assistant:c1/f:c9");
  // An exact key wins over the snake_case spelling.
  EXPECT_EQ(render("{{ .Role }}", {{"Role", "exact"}, {"role", "snake"}}), "exact");
}

TEST(GoTemplateSyntax, ParenthesisedPipelinesAndChains) {
  json data = {{"L", {{{"Name", "first"}}, {{"Name", "second"}}}}};
  EXPECT_EQ(render("{{ (index .L 1).Name }}", data), "second");
  EXPECT_EQ(render("{{ len (slice .L 1) }}", data), "1");
  EXPECT_EQ(render("{{ (len .L) }}", data), "2");
}

TEST(GoTemplateSyntax, PipelinesPassTheValueAsLastArgument) {
  json data = {{"L", {1, 2, 3}}, {"X", "a"}};
  EXPECT_EQ(render("{{ .L | len }}", data), "3");
  EXPECT_EQ(render("{{ \"abc\" | printf \"%s!\" }}", data), "abc!");
  EXPECT_EQ(render("{{ .X | eq \"a\" }}", data), "true");
  EXPECT_EQ(render("{{ .L | len | printf \"%d-%d\" 7 }}", data), "7-3");
}

TEST(GoTemplateSyntax, ErrorsNameLineAndColumn) {
  EXPECT_EQ(parse_error("ok\n  {{ .X "), "template:2:3: unclosed action");
  EXPECT_EQ(parse_error("a\n{{ end }}"), "template:2:4: unexpected {{end}}");
  EXPECT_EQ(parse_error("{{ else }}"), "template:1:4: unexpected {{else}}");
  EXPECT_EQ(parse_error("x{{ if .A }}y"), "template:1:5: unexpected EOF: {{if}} has no matching {{end}}");
  EXPECT_EQ(parse_error("{{ range .A }}{{ else }}{{ else }}{{ end }}"),
            "template:1:28: expected {{end}}, found a second {{else}}");
  EXPECT_EQ(parse_error("{{ $x }}"), "template:1:4: undefined variable \"$x\"");
  EXPECT_EQ(parse_error("{{ $x = 1 }}"), "template:1:4: undefined variable \"$x\"");
  EXPECT_EQ(parse_error("{{ \"open }}"), "template:1:4: unterminated quoted string");
  EXPECT_EQ(parse_error("{{ `open }}"), "template:1:4: unterminated raw quoted string");
  EXPECT_EQ(parse_error("{{ ) }}"), "template:1:4: unexpected right paren");
  EXPECT_EQ(parse_error("{{ (1 }}"), "template:1:1: unclosed left paren");
  EXPECT_EQ(parse_error("{{ }}"), "template:1:4: missing value for command");
  EXPECT_EQ(parse_error("{{ if }}{{ end }}"), "template:1:7: missing value for if");
  EXPECT_EQ(parse_error("{{ .X | 3 }}"), "template:1:9: non executable command in pipeline stage 2");
  EXPECT_EQ(parse_error("{{ break }}"), "template:1:4: {{break}} outside {{range}}");
  EXPECT_EQ(parse_error("{{ define \"x\" }}{{ end }}"), "template:1:4: {{define}} is not supported");
  EXPECT_EQ(parse_error("{{ # }}"), "template:1:4: unrecognized character in action: U+0023 '#'");
  EXPECT_EQ(parse_error("{{ 1x }}"), "template:1:4: bad number syntax: \"1x\"");
  EXPECT_EQ(parse_error("{{ \"a\".Field }}"), "template:1:7: unexpected . after term \"literal\"");
  EXPECT_EQ(parse_error("{{ 99999999999999999999 }}"), "template:1:4: number 99999999999999999999 overflows int");
}

TEST(GoTemplateSyntax, UnknownFunctionsFailOnlyWhenExecuted) {
  // Ollama parses with SkipFuncCheck: an unknown function in an untaken branch is fine.
  EXPECT_EQ(render("{{ if false }}{{ nosuch 1 }}{{ else }}ok{{ end }}"), "ok");
  EXPECT_EQ(exec_error("\n {{ nosuch 1 }}"), "template:2:5: \"nosuch\" is not a defined function");
  EXPECT_EQ(exec_error("{{ call .F }}"), "template:1:4: function \"call\" is not supported");
  EXPECT_EQ(exec_error("{{ nil }}"), "template:1:4: nil is not a command");
}

}  // namespace
}  // namespace corral
