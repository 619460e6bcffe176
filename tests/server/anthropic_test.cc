// The Anthropic Messages API (/v1/messages, /v1/messages/count_tokens) through the real server:
// the message and its streamed events (names, order, indexes), stop reasons (max_tokens, a
// stop sequence, tool_use), tool_use forced by tool_choice "any" / "tool" validating against the
// tool's input_schema, tool_result round trips rendered by the template, thinking blocks on a
// model whose prompt opens <think>, count_tokens equal to the real prompt's tokens, and every
// error in Anthropic's shape with its status (503 overloaded_error on a full queue).
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <future>
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
  "name": "get_weather",
  "description": "Current weather in a city",
  "input_schema": {
    "type": "object",
    "properties": {
      "city": {"type": "string", "maxLength": 12},
      "unit": {"enum": ["celsius", "fahrenheit"]}
    },
    "required": ["city", "unit"]
  }
})");

const json kTimeTool = json::parse(R"({
  "name": "get_time",
  "input_schema": {"type": "object", "properties": {"zone": {"type": "integer"}}, "required": ["zone"]}
})");

using Event = SseEvent;

class Anthropic : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new std::string(std::filesystem::temp_directory_path() / ("corral-anthropic-" + std::to_string(getpid())));
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
  // The message a stream describes, put together as the SDK does: message_start's message,
  // blocks from content_block_start extended by their deltas, message_delta's stop fields and
  // usage. Checks the framing on the way: every event named as its data's type, deltas only to
  // the open block, indexes in order, message_stop last.
  static json accumulate(const std::vector<Event>& evs) {
    json msg;
    int open = -1;
    std::vector<std::string> partial;
    for (size_t i = 0; i < evs.size(); ++i) {
      const Event& e = evs[i];
      EXPECT_EQ(e.name, e.data.value("type", "")) << e.data.dump();
      const std::string& t = e.name;
      if (i == 0) { EXPECT_EQ(t, "message_start"); }
      if (t == "message_start") {
        EXPECT_EQ(i, 0u);
        msg = e.data["message"];
      } else if (t == "content_block_start") {
        EXPECT_EQ(open, -1) << "a block started while another is open";
        open = e.data["index"];
        EXPECT_EQ(open, static_cast<int>(msg["content"].size()));
        msg["content"].push_back(e.data["content_block"]);
        partial.emplace_back();
      } else if (t == "content_block_delta") {
        EXPECT_EQ(e.data["index"], open);
        json& b = msg["content"][open];
        const json& d = e.data["delta"];
        if (d["type"] == "text_delta") b["text"] = b["text"].get<std::string>() + d["text"].get<std::string>();
        else if (d["type"] == "thinking_delta")
          b["thinking"] = b["thinking"].get<std::string>() + d["thinking"].get<std::string>();
        else if (d["type"] == "input_json_delta") partial[open] += d["partial_json"].get<std::string>();
        else ADD_FAILURE() << "unknown delta " << d.dump();
      } else if (t == "content_block_stop") {
        EXPECT_EQ(e.data["index"], open);
        if (!partial[open].empty()) msg["content"][open]["input"] = json::parse(partial[open]);
        open = -1;
      } else if (t == "message_delta") {
        EXPECT_EQ(open, -1) << "message_delta with a block open";
        for (const auto& [k, v] : e.data["delta"].items()) msg[k] = v;
        msg["usage"]["output_tokens"] = e.data["usage"]["output_tokens"];
      } else if (t == "message_stop") {
        EXPECT_EQ(i + 1, evs.size()) << "message_stop is the last event";
      } else if (t != "ping") {
        ADD_FAILURE() << "unexpected event " << t;
      }
    }
    return msg;
  }
  // The message of a response, streamed or whole.
  static json message_of(const HttpResponse& r, bool stream) {
    if (!stream) return json::parse(r.body);
    EXPECT_EQ(r.headers.count("content-type") ? r.headers.at("content-type") : "", "text/event-stream");
    return accumulate(sse_events(r.body));
  }

  static std::string* dir_;
  static ServerProcess* server_;
};
std::string* Anthropic::dir_ = nullptr;
ServerProcess* Anthropic::server_ = nullptr;

