// Hostile and large inputs: every failure is an error value, never a crash or a hang.
#include <gtest/gtest.h>

#include <random>
#include <string>

#include "template_test_util.h"

namespace corral {
namespace {

using nlohmann::json;
using testing::exec_error;
using testing::parse_error;
using testing::render;

std::string repeat(std::string_view s, int n) {
  std::string out;
  for (int i = 0; i < n; ++i) out += s;
  return out;
}

TEST(GoTemplateLimits, DeepBlockNestingIsRejected) {
  std::string t = repeat("{{ if true }}", 500) + "x" + repeat("{{ end }}", 500);
  EXPECT_NE(parse_error(t).find("nesting too deep"), std::string::npos);
  std::string ok = repeat("{{ if true }}", 50) + "x" + repeat("{{ end }}", 50);
  EXPECT_EQ(render(ok), "x");
}

TEST(GoTemplateLimits, HostileNestingOfEveryKindIsAnErrorNotACrash) {
  // A template comes from requests (/api/generate's "template", a Modelfile's TEMPLATE), so
  // 100,000 levels of anything must fail at the nesting limit long before the stack.
  constexpr int kDeep = 100000;
  for (const char* open : {"{{ if true }}", "{{ range 1 }}", "{{ with 1 }}", "{{- if 1 -}}"}) {
    const std::string t = repeat(open, kDeep) + "x" + repeat("{{ end }}", kDeep);
    EXPECT_NE(parse_error(t).find("nesting too deep"), std::string::npos) << open;
  }
  // {{else if}} chains nest too ({{else}}{{if}} sharing one {{end}}).
  const std::string chain = "{{ if false }}" + repeat("{{ else if false }}", kDeep) + "{{ end }}";
  EXPECT_NE(parse_error(chain).find("nesting too deep"), std::string::npos);
  // Unclosed blocks and parentheses in pipelines inside blocks.
  EXPECT_NE(parse_error(repeat("{{ if true }}", kDeep)).find("nesting too deep"), std::string::npos);
  EXPECT_NE(
      parse_error("{{ if " + repeat("(", kDeep) + "1" + repeat(")", kDeep) + " }}x{{ end }}").find("nesting too deep"),
      std::string::npos);
}

TEST(GoTemplateLimits, DeepParenthesesAreRejected) {
  std::string t = "{{ " + repeat("(", 10000) + "1" + repeat(")", 10000) + " }}";
  EXPECT_NE(parse_error(t).find("nesting too deep"), std::string::npos);
  EXPECT_EQ(render("{{ " + repeat("(", 20) + "1" + repeat(")", 20) + " }}"), "1");
}

TEST(GoTemplateLimits, HugeOutputStopsAtTheLimit) {
  // Nested ranges would write 100 MB; the 16 MiB default stops them.
  std::string t = "{{ range 1000 }}{{ range 1000 }}" + std::string(100, 'x') + "{{ end }}{{ end }}";
  EXPECT_NE(exec_error(t).find("template output exceeds 16777216 bytes"), std::string::npos);
  GoTemplateLimits small;
  small.max_output_bytes = 10;
  EXPECT_EQ(exec_error("{{ .S }}", {{"S", std::string(11, 'y')}}, small),
            "template:1:4: template output exceeds 10 bytes");
}

TEST(GoTemplateLimits, StringsGrownInVariablesStopAtTheLimit) {
  // Doubling a string 100 times without printing it would need 2^100 bytes.
  std::string err = exec_error("{{ $s := \"ab\" }}{{ range 100 }}{{ $s = printf \"%s%s\" $s $s }}{{ end }}");
  EXPECT_NE(err.find("printf result exceeds 16777216 bytes"), std::string::npos) << err;
}

TEST(GoTemplateLimits, RunawayWorkStopsAtTheStepLimit) {
  GoTemplateLimits small;
  small.max_steps = 1000;
  EXPECT_NE(exec_error("{{ range 100000000 }}{{ end }}", json::object(), small).find("exceeded 1000 steps"),
            std::string::npos);
}

TEST(GoTemplateLimits, RangeOverLargeDataIsFine) {
  json messages = json::array();
  for (int i = 0; i < 50000; ++i) messages.push_back({{"Role", i % 2 ? "assistant" : "user"}, {"Content", "m"}});
  std::string out = render(
      "{{ $n := 0 }}{{ range $i, $_ := .Messages }}{{ if eq (len (slice $.Messages $i)) 1 }}last={{ $i }}{{ end }}"
      "{{ end }}",
      {{"Messages", messages}});
  EXPECT_EQ(out, "last=49999");
}

TEST(GoTemplateLimits, RandomGarbageNeverCrashes) {
  // Fragments of template syntax glued at random: every outcome must be a value or an error.
  const char* pieces[] = {"{{",  "}}",  "{{-",   "-}}",      " ",  "if",  "else",  "end",   "range", "with",
                          "$x",  ":=",  "=",     "$",        ".",  ".A",  "(",     ")",     "|",     "\"s\"",
                          "`r`", "'c'", "1",     "-2.5",     "eq", "len", "slice", "index", "and",   "nil",
                          "/*",  "*/",  "break", "continue", ",",  "\n",  "x"};
  std::mt19937 rng(1234);
  std::uniform_int_distribution<size_t> pick(0, std::size(pieces) - 1);
  std::uniform_int_distribution<int> length(1, 40);
  int parsed = 0;
  for (int iter = 0; iter < 3000; ++iter) {
    std::string t;
    for (int n = length(rng); n > 0; --n) t += pieces[pick(rng)];
    auto tmpl = GoTemplate::parse(t);
    if (!tmpl.is_ok()) {
      EXPECT_EQ(tmpl.error().rfind("template:", 0), 0u) << tmpl.error();
      continue;
    }
    ++parsed;
    GoTemplateLimits limits;
    limits.max_steps = 100000;
    auto r = tmpl->execute(json{{"A", {1, 2}}}, limits);
    if (!r.is_ok()) { EXPECT_EQ(r.error().rfind("template:", 0), 0u) << r.error(); }
  }
  EXPECT_GT(parsed, 0);
}

}  // namespace
}  // namespace corral
