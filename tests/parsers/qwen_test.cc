// Qwen 2.5/3 output: <tool_call>{json}</tool_call> and <think>...</think>.
#include <gtest/gtest.h>

#include "parse_util.h"

namespace corral::parsers {
namespace {

using nlohmann::json;
using testing::call;
using testing::parse_everywhere;

const ParserSpec kQwen = testing::spec_with_tools(ToolFormat::kQwen);

TEST(QwenToolCalls, PlainAnswerPassesThroughUnchanged) {
  std::string text = "The capital of France is Paris.\n\nIt has 2 million people & <b>tags</b>.";
  auto o = parse_everywhere(kQwen, text);
  EXPECT_EQ(o.error, "");
  EXPECT_EQ(o.content(), text);
  EXPECT_TRUE(o.calls().empty());
}

TEST(QwenToolCalls, OneCall) {
  auto o = parse_everywhere(
      kQwen, "<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\"}}\n</tool_call>");
  EXPECT_EQ(o.error, "");
  ASSERT_EQ(o.events.size(), 1u);
  EXPECT_EQ(o.events[0].call, call("get_weather", {{"city", "Paris"}}, 0));
}

TEST(QwenToolCalls, SeveralCallsInARowGetIndexes) {
  std::string text;
  for (const char* city : {"Paris", "Oslo", "Lima"}) {
    text += std::string("<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"") + city +
            "\"}}\n</tool_call>\n";
  }
  auto o = parse_everywhere(kQwen, text);
  EXPECT_EQ(o.error, "");
  auto calls = o.calls();
  ASSERT_EQ(calls.size(), 3u);
  EXPECT_EQ(calls[0], call("get_weather", {{"city", "Paris"}}, 0));
  EXPECT_EQ(calls[1], call("get_weather", {{"city", "Oslo"}}, 1));
  EXPECT_EQ(calls[2], call("get_weather", {{"city", "Lima"}}, 2));
  EXPECT_EQ(o.content(), "");
}

TEST(QwenToolCalls, ContentBeforeAndAfterCalls) {
  auto o = parse_everywhere(kQwen,
                            "Let me check the weather.\n\n<tool_call>\n{\"name\": \"get_weather\", "
                            "\"arguments\": {\"city\": \"Paris\", \"days\": [1, 2]}}\n</tool_call>\n\nDone.");
  EXPECT_EQ(o.error, "");
  ASSERT_EQ(o.events.size(), 3u);
  EXPECT_EQ(o.events[0].text, "Let me check the weather.");
  EXPECT_EQ(o.events[1].call, call("get_weather", {{"city", "Paris"}, {"days", {1, 2}}}, 0));
  EXPECT_EQ(o.events[2].text, "Done.");
  testing::expect_no_markers(o);
}

TEST(QwenToolCalls, BracesAndTagsInsideStringsDoNotEndTheCall) {
  auto o = parse_everywhere(kQwen,
                            "<tool_call>{\"name\": \"write\", \"arguments\": {\"text\": \"a } ] \\\" "
                            "</tool_call> {\"}}</tool_call>");
  EXPECT_EQ(o.error, "");
  ASSERT_EQ(o.calls().size(), 1u);
  EXPECT_EQ(o.calls()[0].arguments["text"], "a } ] \" </tool_call> {");
}

TEST(QwenToolCalls, ArgumentsAsAJsonStringBecomeAnObject) {
  auto o = parse_everywhere(kQwen, R"(<tool_call>{"name": "f", "arguments": "{\"a\": 1}"}</tool_call>)");
  EXPECT_EQ(o.error, "");
  ASSERT_EQ(o.calls().size(), 1u);
  EXPECT_EQ(o.calls()[0].arguments, json({{"a", 1}}));
}

TEST(QwenToolCalls, MissingArgumentsAreAnEmptyObject) {
  auto o = parse_everywhere(kQwen, R"(<tool_call>{"name": "now"}</tool_call>)");
  ASSERT_EQ(o.calls().size(), 1u);
  EXPECT_EQ(o.calls()[0].arguments, json::object());
}

TEST(QwenToolCalls, MalformedJsonIsAnErrorAtEverySplit) {
  // Ollama's qwen3 parser fails the response when the JSON inside <tool_call> does not parse.
  for (const char* text : {"<tool_call>{\"name\": \"f\", \"arguments\": {\"a\": }}</tool_call>",
                           "<tool_call>{\"name\": \"f\"]</tool_call>", "<tool_call>get_weather(city=Paris)</tool_call>",
                           "<tool_call>{\"arguments\": {}}</tool_call>",
                           "<tool_call>{\"name\": \"f\", \"arguments\": [1]}</tool_call>", "<tool_call></tool_call>"}) {
    SCOPED_TRACE(text);
    auto o = parse_everywhere(kQwen, text);
    EXPECT_NE(o.error.find("malformed tool call"), std::string::npos) << o.error;
    EXPECT_TRUE(o.calls().empty());
  }
}

TEST(QwenToolCalls, TextAfterTheJsonInsideTheMarkersIsAnError) {
  // The call before it was decided and is delivered; then the response fails.
  auto o = parse_everywhere(kQwen, "<tool_call>{\"name\": \"f\"} trailing</tool_call>");
  EXPECT_NE(o.error.find("malformed tool call"), std::string::npos);
  EXPECT_EQ(o.calls().size(), 1u);
}

TEST(QwenToolCalls, ErrorSticks) {
  auto parser = make_parser(kQwen);
  ASSERT_FALSE(parser->feed("<tool_call>{\"name\" 1}").is_ok());
  EXPECT_FALSE(parser->feed("more").is_ok());
  EXPECT_FALSE(parser->finish().is_ok());
}

TEST(QwenToolCalls, UnterminatedCallIsDroppedLikeOllama) {
  auto o = parse_everywhere(kQwen, "Checking.\n<tool_call>\n{\"name\": \"get_weather\", \"argu");
  EXPECT_EQ(o.error, "");
  EXPECT_EQ(o.content(), "Checking.");
  EXPECT_TRUE(o.calls().empty());
}

TEST(QwenToolCalls, CompleteJsonWithoutClosingTagStillCounts) {
  auto o = parse_everywhere(kQwen, "<tool_call>\n{\"name\": \"f\", \"arguments\": {}}\n");
  EXPECT_EQ(o.error, "");
  ASSERT_EQ(o.calls().size(), 1u);
}

TEST(QwenToolCalls, PartialOrLookalikeTagsAreContent) {
  for (const char* text : {"Use <tool> or <tool_c", "a <tool_callx> b", "x </tool_call> y", "<"}) {
    SCOPED_TRACE(text);
    auto o = parse_everywhere(kQwen, text);
    EXPECT_EQ(o.error, "");
    EXPECT_EQ(o.content(), text);
  }
}

TEST(QwenToolCalls, WhitespaceBeforeACallIsTrimmedButKeptElsewhere) {
  auto o = parse_everywhere(kQwen, "a  \n b \n\n");
  EXPECT_EQ(o.content(), "a  \n b \n\n");
  o = parse_everywhere(kQwen, "a  \n <tool_call>{\"name\":\"f\"}</tool_call>  \n b");
  ASSERT_EQ(o.events.size(), 3u);
  EXPECT_EQ(o.events[0].text, "a");
  EXPECT_EQ(o.events[2].text, "b");
}

TEST(QwenThinking, PromptOpenedThinking) {
  // Qwen3 thinking: the prompt ends with <think>, so the output starts inside it.
  auto o = parse_everywhere(testing::qwen_thinking_spec(true), "\nThe user wants weather.\n</think>\n\nIt is sunny.");
  EXPECT_EQ(o.error, "");
  ASSERT_EQ(o.events.size(), 2u);
  EXPECT_EQ(o.events[0].kind, EventKind::kThinking);
  EXPECT_EQ(o.events[0].text, "The user wants weather.");
  EXPECT_EQ(o.events[1].text, "It is sunny.");
}

TEST(QwenThinking, ReEmittedOpeningTagIsSkipped) {
  auto o = parse_everywhere(testing::qwen_thinking_spec(true), "<think>\nhmm\n</think>\nok");
  EXPECT_EQ(o.thinking(), "hmm");
  EXPECT_EQ(o.content(), "ok");
  testing::expect_no_markers(o);
}

TEST(QwenThinking, OutputOpensThinking) {
  auto o = parse_everywhere(testing::qwen_thinking_spec(false), "  <think>\nLet me think.\n</think>\n\nHello!");
  EXPECT_EQ(o.thinking(), "Let me think.");
  EXPECT_EQ(o.content(), "Hello!");
  ASSERT_EQ(o.events.size(), 2u);
  EXPECT_EQ(o.events[0].kind, EventKind::kThinking);
}

TEST(QwenThinking, NoThinkingBlockMeansAllContent) {
  auto o = parse_everywhere(testing::qwen_thinking_spec(false), "Just an answer <think> mid-text.");
  EXPECT_EQ(o.thinking(), "");
  EXPECT_EQ(o.content(), "Just an answer <think> mid-text.");
}

TEST(QwenThinking, ThinkingThenCall) {
  auto o = parse_everywhere(testing::qwen_thinking_spec(true),
                            "I should call the tool.\n</think>\n\n<tool_call>\n{\"name\": \"get_weather\", "
                            "\"arguments\": {\"city\": \"Paris\"}}\n</tool_call>");
  EXPECT_EQ(o.error, "");
  ASSERT_EQ(o.events.size(), 2u);
  EXPECT_EQ(o.events[0].text, "I should call the tool.");
  EXPECT_EQ(o.events[1].call, call("get_weather", {{"city", "Paris"}}, 0));
}

TEST(QwenThinking, CallOpenedInsideThinkingEndsIt) {
  auto o = parse_everywhere(testing::qwen_thinking_spec(true),
                            "Calling now.\n<tool_call>{\"name\": \"f\", \"arguments\": {}}</tool_call>");
  EXPECT_EQ(o.thinking(), "Calling now.");
  ASSERT_EQ(o.calls().size(), 1u);
  testing::expect_no_markers(o);
}

TEST(QwenThinking, UnterminatedThinkingStaysThinking) {
  auto o = parse_everywhere(testing::qwen_thinking_spec(true), "still thinking </thi");
  EXPECT_EQ(o.thinking(), "still thinking </thi");
  EXPECT_EQ(o.content(), "");
}

TEST(QwenThinking, DisabledThinkingLeavesTagsInContentLikeOllama) {
  // Without thinking requested there is no thinking parser (Ollama): the text stays content.
  auto o = parse_everywhere(kQwen, "<think>x</think>y");
  EXPECT_EQ(o.content(), "<think>x</think>y");
}

}  // namespace
}  // namespace corral::parsers
