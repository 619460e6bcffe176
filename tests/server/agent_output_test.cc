// Tool calls and thinking end to end, through the real server: Ollama's capability checks (tools
// on a model whose template cannot render them, think on a model that cannot think), tool_choice
// forcing a call that validates against the tool's schema (the random-weight models write
// nothing sensible on their own, so a forced call is what makes the path testable), tool results
// rendered back through the template, and thinking split off the output of a prompt that opens a
// thinking block. Every request shape runs on /api/chat and /v1/chat/completions, streamed and
// whole.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "common/http_client.h"
#include "server/server_process.h"
#include "server/stream_records.h"

namespace corral::testing {
namespace {

using json = nlohmann::json;

const json kWeatherTool = json::parse(R"({
  "type": "function",
  "function": {
    "name": "get_weather",
    "description": "Current weather in a city",
    "parameters": {
      "type": "object",
      "properties": {
        "city": {"type": "string", "maxLength": 12},
        "unit": {"enum": ["celsius", "fahrenheit"]}
      },
      "required": ["city", "unit"]
    }
  }
})");

const json kTimeTool = json::parse(R"({
  "type": "function",
  "function": {
    "name": "get_time",
    "parameters": {"type": "object", "properties": {"zone": {"type": "integer"}}, "required": ["zone"]}
  }
})");

class AgentOutput : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new std::string(std::filesystem::temp_directory_path() / ("corral-agent-" + std::to_string(getpid())));
    create_agent_test_store(*dir_);
    server_ = ServerProcess::start(*dir_).release();
  }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
    std::filesystem::remove_all(*dir_);
    delete dir_;
  }
  static HttpResponse post(const std::string& path, const json& body) {
    return http_post(server_->url(path), body.dump());
  }

  static std::string* dir_;
  static ServerProcess* server_;
};
std::string* AgentOutput::dir_ = nullptr;
ServerProcess* AgentOutput::server_ = nullptr;

json chat_request(const std::string& model, bool stream, int seed) {
  return json{{"model", model},
              {"messages", {{{"role", "user"}, {"content", "What is the weather in Paris?"}}}},
              {"stream", stream},
              {"options", {{"num_predict", 60}, {"temperature", 1}, {"seed", seed}}}};
}

// A call to get_weather whose arguments validate against its schema.
void expect_weather_call(const json& fn, const json& args) {
  EXPECT_EQ(fn.value("name", ""), "get_weather") << fn.dump();
  ASSERT_TRUE(args.is_object()) << args.dump();
  ASSERT_TRUE(args.contains("city") && args["city"].is_string()) << args.dump();
  EXPECT_LE(args["city"].get<std::string>().size(), 12u);
  ASSERT_TRUE(args.contains("unit")) << args.dump();
  EXPECT_TRUE(args["unit"] == "celsius" || args["unit"] == "fahrenheit") << args.dump();
}

TEST_F(AgentOutput, ToolsOnAModelWhoseTemplateCannotRenderThemIsOllamasError) {
  json req = chat_request("stories", false, 1);
  req["tools"] = json::array({kWeatherTool});
  auto r = post("/api/chat", req);
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_EQ(json::parse(r.body).value("error", ""), "registry.ollama.ai/library/stories:latest does not support tools");
  req.erase("options");
  auto o = post("/v1/chat/completions", req);
  EXPECT_EQ(o.status, 400) << o.body;
  EXPECT_NE(o.body.find("does not support tools"), std::string::npos) << o.body;
}

TEST_F(AgentOutput, ThinkOnAModelThatCannotThinkIsOllamasError) {
  json req = chat_request("stories", false, 1);
  req["think"] = true;
  auto r = post("/api/chat", req);
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_EQ(json::parse(r.body).value("error", ""), "\"stories\" does not support thinking");
  auto g = post("/api/generate", json{{"model", "stories"}, {"prompt", "Once"}, {"think", true}, {"stream", false}});
  EXPECT_EQ(g.status, 400) << g.body;
  // think: false is always allowed.
  req["think"] = false;
  req["options"]["num_predict"] = 2;
  EXPECT_EQ(post("/api/chat", req).status, 200);
}

TEST_F(AgentOutput, SuffixOnATemplateWithoutSuffixIsOllamasInsertError) {
  auto r = post("/api/generate",
                json{{"model", "stories"}, {"prompt", "def f("}, {"suffix", "return x"}, {"stream", false}});
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_EQ(json::parse(r.body).value("error", ""),
            "registry.ollama.ai/library/stories:latest does not support insert");
}