json request(const std::string& model, int max_tokens, bool stream = false) {
  return json{{"model", model},
              {"max_tokens", max_tokens},
              {"stream", stream},
              {"temperature", 0},
              {"messages", {{{"role", "user"}, {"content", "Once upon a time"}}}}};
}

// A tool_use block for get_weather whose input validates against its input_schema.
void expect_weather_call(const json& block) {
  EXPECT_EQ(block.value("type", ""), "tool_use") << block.dump();
  EXPECT_EQ(block.value("id", "").rfind("toolu_", 0), 0u) << block.dump();
  EXPECT_EQ(block.value("name", ""), "get_weather") << block.dump();
  const json& input = block["input"];
  ASSERT_TRUE(input.is_object()) << block.dump();
  ASSERT_TRUE(input.contains("city") && input["city"].is_string()) << input.dump();
  EXPECT_LE(input["city"].get<std::string>().size(), 12u);
  ASSERT_TRUE(input.contains("unit")) << input.dump();
  EXPECT_TRUE(input["unit"] == "celsius" || input["unit"] == "fahrenheit") << input.dump();
}

void expect_error(const HttpResponse& r, long status, const std::string& type, const std::string& words) {
  EXPECT_EQ(r.status, status) << r.body;
  const json j = json::parse(r.body, nullptr, false);
  ASSERT_TRUE(j.is_object()) << r.body;
  EXPECT_EQ(j.value("type", ""), "error") << r.body;
  EXPECT_EQ(j["error"].value("type", ""), type) << r.body;
  EXPECT_NE(j["error"].value("message", "").find(words), std::string::npos) << r.body;
}

TEST_F(Anthropic, MessageHasAnthropicsShapeAndStopsAtMaxTokens) {
  json req = request("stories", 8);
  req["system"] = "You tell stories.";
  req["metadata"] = {{"user_id", "u-1"}};
  auto r = post("/v1/messages", req);
  ASSERT_EQ(r.status, 200) << r.body;
  const json m = json::parse(r.body);
  EXPECT_EQ(m.value("id", "").rfind("msg_", 0), 0u) << r.body;
  EXPECT_EQ(m.value("id", "").size(), 4u + 24u);
  EXPECT_EQ(m["type"], "message");
  EXPECT_EQ(m["role"], "assistant");
  EXPECT_EQ(m["model"], "stories");
  ASSERT_EQ(m["content"].size(), 1u) << r.body;
  EXPECT_EQ(m["content"][0]["type"], "text");
  EXPECT_FALSE(m["content"][0].value("text", "").empty());
  EXPECT_EQ(m["stop_reason"], "max_tokens");
  EXPECT_TRUE(m["stop_sequence"].is_null());
  EXPECT_EQ(m["usage"]["output_tokens"], 8);
  EXPECT_GT(m["usage"]["input_tokens"].get<int>(), 0);
  // Two messages get two ids.
  EXPECT_NE(json::parse(post("/v1/messages", req).body)["id"], m["id"]);
}

TEST_F(Anthropic, StreamedEventsComeInAnthropicsOrderAndAddUpToTheMessage) {
  const json whole = json::parse(post("/v1/messages", request("stories", 10)).body);
  auto r = post("/v1/messages", request("stories", 10, true));
  ASSERT_EQ(r.status, 200) << r.body;
  const std::vector<Event> evs = sse_events(r.body);
  ASSERT_GE(evs.size(), 7u) << r.body;
  // message_start, ping, content_block_start, deltas..., content_block_stop, message_delta,
  // message_stop.
  EXPECT_EQ(evs[0].name, "message_start");
  EXPECT_EQ(evs[1].name, "ping");
  EXPECT_EQ(evs[2].name, "content_block_start");
  EXPECT_EQ(evs[evs.size() - 3].name, "content_block_stop");
  EXPECT_EQ(evs[evs.size() - 2].name, "message_delta");
  EXPECT_EQ(evs[evs.size() - 1].name, "message_stop");
  const json& start = evs[0].data["message"];
  EXPECT_EQ(start["content"], json::array());
  EXPECT_TRUE(start["stop_reason"].is_null());
  EXPECT_EQ(start["usage"]["input_tokens"], whole["usage"]["input_tokens"]);
  EXPECT_EQ(evs[evs.size() - 2].data["usage"]["input_tokens"], whole["usage"]["input_tokens"]);
  const json m = accumulate(evs);
  EXPECT_EQ(m["id"].get<std::string>().rfind("msg_", 0), 0u);
  EXPECT_EQ(m["content"], whole["content"]) << "greedy: the stream says what the whole message says";
  EXPECT_EQ(m["stop_reason"], "max_tokens");
  EXPECT_EQ(m["usage"]["output_tokens"], 10);
}

