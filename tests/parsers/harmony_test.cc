// gpt-oss harmony output.
#include <gtest/gtest.h>

#include "parse_util.h"
#include "parsers/limits.h"

namespace corral::parsers {
namespace {

using nlohmann::json;
using testing::call;
using testing::parse_everywhere;

ParserSpec harmony() {
  ParserSpec spec;
  spec.harmony = true;
  return spec;
}

TEST(Harmony, AnalysisIsThinkingFinalIsContent) {
  auto o = parse_everywhere(harmony(),
                            "<|channel|>analysis<|message|>User greets. Reply.<|end|><|start|>assistant"
                            "<|channel|>final<|message|>Hello! How can I help?<|return|>");
  EXPECT_EQ(o.error, "");
  ASSERT_EQ(o.events.size(), 2u);
  EXPECT_EQ(o.events[0].kind, EventKind::kThinking);
  EXPECT_EQ(o.events[0].text, "User greets. Reply.");
  EXPECT_EQ(o.events[1].kind, EventKind::kContent);
  EXPECT_EQ(o.events[1].text, "Hello! How can I help?");
  testing::expect_no_markers(o);
}

TEST(Harmony, FinalWithoutStopTokenText) {
  // <|return|> is a stop token: usually the output just ends.
  auto o = parse_everywhere(harmony(), "<|channel|>final<|message|>Answer with <|partial");
  EXPECT_EQ(o.content(), "Answer with <|partial");
}

TEST(Harmony, ToolCallOnCommentary) {
  auto o = parse_everywhere(harmony(),
                            "<|channel|>analysis<|message|>Need weather.<|end|><|start|>assistant<|channel|>"
                            "commentary to=functions.get_weather <|constrain|>json<|message|>{\"city\":\"Paris\"}"
                            "<|call|>");
  EXPECT_EQ(o.error, "");
  ASSERT_EQ(o.events.size(), 2u);
  EXPECT_EQ(o.events[0].text, "Need weather.");
  EXPECT_EQ(o.events[1].call, call("get_weather", {{"city", "Paris"}}, 0));
}

TEST(Harmony, ToolCallEndedByTheOutput) {
  // <|call|> is a stop token too: the call is parsed at finish, as Ollama parses it at done.
  auto o = parse_everywhere(harmony(),
                            "<|channel|>commentary to=functions.get_time<|constrain|>json<|message|>{\"tz\": \"UTC\"}");
  ASSERT_EQ(o.calls().size(), 1u);
  EXPECT_EQ(o.calls()[0], call("get_time", {{"tz", "UTC"}}, 0));
}

TEST(Harmony, RecipientBeforeChannelAndSeveralCalls) {
  auto o = parse_everywhere(harmony(),
                            " to=functions.a<|channel|>commentary json<|message|>{}<|call|>"
                            "<|start|>assistant to=functions.b<|channel|>commentary<|message|>{\"n\": [1]}<|call|>");
  auto calls = o.calls();
  ASSERT_EQ(calls.size(), 2u);
  EXPECT_EQ(calls[0], call("a", json::object(), 0));
  EXPECT_EQ(calls[1], call("b", {{"n", {1}}}, 1));
}

TEST(Harmony, CommentaryWithoutRecipientIsContent) {
  auto o = parse_everywhere(harmony(), "<|channel|>commentary<|message|>Working on it.<|end|>");
  EXPECT_EQ(o.content(), "Working on it.");
}

TEST(Harmony, MalformedArgumentsAreAnError) {
  auto o =
      parse_everywhere(harmony(), "<|channel|>commentary to=functions.f <|constrain|>json<|message|>{\"a\":<|call|>");
  EXPECT_NE(o.error.find("malformed tool call"), std::string::npos) << o.error;
}

TEST(Harmony, OversizedHeaderIsAnError) {
  auto o = parse_everywhere(harmony(), "<|channel|>" + std::string(kMaxHarmonyHeaderBytes + 10, 'x'), false);
  EXPECT_NE(o.error.find("header"), std::string::npos) << o.error;
}

TEST(Harmony, TextBetweenMessagesIsDropped) {
  auto o = parse_everywhere(harmony(),
                            "<|channel|>final<|message|>a<|end|>stray<|start|>assistant<|channel|>final<|message|>b");
  EXPECT_EQ(o.content(), "ab");
}

}  // namespace
}  // namespace corral::parsers
