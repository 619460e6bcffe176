// Huge, deep and malformed output: bounded buffers, clear errors, no crash.
#include <gtest/gtest.h>

#include "parse_util.h"
#include "parsers/json_calls.h"
#include "parsers/limits.h"

namespace corral::parsers {
namespace {

using testing::parse_everywhere;

const ParserSpec kQwen = testing::spec_with_tools(ToolFormat::kQwen);

TEST(ParserBounds, OversizedToolCallIsAnError) {
  std::string text = "<tool_call>{\"name\": \"f\", \"arguments\": {\"s\": \"" + std::string(kMaxToolCallBytes, 'a') +
                     "\"}}</tool_call>";
  auto o = parse_everywhere(kQwen, text, /*all_splits=*/false);
  EXPECT_NE(o.error.find("longer than"), std::string::npos) << o.error;
}

TEST(ParserBounds, LargeButAllowedCallWorks) {
  std::string big(200000, 'b');
  std::string text = "<tool_call>{\"name\": \"write\", \"arguments\": {\"s\": \"" + big + "\"}}</tool_call>";
  auto o = parse_everywhere(kQwen, text, /*all_splits=*/false);
  EXPECT_EQ(o.error, "");
  ASSERT_EQ(o.calls().size(), 1u);
  EXPECT_EQ(o.calls()[0].arguments["s"], big);
}

TEST(ParserBounds, DeepNestingIsAnError) {
  std::string deep = std::string(kMaxJsonDepth + 1, '[') + std::string(kMaxJsonDepth + 1, ']');
  auto o = parse_everywhere(kQwen, "<tool_call>{\"name\": \"f\", \"arguments\": {\"a\": " + deep + "}}</tool_call>",
                            /*all_splits=*/false);
  EXPECT_NE(o.error.find("deeper"), std::string::npos) << o.error;
  // Within the bound it parses.
  std::string ok = std::string(kMaxJsonDepth - 3, '[') + std::string(kMaxJsonDepth - 3, ']');
  o = parse_everywhere(kQwen, "<tool_call>{\"name\": \"f\", \"arguments\": {\"a\": " + ok + "}}</tool_call>",
                       /*all_splits=*/false);
  EXPECT_EQ(o.error, "");
  EXPECT_EQ(o.calls().size(), 1u);
}

TEST(ParserBounds, DeepArgumentsStringIsAnError) {
  std::string deep = std::string(kMaxJsonDepth + 1, '[') + std::string(kMaxJsonDepth + 1, ']');
  nlohmann::json call = {{"name", "f"}, {"arguments", "{\"a\": " + deep + "}"}};
  auto o = testing::run_pieces(kQwen, {"<tool_call>" + call.dump() + "</tool_call>"});
  EXPECT_NE(o.error.find("deeper"), std::string::npos) << o.error;
}

TEST(ParserBounds, LongWhitespaceIsReleasedNotHeld) {
  auto parser = make_parser(kQwen);
  std::string spaces(kMaxHeldBytes * 2, ' ');
  auto r = parser->feed("a" + spaces);
  ASSERT_TRUE(r.is_ok());
  EXPECT_GE(joined_text(*r, EventKind::kContent).size(), kMaxHeldBytes);
}

TEST(ParserBounds, LongLeadingJsonAnswerIsGivenBackAsContent) {
  ParserSpec llama = testing::spec_with_tools(ToolFormat::kLlamaJson);
  std::string text = "{\"data\": \"" + std::string(kMaxToolCallBytes + 100, 'x') + "\"}";
  auto o = parse_everywhere(llama, text, /*all_splits=*/false);
  EXPECT_EQ(o.error, "");
  EXPECT_EQ(o.content(), text);
}

TEST(ParserBounds, GarbageNeverCrashes) {
  // Every prefix of a mix of markers and broken JSON, through every parser kind.
  std::string junk =
      "<think><tool_call>{\"name\":[}</think>]]}}{{[TOOL_CALLS]x[ARGS]{\"<|tool_call|>\\\"<|channel|>"
      "analysis<|message|><|end|><|start|><|python_tag|>{\"name\":\"f\",\"parameters\":{}}<|call|>\xff\xfe";
  for (ToolFormat f : {ToolFormat::kNone, ToolFormat::kQwen, ToolFormat::kLlamaJson, ToolFormat::kMistral,
                       ToolFormat::kPhi4, ToolFormat::kGeneric}) {
    for (bool harmony : {false, true}) {
      ParserSpec spec = testing::spec_with_tools(f);
      spec.tool_tag = "[TOOL_CALLS]";
      spec.harmony = harmony;
      spec.thinking = ThinkingTags{"<think>", "</think>"};
      for (std::size_t n = 0; n <= junk.size(); ++n) parse_everywhere(spec, std::string_view(junk).substr(0, n));
    }
  }
}

TEST(JsonExtentScanner, FindsTheEndAcrossPieces) {
  std::string text = R"({"a": "}\"", "b": [1, {"c": []}]} tail)";
  JsonExtentScanner s;
  std::string buf;
  JsonExtentScanner::State state = JsonExtentScanner::State::kIncomplete;
  for (char ch : text) {
    buf += ch;
    state = s.scan(buf);
    if (state != JsonExtentScanner::State::kIncomplete) break;
  }
  ASSERT_EQ(state, JsonExtentScanner::State::kComplete);
  EXPECT_EQ(text.substr(0, s.end()), R"({"a": "}\"", "b": [1, {"c": []}]})");
  JsonExtentScanner bad;
  EXPECT_EQ(bad.scan("{]"), JsonExtentScanner::State::kInvalid);
}

}  // namespace
}  // namespace corral::parsers