TEST_F(Anthropic, AStopSequenceEndsTheTextAndIsNamed) {
  const json whole = json::parse(post("/v1/messages", request("stories", 24)).body);
  const std::string text = whole["content"][0]["text"];
  ASSERT_GT(text.size(), 12u) << text;
  // A piece from the middle of what the model says greedily: generation stops before it.
  const std::string stop = text.substr(text.size() / 2, 3);
  const std::string before = text.substr(0, text.find(stop));
  for (bool stream : {false, true}) {
    SCOPED_TRACE("stream " + std::to_string(stream));
    json req = request("stories", 24, stream);
    req["stop_sequences"] = {"never-said-zzz", stop};
    auto r = post("/v1/messages", req);
    ASSERT_EQ(r.status, 200) << r.body;
    const json m = message_of(r, stream);
    EXPECT_EQ(m["stop_reason"], "stop_sequence") << r.body;
    EXPECT_EQ(m["stop_sequence"], stop) << r.body;
    const std::string got = m["content"].empty() ? "" : m["content"][0].value("text", "");
    EXPECT_EQ(got, before);
  }
}

TEST_F(Anthropic, ToolChoiceAnyAndToolForceAToolUseThatValidatesAgainstItsSchema) {
  for (bool stream : {false, true}) {
    for (const json& choice : {json{{"type", "any"}}, json{{"type", "tool"}, {"name", "get_weather"}}}) {
      SCOPED_TRACE("stream " + std::to_string(stream) + " " + choice.dump());
      json req = request("syn-qwen3", 60, stream);
      req["temperature"] = 1;
      req["messages"][0]["content"] = "What is the weather in Paris?";
      // "any" over one tool; "tool" picks one of two.
      req["tools"] = choice["type"] == "any" ? json::array({kWeatherTool}) : json::array({kWeatherTool, kTimeTool});
      req["tool_choice"] = choice;
      auto r = post("/v1/messages", req);
      ASSERT_EQ(r.status, 200) << r.body;
      const json m = message_of(r, stream);
      ASSERT_EQ(m["content"].size(), 1u) << r.body;
      expect_weather_call(m["content"][0]);
      EXPECT_EQ(m["stop_reason"], "tool_use");
      if (stream) {
        // The block starts with an empty input; the whole input comes as input_json_delta.
        for (const Event& e : sse_events(r.body)) {
          if (e.name == "content_block_start") { EXPECT_EQ(e.data["content_block"]["input"], json::object()); }
        }
      }
    }
  }
}

