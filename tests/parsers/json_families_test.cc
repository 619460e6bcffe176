// Llama 3.x, Mistral, Phi-4-mini and the generic template-tag tool calls.
#include <gtest/gtest.h>

#include "parse_util.h"

namespace corral::parsers {
namespace {

using nlohmann::json;
using testing::call;
using testing::parse_everywhere;

ParserSpec llama(std::vector<std::string> names = {"get_weather", "get_time"}) {
  ParserSpec spec = testing::spec_with_tools(ToolFormat::kLlamaJson);
  spec.tool_names = std::move(names);
  return spec;
}

TEST(LlamaToolCalls, JsonOpeningTheAnswerIsACall) {
  auto o = parse_everywhere(llama(), "\n{\"name\": \"get_weather\", \"parameters\": {\"city\": \"Paris\"}}");
  EXPECT_EQ(o.error, "");
  ASSERT_EQ(o.events.size(), 1u);
  EXPECT_EQ(o.events[0].call, call("get_weather", {{"city", "Paris"}}, 0));
}

TEST(LlamaToolCalls, SeveralCallsSeparatedBySemicolons) {
  auto o = parse_everywhere(llama(),
                            "{\"name\": \"get_weather\", \"parameters\": {\"city\": \"Paris\"}}; "
                            "{\"name\": \"get_time\", \"parameters\": {}}");
  auto calls = o.calls();
  ASSERT_EQ(calls.size(), 2u);
  EXPECT_EQ(calls[0].index, 0);
  EXPECT_EQ(calls[1], call("get_time", json::object(), 1));
  EXPECT_EQ(o.content(), "");
}

TEST(LlamaToolCalls, PythonTag) {
  auto o = parse_everywhere(llama(), "<|python_tag|>{\"name\": \"get_time\", \"parameters\": {\"tz\": \"UTC\"}}");
  ASSERT_EQ(o.calls().size(), 1u);
  EXPECT_EQ(o.calls()[0], call("get_time", {{"tz", "UTC"}}, 0));
  testing::expect_no_markers(o);
}

TEST(LlamaToolCalls, PythonTagWithCodeIsContent) {
  auto o = parse_everywhere(llama(), "<|python_tag|>print(1)");
  EXPECT_EQ(o.error, "");
  EXPECT_EQ(o.content(), "print(1)");
}

TEST(LlamaToolCalls, JsonAnswersThatAreNotCallsStayContent) {
  for (const char* text :
       {"{\"answer\": 42}", "[1, 2, 3]", "{\"name\": \"Bob\", \"parameters\": {\"age\": 3}} is a JSON object",
        "{\"name\": \"get_weather\", \"parameters\": {\"city\": }",
        "{\"name\": \"get_weather\", \"parameters\": {\"city\": \"Par"}) {
    SCOPED_TRACE(text);
    auto o = parse_everywhere(llama(), text);
    EXPECT_EQ(o.error, "");
    EXPECT_EQ(o.content(), text);
    EXPECT_TRUE(o.calls().empty());
  }
}

TEST(LlamaToolCalls, JsonAfterTextIsContent) {
  std::string text = "Sure: {\"name\": \"get_weather\", \"parameters\": {}}";
  auto o = parse_everywhere(llama(), text);
  EXPECT_EQ(o.content(), text);
  EXPECT_TRUE(o.calls().empty());
}

TEST(LlamaToolCalls, TextAfterACallIsContent) {
  auto o = parse_everywhere(llama(), "{\"name\": \"get_time\", \"parameters\": {}}\nThat is all.");
  ASSERT_EQ(o.events.size(), 2u);
  EXPECT_EQ(o.events[0].call.name, "get_time");
  EXPECT_EQ(o.events[1].text, "That is all.");
}

const ParserSpec kMistral = testing::spec_with_tools(ToolFormat::kMistral);

TEST(MistralToolCalls, ArrayForm) {
  auto o = parse_everywhere(kMistral,
                            "[TOOL_CALLS] [{\"name\": \"get_weather\", \"arguments\": {\"city\": "
                            "\"Paris\"}}, {\"name\": \"get_time\", \"arguments\": {}}]");
  EXPECT_EQ(o.error, "");
  auto calls = o.calls();
  ASSERT_EQ(calls.size(), 2u);
  EXPECT_EQ(calls[0], call("get_weather", {{"city", "Paris"}}, 0));
  EXPECT_EQ(calls[1], call("get_time", json::object(), 1));
  EXPECT_EQ(o.content(), "");
}

TEST(MistralToolCalls, NamedArgumentsForm) {
  auto o = parse_everywhere(kMistral,
                            "Let me look.[TOOL_CALLS]get_weather[ARGS]{\"city\": \"Paris\"}"
                            "[TOOL_CALLS]get_time[CALL_ID]abc123XYZ[ARGS]{}");
  EXPECT_EQ(o.error, "");
  ASSERT_EQ(o.events.size(), 3u);
  EXPECT_EQ(o.events[0].text, "Let me look.");
  EXPECT_EQ(o.events[1].call, call("get_weather", {{"city", "Paris"}}, 0));
  EXPECT_EQ(o.events[2].call, call("get_time", json::object(), 1));
  testing::expect_no_markers(o);
}

TEST(MistralToolCalls, MalformedIsAnError) {
  for (const char* text : {"[TOOL_CALLS]get_weather[ARGS]{\"city\": }", "[TOOL_CALLS]get_weather[ARGS]oops",
                           "[TOOL_CALLS] [{\"name\": 1}]", "[TOOL_CALLS][]"}) {
    SCOPED_TRACE(text);
    auto o = parse_everywhere(kMistral, text);
    EXPECT_NE(o.error.find("malformed tool call"), std::string::npos) << o.error;
  }
}

TEST(MistralToolCalls, UnknownToolNameIsAnErrorWhenToolsAreKnown) {
  ParserSpec spec = kMistral;
  spec.tool_names = {"get_weather"};
  auto o = parse_everywhere(spec, "[TOOL_CALLS]get_weather[ARGS]{}[TOOL_CALLS]rm_rf[ARGS]{}");
  EXPECT_NE(o.error.find("tool 'rm_rf' not found"), std::string::npos) << o.error;
  EXPECT_EQ(o.calls().size(), 1u);
}

TEST(MistralToolCalls, NameWithoutArgsIsBounded) {
  auto o = parse_everywhere(kMistral, "[TOOL_CALLS]" + std::string(300, 'x'));
  EXPECT_NE(o.error.find("no [ARGS]"), std::string::npos) << o.error;
}

TEST(Phi4ToolCalls, TaggedArray) {
  auto o = parse_everywhere(testing::spec_with_tools(ToolFormat::kPhi4),
                            "I'll check.<|tool_call|>[{\"name\": \"get_weather\", \"arguments\": {\"city\": "
                            "\"Paris\"}}]<|/tool_call|> Then more.");
  EXPECT_EQ(o.error, "");
  ASSERT_EQ(o.events.size(), 3u);
  EXPECT_EQ(o.events[0].text, "I'll check.");
  EXPECT_EQ(o.events[1].call, call("get_weather", {{"city", "Paris"}}, 0));
  EXPECT_EQ(o.events[2].text, "Then more.");
}

TEST(Phi4ToolCalls, OpenAiShapedCall) {
  auto o = parse_everywhere(
      testing::spec_with_tools(ToolFormat::kPhi4),
      R"(<|tool_call|>{"type": "function", "function": {"name": "f", "arguments": "{\"x\": true}"}}<|/tool_call|>)");
  ASSERT_EQ(o.calls().size(), 1u);
  EXPECT_EQ(o.calls()[0], call("f", {{"x", true}}, 0));
}

ParserSpec generic(std::string tag) {
  ParserSpec spec = testing::spec_with_tools(ToolFormat::kGeneric);
  spec.tool_tag = std::move(tag);
  return spec;
}

TEST(GenericToolCalls, CallsAfterTheTemplateTagAndNothingElse) {
  // Ollama's generic parser: content before the tag, calls after it, the rest dropped.
  auto o = parse_everywhere(generic("<function_calls>"),
                            "Calling.\n<function_calls>\n{\"name\": \"a\", \"arguments\": {\"x\": 1}}\n"
                            "{\"name\": \"b\", \"arguments\": {}}</function_calls> trailing words");
  EXPECT_EQ(o.error, "");
  EXPECT_EQ(o.content(), "Calling.");
  auto calls = o.calls();
  ASSERT_EQ(calls.size(), 2u);
  EXPECT_EQ(calls[0], call("a", {{"x", 1}}, 0));
  EXPECT_EQ(calls[1], call("b", json::object(), 1));
}

TEST(GenericToolCalls, MalformedCallsAreDroppedNotErrors) {
  auto o = parse_everywhere(generic("<function_calls>"),
                            "<function_calls>{\"name\": }{\"nam\": 1}{\"name\": \"ok\", \"arguments\": {}}");
  EXPECT_EQ(o.error, "");
  EXPECT_EQ(o.content(), "");
  ASSERT_EQ(o.calls().size(), 1u);
  EXPECT_EQ(o.calls()[0].name, "ok");
}

}  // namespace
}  // namespace corral::parsers