TEST_F(AgentOutput, BadToolChoiceIsA400NamingIt) {
  json req = chat_request("syn-qwen3", false, 1);
  req["tools"] = json::array({kWeatherTool});
  req["tool_choice"] = {{"type", "function"}, {"function", {{"name", "launch_rockets"}}}};
  auto r = post("/api/chat", req);
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_NE(r.body.find("launch_rockets"), std::string::npos) << r.body;
  req["tool_choice"] = "sometimes";
  EXPECT_EQ(post("/v1/chat/completions", req).status, 400);
  req.erase("tools");
  req["tool_choice"] = "required";
  r = post("/v1/chat/completions", req);
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_NE(r.body.find("no tools"), std::string::npos) << r.body;
}

TEST_F(AgentOutput, ForcedCallOnOllamaChatIsAValidToolCallWithNoJsonInContent) {
  for (bool stream : {false, true}) {
    for (int seed = 1; seed <= 4; ++seed) {
      SCOPED_TRACE("stream " + std::to_string(stream) + " seed " + std::to_string(seed));
      json req = chat_request("syn-qwen3", stream, seed);
      req["tools"] = json::array({kWeatherTool, kTimeTool});
      req["tool_choice"] = {{"type", "function"}, {"function", {{"name", "get_weather"}}}};
      auto r = post("/api/chat", req);
      ASSERT_EQ(r.status, 200) << r.body;
      std::string content;
      json calls = json::array();
      for (const json& rec : stream_records(r.body)) {
        ASSERT_FALSE(rec.contains("error")) << rec.dump();
        content += rec["message"].value("content", "");
        if (rec["message"].contains("tool_calls"))
          for (const json& c : rec["message"]["tool_calls"]) calls.push_back(c);
      }
      EXPECT_EQ(content, "");
      ASSERT_EQ(calls.size(), 1u) << r.body;
      EXPECT_EQ(calls[0]["id"].get<std::string>().rfind("call_", 0), 0u) << calls[0].dump();
      EXPECT_EQ(calls[0]["function"].value("index", -1), 0);
      expect_weather_call(calls[0]["function"], calls[0]["function"]["arguments"]);
    }
  }
}

TEST_F(AgentOutput, RequiredCallOnOpenAiChatHasIdsStringArgumentsAndFinishReasonToolCalls) {
  for (bool stream : {false, true}) {
    SCOPED_TRACE("stream " + std::to_string(stream));
    json req = chat_request("syn-qwen3", stream, 7);
    req.erase("options");
    req["seed"] = 7;
    req["max_tokens"] = 60;
    req["tools"] = json::array({kWeatherTool});
    req["tool_choice"] = "required";
    auto r = post("/v1/chat/completions", req);
    ASSERT_EQ(r.status, 200) << r.body;
    json call;
    std::string finish;
    if (!stream) {
      const json j = json::parse(r.body);
      const json& choice = j["choices"][0];
      finish = choice.value("finish_reason", "");
      ASSERT_EQ(choice["message"]["tool_calls"].size(), 1u) << r.body;
      EXPECT_TRUE(choice["message"]["content"].is_null()) << r.body;  // OpenAI's shape for a pure call
      call = choice["message"]["tool_calls"][0];
    } else {
      for (const json& rec : stream_records(r.body)) {
        const json& choice = rec["choices"][0];
        if (choice["finish_reason"].is_string()) finish = choice["finish_reason"];
        const json& delta = choice["delta"];
        EXPECT_EQ(delta.value("content", ""), "") << rec.dump();
        if (delta.contains("tool_calls")) {
          ASSERT_TRUE(call.is_null()) << "a second call: " << rec.dump();
          call = delta["tool_calls"][0];
          EXPECT_EQ(call.value("index", -1), 0);
        }
      }
    }
    EXPECT_EQ(finish, "tool_calls");
    ASSERT_TRUE(call.is_object()) << r.body;
    EXPECT_EQ(call.value("type", ""), "function");
    EXPECT_EQ(call.value("id", "").rfind("call_", 0), 0u);
    ASSERT_TRUE(call["function"]["arguments"].is_string()) << call.dump();
    expect_weather_call(call["function"], json::parse(call["function"]["arguments"].get<std::string>()));
  }
}

TEST_F(AgentOutput, RequiredCallAmongSeveralToolsFollowsTheSchemaOfTheToolItNames) {
  // "required" with two tools: the model picks the name, and the arguments must validate
  // against that tool's parameters (a generic object would let {"zone": "x"} or {} through).
  std::set<std::string> names;
  for (int seed = 1; seed <= 8; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    json req = chat_request("syn-qwen3", false, seed);
    req["options"]["num_predict"] = 80;
    req["tools"] = json::array({kTimeTool, kWeatherTool});
    req["tool_choice"] = "required";
    auto r = post("/api/chat", req);
    ASSERT_EQ(r.status, 200) << r.body;
    const json message = json::parse(r.body)["message"];
    ASSERT_EQ(message["tool_calls"].size(), 1u) << r.body;
    const json& fn = message["tool_calls"][0]["function"];
    const std::string name = fn.value("name", "");
    names.insert(name);
    if (name == "get_weather") {
      expect_weather_call(fn, fn["arguments"]);
      continue;
    }
    EXPECT_EQ(name, "get_time") << r.body;
    const json& args = fn["arguments"];
    ASSERT_TRUE(args.is_object()) << r.body;
    EXPECT_EQ(args.size(), 1u) << r.body;
    EXPECT_TRUE(args.contains("zone") && args["zone"].is_number_integer()) << r.body;
  }
  std::cout << "tools named over 8 seeds: " << names.size() << "\n";
}

