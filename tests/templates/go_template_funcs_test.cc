// Builtin functions: comparisons, logic, len/index/slice, printing, and Ollama's json and
// currentDate.
#include <gtest/gtest.h>

#include <ctime>
#include <regex>

#include "template_test_util.h"

namespace corral {
namespace {

using nlohmann::json;
using testing::exec_error;
using testing::render;

TEST(GoTemplateFuncs, EqualityIncludingGoMultiArgumentEq) {
  EXPECT_EQ(render("{{ eq 1 1 }} {{ eq \"a\" \"b\" }} {{ ne \"a\" \"b\" }} {{ eq true true }}"),
            "true false true true");
  EXPECT_EQ(render("{{ eq .R \"system\" \"user\" }}", {{"R", "user"}}), "true");
  EXPECT_EQ(render("{{ eq .R \"system\" \"tool\" }}", {{"R", "user"}}), "false");
  // nil equals only nil; comparing it with anything else is false, not an error.
  EXPECT_EQ(render("{{ eq .Missing \"x\" }} {{ eq .Missing nil }}"), "false true");
}

TEST(GoTemplateFuncs, OrderingOfNumbersAndStrings) {
  EXPECT_EQ(render("{{ lt 1 2 }} {{ le 2 2 }} {{ gt 1 2 }} {{ ge 3 2 }}"), "true true false true");
  EXPECT_EQ(render("{{ lt \"abc\" \"abd\" }} {{ gt \"b\" \"a\" }}"), "true true");
  EXPECT_EQ(render("{{ lt -5 .U }}", {{"U", 3u}}), "true");
}

TEST(GoTemplateFuncs, MixedIntAndFloatCompareByValue) {
  // Go reports "incompatible types"; JSON data has no int/float split, so corral compares values.
  EXPECT_EQ(render("{{ eq 2 2.0 }} {{ lt 1 1.5 }} {{ gt 2.5 2 }} {{ eq .F 3 }}", {{"F", 3.0}}), "true true true true");
  EXPECT_EQ(render("{{ le .I .F }}", {{"I", 2}, {"F", 1.99}}), "false");
}

TEST(GoTemplateFuncs, ComparisonTypeErrors) {
  EXPECT_EQ(exec_error("{{ eq \"1\" 1 }}"), "template:1:4: error calling eq: incompatible types for comparison");
  EXPECT_EQ(exec_error("{{ lt true false }}"), "template:1:4: error calling lt: invalid type for comparison");
  EXPECT_EQ(exec_error("{{ eq 1 }}"), "template:1:4: error calling eq: missing argument for comparison");
  EXPECT_EQ(exec_error("{{ ne 1 }}"), "template:1:4: error calling ne: wrong number of args for ne: want 2 got 1");
}

TEST(GoTemplateFuncs, AndOrReturnValuesAndShortCircuit) {
  json data = {{"L", {1}}, {"Name", "n"}};
  EXPECT_EQ(render("{{ or .Missing \"default\" }}|{{ or .Name \"default\" }}", data), "default|n");
  EXPECT_EQ(render("{{ and 1 0 2 }}|{{ and 1 2 }}|{{ or 0 \"\" }}", data), "0|2|");
  // The out-of-range index is never evaluated.
  EXPECT_EQ(render("{{ and false (index .L 10) }}|{{ or true (index .L 10) }}", data), "false|true");
  EXPECT_EQ(render("{{ not .Missing }} {{ not 1 }} {{ .Name | and true }}", data), "true false n");
}

TEST(GoTemplateFuncs, LenOfStringsArraysObjects) {
  json data = {{"S", "h\xC3\xA9llo"}, {"L", {1, 2, 3}}, {"O", {{"a", 1}}}, {"N", nullptr}};
  EXPECT_EQ(render("{{ len .S }} {{ len .L }} {{ len .O }} {{ len .N }} {{ len \"\" }}", data), "6 3 1 0 0");
  EXPECT_EQ(exec_error("{{ len 3 }}"), "template:1:4: error calling len: len of type int");
}

TEST(GoTemplateFuncs, IndexArraysObjectsStrings) {
  json data = {{"L", {"a", "b"}}, {"M", {{"k", "v"}}}, {"G", {{1, 2}, {3, 4}}}};
  EXPECT_EQ(render("{{ index .L 1 }} {{ index .M \"k\" }} {{ index .G 1 0 }} {{ index \"abc\" 1 }}", data), "b v 3 98");
  EXPECT_EQ(render("{{ index .M \"nope\" }}", data), "<no value>");
  EXPECT_EQ(exec_error("{{ index .L 2 }}", data), "template:1:4: error calling index: index out of range: 2");
  EXPECT_EQ(exec_error("{{ index .Missing 0 }}", data), "template:1:4: error calling index: index of untyped nil");
}

TEST(GoTemplateFuncs, SliceArraysAndStrings) {
  json data = {{"L", {1, 2, 3, 4}}, {"S", "hello"}};
  EXPECT_EQ(render("{{ slice .S 1 3 }} {{ slice .S 2 }} {{ slice .S }}", data), "el llo hello");
  EXPECT_EQ(render("{{ slice .L 1 3 }} {{ slice .L 3 }} {{ len (slice .L 4) }}", data), "[2,3] [4] 0");
  // Slices of slices index relative to the view.
  EXPECT_EQ(render("{{ index (slice (slice .L 1) 1) 0 }} {{ slice .L 0 2 3 }}", data), "3 [1,2]");
  EXPECT_EQ(exec_error("{{ slice .L 5 }}", data), "template:1:4: error calling slice: index out of range: 5");
  EXPECT_EQ(exec_error("{{ slice .L 3 1 }}", data), "template:1:4: error calling slice: invalid slice index: 3 > 1");
  EXPECT_EQ(exec_error("{{ slice .S 0 1 2 }}", data),
            "template:1:4: error calling slice: cannot 3-index slice a string");
}

TEST(GoTemplateFuncs, JsonMarshalsLikeGo) {
  json data = {{"O", {{"b", {1, 2.5, true, nullptr}}, {"a", "<tag> & \"q\"\n\xC3\xA9"}}},
               {"S", "line\nbreak"},
               {"Bad", std::string("\xFF", 1)}};
  // Keys sorted (Go's map order), compact, HTML-safe escapes, non-ASCII kept.
  EXPECT_EQ(render("{{ json .O }}", data),
            "{\"a\":\"\\u003ctag\\u003e \\u0026 \\\"q\\\"\\n\xC3\xA9\",\"b\":[1,2.5,true,null]}");
  EXPECT_EQ(render("{{ json .S }} {{ json .Missing }} {{ json 1e21 }} {{ json 0.0000001 }}", data),
            "\"line\\nbreak\" null 1e+21 1e-7");
  EXPECT_EQ(render("{{ json .Bad }}", data), "\"\\ufffd\"");
}

TEST(GoTemplateFuncs, PrintPrintfPrintln) {
  // fmt.Sprint puts spaces only between two non-string operands.
  EXPECT_EQ(render("{{ print 1 2 \"a\" \"b\" 3 }}"), "1 2ab3");
  EXPECT_EQ(render("{{ println \"a\" 1 }}"), "a 1\n");
  EXPECT_EQ(render("{{ printf \"%s-%d-%v-%q-%t\" \"a\" 5 1.5 \"x\\\"y\" true }}"), "a-5-1.5-\"x\\\"y\"-true");
  EXPECT_EQ(render("{{ printf \"%05d|%-4s|%4s|%x|%.2f|%%\" 42 \"ab\" \"cd\" 255 3.14159 }}"),
            "00042|ab  |  cd|ff|3.14|%");
  EXPECT_EQ(render("{{ printf \"%s\\n\\n%s\" .A .B }}", {{"A", "sys1"}, {"B", "sys2"}}), "sys1\n\nsys2");
  EXPECT_EQ(render("{{ printf \"%d %s\" 1 }}"), "1 %!s(MISSING)");
  EXPECT_EQ(render("{{ printf \"%d\" \"x\" }}"), "%!d(string=x)");
  EXPECT_EQ(render("{{ printf \"%s\" 1 2 }}"), "1%!(EXTRA int=2)");
  EXPECT_EQ(render("{{ print .Missing }}"), "<nil>");
}

TEST(GoTemplateFuncs, HtmlEscapes) {
  EXPECT_EQ(render("{{ html \"<a href='x'>&</a>\" }}"), "&lt;a href=&#39;x&#39;&gt;&amp;&lt;/a&gt;");
}

TEST(GoTemplateFuncs, CurrentDateIsLocalIsoDate) {
  std::string today = render("{{ currentDate }}");
  EXPECT_TRUE(std::regex_match(today, std::regex("\\d{4}-\\d{2}-\\d{2}"))) << today;
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  localtime_r(&now, &tm);
  char buf[16];
  std::strftime(buf, sizeof buf, "%Y-%m-%d", &tm);
  // Allow for midnight passing between the two readings.
  std::string again = render("{{ currentDate \"2006-01-02\" }}");
  EXPECT_TRUE(again == buf || today == buf) << today << " vs " << buf;
  EXPECT_TRUE(std::regex_match(render("{{ yesterdayDate }}"), std::regex("\\d{4}-\\d{2}-\\d{2}")));
}

}  // namespace
}  // namespace corral