TEST_F(Anthropic, ToolResultsRoundTripThroughTheTemplate) {
  json req = request("syn-qwen3", 4);
  req["tools"] = json::array({kWeatherTool});
  const json call = {{"type", "tool_use"},
                     {"id", "toolu_01abc"},
                     {"name", "get_weather"},
                     {"input", {{"city", "Paris"}, {"unit", "celsius"}}}};
  req["messages"] = {{{"role", "user"}, {"content", "Weather in Paris?"}},
                     {{"role", "assistant"}, {"content", {{{"type", "text"}, {"text", "Let me look."}}, call}}},
                     {{"role", "user"},
                      {"content",
                       {{{"type", "tool_result"}, {"tool_use_id", "toolu_01abc"}, {"content", "18 C and sunny"}},
                        {{"type", "text"}, {"text", "And tomorrow?"}}}}}};
  auto r = post("/v1/messages", req);
  ASSERT_EQ(r.status, 200) << r.body;
  const int with_result = json::parse(r.body)["usage"]["input_tokens"];

  // The result is in the prompt: a longer one (as text blocks) makes a longer prompt, and
  // count_tokens sees the same.
  req["messages"][2]["content"][0]["content"] = {
      {{"type", "text"}, {"text", "18 C and sunny, light wind from the west"}},
      {{"type", "text"}, {"text", "humidity 40 percent"}}};
  r = post("/v1/messages", req);
  ASSERT_EQ(r.status, 200) << r.body;
  const int longer = json::parse(r.body)["usage"]["input_tokens"];
  EXPECT_GT(longer, with_result + 5);
  auto c = post("/v1/messages/count_tokens", req);
  ASSERT_EQ(c.status, 200) << c.body;
  EXPECT_EQ(json::parse(c.body)["input_tokens"], longer);

  // The Qwen template renders the call and the result.
  req["messages"][2]["content"][0]["content"] = "18 C and sunny";
  json without = req;
  without["messages"][1]["content"] = {{{"type", "text"}, {"text", "Let me look."}}};
  without["messages"][2]["content"] = {{{"type", "text"}, {"text", "And tomorrow?"}}};
  const int bare = json::parse(post("/v1/messages/count_tokens", without).body)["input_tokens"];
  EXPECT_GT(with_result, bare + 10) << "the tool_use and tool_result blocks are rendered";
}

TEST_F(Anthropic, ThinkingComesAsThinkingBlocks) {
  for (bool stream : {false, true}) {
    SCOPED_TRACE("stream " + std::to_string(stream));
    json req = request("thinker", 12, stream);
    req["temperature"] = 1;
    req["thinking"] = {{"type", "enabled"}, {"budget_tokens", 1024}};
    auto r = post("/v1/messages", req);
    ASSERT_EQ(r.status, 200) << r.body;
    json m = message_of(r, stream);
    ASSERT_GE(m["content"].size(), 1u) << r.body;
    EXPECT_EQ(m["content"][0]["type"], "thinking") << r.body;
    EXPECT_FALSE(m["content"][0].value("thinking", "").empty()) << r.body;
    EXPECT_TRUE(m["content"][0]["signature"].is_string()) << r.body;
    for (const json& b : m["content"]) EXPECT_NE(b["type"], "text") << "the prompt opened <think>: " << r.body;

    // Disabled: no thinking block, all text.
    req["thinking"] = {{"type", "disabled"}};
    r = post("/v1/messages", req);
    ASSERT_EQ(r.status, 200) << r.body;
    m = message_of(r, stream);
    ASSERT_EQ(m["content"].size(), 1u) << r.body;
    EXPECT_EQ(m["content"][0]["type"], "text") << r.body;
  }
  // A model that cannot think is not refused (Ollama relaxes thinking for Anthropic clients).
  json req = request("stories", 4);
  req["thinking"] = {{"type", "enabled"}, {"budget_tokens", 1024}};
  auto r = post("/v1/messages", req);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(json::parse(r.body)["content"][0]["type"], "text");
}

TEST_F(Anthropic, CountTokensIsThePromptTheMessageWouldTake) {
  json req = request("syn-qwen3", 4);  // its ChatML template renders the system prompt
  req["system"] =
      json::array({{{"type", "text"}, {"text", "You tell stories."}},
                   {{"type", "text"}, {"text", "Short ones."}, {"cache_control", {{"type", "ephemeral"}}}}});
  const int used = json::parse(post("/v1/messages", req).body)["usage"]["input_tokens"];
  json count = req;
  for (const char* k : {"max_tokens", "stream", "temperature"}) count.erase(k);
  auto c = post("/v1/messages/count_tokens", count);
  ASSERT_EQ(c.status, 200) << c.body;
  EXPECT_EQ(json::parse(c.body), (json{{"input_tokens", used}}));
  count.erase("system");
  const int without_system = json::parse(post("/v1/messages/count_tokens", count).body)["input_tokens"];
  EXPECT_LT(without_system, used);

  // Tools count (the template renders them), on the model that can render them.
  json tools = {{"model", "syn-qwen3"}, {"messages", req["messages"]}};
  const int plain = json::parse(post("/v1/messages/count_tokens", tools).body)["input_tokens"];
  tools["tools"] = json::array({kWeatherTool});
  const int with_tools = json::parse(post("/v1/messages/count_tokens", tools).body)["input_tokens"];
  EXPECT_GT(with_tools, plain + 20);

  expect_error(post("/v1/messages/count_tokens", json{{"model", "nope"}, {"messages", req["messages"]}}), 404,
               "not_found_error", "not found");
  expect_error(post("/v1/messages/count_tokens", json{{"model", "stories"}}), 400, "invalid_request_error", "messages");
}

