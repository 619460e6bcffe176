// Control structures and variables: if/else if/else, with, range (all forms), break and
// continue, variable declaration, assignment and scoping.
#include <gtest/gtest.h>

#include "template_test_util.h"

namespace corral {
namespace {

using nlohmann::json;
using testing::exec_error;
using testing::parse_error;
using testing::render;

TEST(GoTemplateControl, IfElseIfElseChain) {
  const char* t = "{{ if eq .N 1 }}one{{ else if eq .N 2 }}two{{ else if gt .N 9 }}big{{ else }}some{{ end }}";
  EXPECT_EQ(render(t, {{"N", 1}}), "one");
  EXPECT_EQ(render(t, {{"N", 2}}), "two");
  EXPECT_EQ(render(t, {{"N", 10}}), "big");
  EXPECT_EQ(render(t, {{"N", 5}}), "some");
}

TEST(GoTemplateControl, TruthinessFollowsGo) {
  const char* t = "{{ if .V }}T{{ else }}F{{ end }}";
  for (const json& falsy : {json(false), json(0), json(0.0), json(""), json::array(), json::object(), json(nullptr)})
    EXPECT_EQ(render(t, {{"V", falsy}}), "F") << falsy.dump();
  for (const json& truthy : {json(true), json(-1), json(0.5), json(" "), json({0}), json({{"k", 0}})})
    EXPECT_EQ(render(t, {{"V", truthy}}), "T") << truthy.dump();
  EXPECT_EQ(render(t), "F");  // missing key
}

TEST(GoTemplateControl, WithRebindsDotAndHasElse) {
  const char* t = "{{ with .User }}{{ .Name }}{{ else }}anonymous{{ end }}";
  EXPECT_EQ(render(t, {{"User", {{"Name", "ann"}}}}), "ann");
  EXPECT_EQ(render(t, {{"User", nullptr}}), "anonymous");
  EXPECT_EQ(render("{{ with .A }}a={{ . }}{{ else with .B }}b={{ . }}{{ else }}none{{ end }}", {{"B", 2}}), "b=2");
  EXPECT_EQ(render("{{ with $x := .A }}{{ $x }}{{ . }}{{ end }}", {{"A", "v"}}), "vv");
}

TEST(GoTemplateControl, RangeOverArraysWithIndexAndElement) {
  json data = {{"L", {"a", "b", "c"}}};
  EXPECT_EQ(render("{{ range .L }}<{{ . }}>{{ end }}", data), "<a><b><c>");
  EXPECT_EQ(render("{{ range $i, $e := .L }}{{ $i }}={{ $e }} {{ end }}", data), "0=a 1=b 2=c ");
  EXPECT_EQ(render("{{ range $e := .L }}{{ $e }}{{ end }}", data), "abc");
  EXPECT_EQ(render("{{ range $i, $_ := .L }}{{ if $i }},{{ end }}{{ . }}{{ end }}", data), "a,b,c");
}

TEST(GoTemplateControl, RangeElseRunsWhenEmpty) {
  const char* t = "{{ range .L }}x{{ else }}empty{{ end }}";
  EXPECT_EQ(render(t, {{"L", json::array()}}), "empty");
  EXPECT_EQ(render(t, {{"L", nullptr}}), "empty");
  EXPECT_EQ(render(t), "empty");
  EXPECT_EQ(render(t, {{"L", {1}}}), "x");
}

TEST(GoTemplateControl, RangeOverObjectsVisitsKeysInSortedOrder) {
  json data = {{"M", {{"b", 2}, {"a", 1}, {"c", 3}}}};
  nlohmann::ordered_json ordered = {{"M", {{"zeta", 1}, {"alpha", 2}}}};
  EXPECT_EQ(render("{{ range $k, $v := .M }}{{ $k }}{{ $v }}{{ end }}", data), "a1b2c3");
  EXPECT_EQ(GoTemplate::parse("{{ range $k, $v := .M }}{{ $k }}{{ end }}")->execute(ordered).value(), "alphazeta");
}

TEST(GoTemplateControl, RangeOverIntegerCounts) {
  EXPECT_EQ(render("{{ range 3 }}{{ . }}{{ end }}"), "012");
  EXPECT_EQ(render("{{ range $i := 2 }}[{{ $i }}]{{ end }}"), "[0][1]");
  EXPECT_EQ(exec_error("{{ range .S }}{{ end }}", {{"S", "str"}}), "template:1:4: range can't iterate over str");
}

TEST(GoTemplateControl, BreakAndContinue) {
  json data = {{"L", {1, 2, 3, 4, 5}}};
  EXPECT_EQ(render("{{ range .L }}{{ if eq . 4 }}{{ break }}{{ end }}{{ . }}{{ end }}", data), "123");
  EXPECT_EQ(render("{{ range .L }}{{ if eq . 2 4 }}{{ continue }}{{ end }}{{ . }}{{ end }}", data), "135");
  // break leaves only the innermost range.
  EXPECT_EQ(render("{{ range 2 }}{{ range 3 }}{{ if eq . 1 }}{{ break }}{{ end }}x{{ end }}|{{ end }}"), "x|x|");
}

TEST(GoTemplateControl, VariablesDeclareAssignAndPrintNothing) {
  EXPECT_EQ(render("{{ $x := \"a\" }}[{{ $x }}]{{ $x = \"b\" }}[{{ $x }}]"), "[a][b]");
  EXPECT_EQ(render("{{ $ }}", "root"), "root");
  EXPECT_EQ(render("{{ $x := .A }}{{ $x.B }}", {{"A", {{"B", "nested"}}}}), "nested");
}

TEST(GoTemplateControl, AssignmentInsideBlocksUpdatesOuterVariable) {
  // Ollama's llama2/alpaca templates accumulate a system prompt this way.
  json data = {{"L", {"x", "y", "z"}}};
  EXPECT_EQ(render("{{ $last := \"\" }}{{ range .L }}{{ $last = . }}{{ end }}{{ $last }}", data), "z");
  EXPECT_EQ(render("{{ $s := \"\" }}{{ range .L }}{{ if not $s }}{{ $s = . }}{{ else }}{{ $s = printf \"%s+%s\" $s . }}"
                   "{{ end }}{{ end }}{{ $s }}",
                   data),
            "x+y+z");
}

TEST(GoTemplateControl, VariablesAreScopedToTheirBlock) {
  EXPECT_EQ(parse_error("{{ range .L }}{{ $y := . }}{{ end }}{{ $y }}"), "template:1:40: undefined variable \"$y\"");
  EXPECT_EQ(parse_error("{{ if true }}{{ $y := 1 }}{{ end }}{{ $y }}"), "template:1:39: undefined variable \"$y\"");
  // A variable declared in a range body is fresh in each iteration.
  EXPECT_EQ(render("{{ range .L }}{{ $v := . }}{{ $v }}{{ end }}", {{"L", {1, 2}}}), "12");
}

TEST(GoTemplateControl, RootIsReachableInsideBlocks) {
  json data = {{"Title", "T"}, {"L", {1, 2}}, {"U", {{"N", "n"}}}};
  EXPECT_EQ(render("{{ range .L }}{{ $.Title }}{{ . }}{{ end }}", data), "T1T2");
  EXPECT_EQ(render("{{ with .U }}{{ .N }}{{ $.Title }}{{ end }}", data), "nT");
}

TEST(GoTemplateControl, OllamaLastMessageIdiom) {
  // `eq (len (slice $.Messages $i)) 1` is how Ollama's templates spot the last message.
  json data = {{"Messages", {{{"Role", "user"}}, {{"Role", "assistant"}}, {{"Role", "user"}}}}};
  EXPECT_EQ(render("{{ range $i, $_ := .Messages }}{{ $last := eq (len (slice $.Messages $i)) 1 }}"
                   "{{ .Role }}{{ if $last }}!{{ else }},{{ end }}{{ end }}",
                   data),
            "user,assistant,user!");
}

}  // namespace
}  // namespace corral