TEST_F(AgentOutput, ToolResultsRenderBackThroughTheTemplate) {
  // call -> tool result -> answer, in both APIs' message shapes.
  json ollama = chat_request("syn-qwen3", false, 3);
  ollama["tools"] = json::array({kWeatherTool});
  ollama["messages"].push_back(
      {{"role", "assistant"},
       {"content", ""},
       {"tool_calls",
        {{{"id", "call_abc12345"}, {"function", {{"name", "get_weather"}, {"arguments", {{"city", "Paris"}}}}}}}}});
  ollama["messages"].push_back(
      {{"role", "tool"}, {"tool_name", "get_weather"}, {"tool_call_id", "call_abc12345"}, {"content", "18 C"}});
  ollama["options"]["num_predict"] = 4;
  auto r = post("/api/chat", ollama);
  EXPECT_EQ(r.status, 200) << r.body;

  json openai = {{"model", "syn-qwen3"},
                 {"max_tokens", 4},
                 {"tools", json::array({kWeatherTool})},
                 {"messages",
                  {{{"role", "user"}, {"content", "Weather in Paris?"}},
                   {{"role", "assistant"},
                    {"content", nullptr},
                    {"tool_calls",
                     {{{"id", "call_abc12345"},
                       {"type", "function"},
                       {"function", {{"name", "get_weather"}, {"arguments", "{\"city\":\"Paris\"}"}}}}}}},
                   {{"role", "tool"}, {"tool_call_id", "call_abc12345"}, {"content", "18 C"}}}}};
  auto o = post("/v1/chat/completions", openai);
  EXPECT_EQ(o.status, 200) << o.body;
}

TEST_F(AgentOutput, ThinkingIsSplitOffWhenThePromptOpensIt) {
  for (bool stream : {false, true}) {
    SCOPED_TRACE("stream " + std::to_string(stream));
    // Thinking defaults to on for a model that thinks: the prompt ends inside <think>, so the
    // (random, tag-free) output is all reasoning.
    json req = chat_request("thinker", stream, 5);
    req["options"]["num_predict"] = 12;
    auto r = post("/api/chat", req);
    ASSERT_EQ(r.status, 200) << r.body;
    std::string content, thinking;
    for (const json& rec : stream_records(r.body)) {
      content += rec["message"].value("content", "");
      thinking += rec["message"].value("thinking", "");
    }
    EXPECT_EQ(content, "");
    EXPECT_FALSE(thinking.empty()) << r.body;

    // think: false renders no thinking block, and everything is content.
    req["think"] = false;
    r = post("/api/chat", req);
    ASSERT_EQ(r.status, 200) << r.body;
    content.clear();
    thinking.clear();
    for (const json& rec : stream_records(r.body)) {
      content += rec["message"].value("content", "");
      thinking += rec["message"].value("thinking", "");
    }
    EXPECT_FALSE(content.empty()) << r.body;
    EXPECT_EQ(thinking, "");

    // /api/generate carries it as "thinking", OpenAI chat as "reasoning" / "reasoning_content".
    auto g = post("/api/generate", json{{"model", "thinker"},
                                        {"prompt", "Hi"},
                                        {"stream", stream},
                                        {"options", {{"num_predict", 8}, {"seed", 5}}}});
    ASSERT_EQ(g.status, 200) << g.body;
    std::string gthinking, gresponse;
    for (const json& rec : stream_records(g.body)) {
      gthinking += rec.value("thinking", "");
      gresponse += rec.value("response", "");
    }
    EXPECT_FALSE(gthinking.empty()) << g.body;
    EXPECT_EQ(gresponse, "");
  }
  auto o = post(
      "/v1/chat/completions",
      json{
          {"model", "thinker"}, {"max_tokens", 8}, {"seed", 5}, {"messages", {{{"role", "user"}, {"content", "Hi"}}}}});
  ASSERT_EQ(o.status, 200) << o.body;
  const json msg = json::parse(o.body)["choices"][0]["message"];
  EXPECT_FALSE(msg.value("reasoning", "").empty()) << o.body;
  EXPECT_EQ(msg.value("reasoning", ""), msg.value("reasoning_content", "x"));
  EXPECT_EQ(msg.value("content", "x"), "");
}

}  // namespace
}  // namespace corral::testing