TEST_F(Anthropic, BadRequestsAreAnthropicErrorsNamingTheProblem) {
  const json ok = request("stories", 4);
  auto with = [&](const char* key, const json& value) {
    json r = ok;
    r[key] = value;
    return post("/v1/messages", r);
  };
  json no_max = ok;
  no_max.erase("max_tokens");
  expect_error(post("/v1/messages", no_max), 400, "invalid_request_error", "max_tokens");
  expect_error(with("max_tokens", 0), 400, "invalid_request_error", "max_tokens");
  expect_error(with("max_tokens", "many"), 400, "invalid_request_error", "max_tokens");
  expect_error(with("model", "no-such-model"), 404, "not_found_error", "not found");
  expect_error(with("messages", json::array()), 400, "invalid_request_error", "messages");
  expect_error(with("messages", json{{{"role", "system"}, {"content", "hi"}}}), 400, "invalid_request_error",
               "messages.0.role");
  expect_error(
      with("messages", json{{{"role", "user"},
                             {"content",
                              {{{"type", "image"},
                                {"source", {{"type", "base64"}, {"media_type", "image/png"}, {"data", "AA=="}}}}}}}}),
      400, "invalid_request_error", "not supported yet");
  expect_error(with("messages", json{{{"role", "user"}, {"content", {{{"type", "hologram"}}}}}}), 400,
               "invalid_request_error", "hologram");
  expect_error(with("messages", json{{{"role", "assistant"}, {"content", {{{"type", "tool_use"}, {"name", "f"}}}}}}),
               400, "invalid_request_error", "'id'");
  expect_error(with("temperature", "hot"), 400, "invalid_request_error", "temperature");
  expect_error(with("stop_sequences", "END"), 400, "invalid_request_error", "stop_sequences");
  expect_error(with("thinking", json{{"type", "sometimes"}}), 400, "invalid_request_error", "thinking.type");
  expect_error(with("system", json{{{"type", "image"}}}), 400, "invalid_request_error", "system.0");
  expect_error(with("tools", json{{{"type", "web_search_20250305"}, {"name", "web_search"}}}), 400,
               "invalid_request_error", "web_search_20250305");
  expect_error(with("tools", json{{{"name", "f"}}}), 400, "invalid_request_error", "input_schema");
  // Tools on a model whose template cannot render them: Ollama's words.
  expect_error(with("tools", json::array({kWeatherTool})), 400, "invalid_request_error", "does not support tools");
  json forced = ok;
  forced["model"] = "syn-qwen3";
  forced["tools"] = json::array({kWeatherTool});
  forced["tool_choice"] = {{"type", "tool"}, {"name", "launch_rockets"}};
  expect_error(post("/v1/messages", forced), 400, "invalid_request_error", "launch_rockets");
  forced["tool_choice"] = {{"type", "sometimes"}};
  expect_error(post("/v1/messages", forced), 400, "invalid_request_error", "tool_choice");
  forced.erase("tools");
  forced["tool_choice"] = {{"type", "any"}};
  expect_error(post("/v1/messages", forced), 400, "invalid_request_error", "no tools");
  auto bad_json = http_post(server_->url("/v1/messages"), "{\"model\": ");
  EXPECT_EQ(bad_json.status, 400) << bad_json.body;
  EXPECT_EQ(json::parse(bad_json.body)["error"]["type"], "invalid_request_error");
}

TEST_F(Anthropic, EveryFieldOfAWrongJsonTypeIsA400NamingIt) {
  const json samples[] = {true, 7, 1.5, "wrong", json::array({1}), json{{"a", 1}}};
  // Each field and the JSON types it accepts (by index into samples).
  const std::vector<std::pair<std::string, std::set<int>>> fields = {
      {"model", {3}},      {"max_tokens", {1}},    {"stream", {0}},  {"temperature", {1, 2}}, {"top_p", {1, 2}},
      {"top_k", {1}},      {"stop_sequences", {}}, {"system", {3}},  {"messages", {}},        {"tools", {}},
      {"tool_choice", {}}, {"thinking", {}},       {"metadata", {5}}};
  for (const auto& [field, accepted] : fields) {
    for (int t = 0; t < 6; ++t) {
      if (accepted.count(t)) continue;
      SCOPED_TRACE(field + " = " + samples[t].dump());
      json req = request("stories", 2);
      req[field] = samples[t];
      auto r = post("/v1/messages", req);
      expect_error(r, 400, "invalid_request_error", field);
    }
  }
  // Nested fields.
  const json user = {{"role", "user"}, {"content", "hi"}};
  for (int t = 0; t < 6; ++t) {
    SCOPED_TRACE(samples[t].dump());
    json req = request("stories", 2);
    if (t != 3 && t != 4) {
      req["messages"] = {{{"role", "user"}, {"content", samples[t]}}};
      expect_error(post("/v1/messages", req), 400, "invalid_request_error", "messages.0");
    }
    req["messages"] = {{{"role", samples[t]}, {"content", "hi"}}};
    expect_error(post("/v1/messages", req), 400, "invalid_request_error", "messages.0.role");
    req["messages"] = {user};
    req["tools"] = {{{"name", samples[t]}, {"input_schema", {{"type", "object"}}}}};
    if (t != 3) expect_error(post("/v1/messages", req), 400, "invalid_request_error", "tools.0.name");
    req["tools"] = {{{"name", "f"}, {"input_schema", samples[t]}}};
    if (t != 5) expect_error(post("/v1/messages", req), 400, "invalid_request_error", "tools.0.input_schema");
    req.erase("tools");
    req["thinking"] = {{"type", samples[t]}};
    expect_error(post("/v1/messages", req), 400, "invalid_request_error", "thinking.type");
    req["thinking"] = {{"type", "enabled"}, {"budget_tokens", samples[t]}};
    if (t != 1) expect_error(post("/v1/messages", req), 400, "invalid_request_error", "thinking.budget_tokens");
  }
  // The server is still there.
  EXPECT_EQ(post("/v1/messages", request("stories", 2)).status, 200);
}

TEST(AnthropicQueue, AFullQueueIsOverloadedError503WithRetryAfter) {
  auto s = ServerProcess::start(shared_test_store(), {{"OLLAMA_NUM_PARALLEL", "1"}, {"OLLAMA_MAX_QUEUE", "1"}});
  ASSERT_TRUE(s);
  const json req = {
      {"model", "stories-ctx"}, {"max_tokens", 60}, {"messages", {{{"role", "user"}, {"content", "Once"}}}}};
  ASSERT_EQ(http_post(s->url("/v1/messages"), req.dump()).status, 200);  // loaded
  std::vector<std::future<HttpResponse>> fs;
  for (int i = 0; i < 8; ++i)
    fs.push_back(std::async(std::launch::async,
                            [&] { return http_request("POST", s->url("/v1/messages"), req.dump(), nullptr, 60); }));
  int ok = 0, busy = 0;
  for (auto& f : fs) {
    const HttpResponse r = f.get();
    ok += r.status == 200;
    if (r.status != 503) continue;
    ++busy;
    expect_error(r, 503, "overloaded_error", "");
    EXPECT_EQ(r.headers.count("retry-after"), 1u);
  }
  EXPECT_EQ(ok + busy, 8);
  EXPECT_GE(busy, 1);
}

}  // namespace
}  // namespace corral::testing
