// POST /v1/responses through the real server: the response object's shape, the streamed events
// (names, sequence numbers, order, and text that adds up to the non-streamed answer), a function
// call forced by tool_choice that validates against the tool's schema, a call's output sent back
// as input items, reasoning items on a model that thinks, structured output through text.format,
// and the 400s for what a stateless server cannot do or a request gets wrong.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
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

// A Responses API function tool (flat: no nested "function").
const json kWeatherTool = json::parse(R"({
  "type": "function",
  "name": "get_weather",
  "description": "Current weather in a city",
  "parameters": {
    "type": "object",
    "properties": {
      "city": {"type": "string", "maxLength": 12},
      "unit": {"enum": ["celsius", "fahrenheit"]}
    },
    "required": ["city", "unit"]
  },
  "strict": true
})");

const json kTimeTool = json::parse(R"({
  "type": "function",
  "name": "get_time",
  "parameters": {"type": "object", "properties": {"zone": {"type": "integer"}}, "required": ["zone"]}
})");

using Event = SseEvent;

class Responses : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    server_ = ServerProcess::start(shared_test_store()).release();
    dir_ = new std::string(std::filesystem::temp_directory_path() / ("corral-responses-" + std::to_string(getpid())));
    create_agent_test_store(*dir_);
    thinker_ = ServerProcess::start(*dir_).release();
  }
  static void TearDownTestSuite() {
    delete server_;
    delete thinker_;
    server_ = thinker_ = nullptr;
    std::filesystem::remove_all(*dir_);
    delete dir_;
  }
  static HttpResponse post(const json& body, ServerProcess* s = nullptr) {
    return http_post((s ? s : server_)->url("/v1/responses"), body.dump());
  }
  // The events' names in order, with runs of one delta event kept as one name.
  static std::vector<std::string> shape(const std::vector<Event>& evs) {
    std::vector<std::string> names;
    for (const Event& e : evs)
      if (names.empty() || names.back() != e.name || e.name.find(".delta") == std::string::npos)
        names.push_back(e.name);
    return names;
  }
  // Every event names its type twice (event line and data) and numbers follow 0, 1, 2, ...
  static void expect_well_formed(const std::vector<Event>& evs) {
    for (size_t i = 0; i < evs.size(); ++i) {
      EXPECT_EQ(evs[i].name, evs[i].data.value("type", "")) << evs[i].data.dump();
      EXPECT_EQ(evs[i].data.value("sequence_number", -1), static_cast<int>(i)) << evs[i].data.dump();
    }
  }

  static ServerProcess* server_;   // the shared test store: tiny-tools, tiny, stories
  static ServerProcess* thinker_;  // a store with the thinking model
  static std::string* dir_;
};
ServerProcess* Responses::server_ = nullptr;
ServerProcess* Responses::thinker_ = nullptr;
std::string* Responses::dir_ = nullptr;

json story_request(bool stream) {
  return json{{"model", "tiny-tools"},
              {"input", "Once upon a time"},
              {"instructions", "You tell stories."},
              {"max_output_tokens", 8},
              {"temperature", 0},
              {"stream", stream}};
}

json weather_request(bool stream, const json& tool_choice) {
  return json{{"model", "tiny-tools"},
              {"input", json::array({{{"role", "user"}, {"content", "What is the weather in Paris?"}}})},
              {"tools", json::array({kWeatherTool, kTimeTool})},
              {"tool_choice", tool_choice},
              {"max_output_tokens", 60},
              {"seed", 3},
              {"stream", stream}};
}

// A function_call item whose arguments (a JSON string) validate against get_weather's schema.
void expect_weather_call(const json& item) {
  EXPECT_EQ(item.value("type", ""), "function_call") << item.dump();
  EXPECT_EQ(item.value("id", "").rfind("fc_", 0), 0u) << item.dump();
  EXPECT_EQ(item.value("call_id", "").rfind("call_", 0), 0u) << item.dump();
  EXPECT_EQ(item.value("status", ""), "completed");
  EXPECT_EQ(item.value("name", ""), "get_weather");
  ASSERT_TRUE(item["arguments"].is_string()) << item.dump();
  const json args = json::parse(item["arguments"].get<std::string>());
  ASSERT_TRUE(args.is_object()) << args.dump();
  ASSERT_TRUE(args.contains("city") && args["city"].is_string()) << args.dump();
  EXPECT_LE(args["city"].get<std::string>().size(), 12u);
  EXPECT_TRUE(args["unit"] == "celsius" || args["unit"] == "fahrenheit") << args.dump();
}

// The output_text of a response's message items.
std::string output_text(const json& response) {
  std::string text;
  for (const json& item : response["output"])
    if (item["type"] == "message")
      for (const json& part : item["content"]) text += part.value("text", "");
  return text;
}

TEST_F(Responses, TextAnswerHasOpenAisResponseShape) {
  const auto before =
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  auto r = post(story_request(false));
  ASSERT_EQ(r.status, 200) << r.body;
  const json j = json::parse(r.body);
  EXPECT_EQ(j.value("id", "").rfind("resp_", 0), 0u) << r.body;
  EXPECT_EQ(j["object"], "response");
  EXPECT_GE(j.value("created_at", int64_t{0}), before);
  EXPECT_GE(j.value("completed_at", int64_t{0}), j.value("created_at", int64_t{0}));
  EXPECT_EQ(j["model"], "tiny-tools");
  // 8 tokens and no end: cut short by max_output_tokens.
  EXPECT_EQ(j["status"], "incomplete");
  EXPECT_EQ(j["incomplete_details"], json({{"reason", "max_output_tokens"}}));
  ASSERT_EQ(j["output"].size(), 1u) << r.body;
  const json& msg = j["output"][0];
  EXPECT_EQ(msg["type"], "message");
  EXPECT_EQ(msg.value("id", "").rfind("msg_", 0), 0u);
  EXPECT_EQ(msg["role"], "assistant");
  EXPECT_EQ(msg["status"], "incomplete");
  ASSERT_EQ(msg["content"].size(), 1u);
  EXPECT_EQ(msg["content"][0]["type"], "output_text");
  EXPECT_FALSE(msg["content"][0].value("text", "").empty());
  EXPECT_EQ(msg["content"][0]["annotations"], json::array());
  const json& u = j["usage"];
  EXPECT_EQ(u["output_tokens"], 8);
  EXPECT_GT(u.value("input_tokens", 0), 0);
  EXPECT_EQ(u["total_tokens"], u["input_tokens"].get<int>() + 8);
  EXPECT_TRUE(u["input_tokens_details"]["cached_tokens"].is_number());
  // The request's settings echoed back, as the SDKs read them.
  EXPECT_EQ(j["instructions"], "You tell stories.");
  EXPECT_EQ(j["max_output_tokens"], 8);
  EXPECT_EQ(j["temperature"], 0);
  EXPECT_EQ(j["top_p"], 1.0);
  EXPECT_EQ(j["tools"], json::array());
  EXPECT_EQ(j["tool_choice"], "auto");
  EXPECT_EQ(j["text"], json({{"format", {{"type", "text"}}}}));
  EXPECT_EQ(j["parallel_tool_calls"], true);
  EXPECT_EQ(j["store"], false);
  EXPECT_TRUE(j["previous_response_id"].is_null());
  EXPECT_TRUE(j["error"].is_null());
}

TEST_F(Responses, StreamedEventsComeInOpenAisOrderAndAddUpToTheAnswer) {
  const json whole = json::parse(post(story_request(false)).body);
  auto r = post(story_request(true));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_NE(r.headers["content-type"].find("text/event-stream"), std::string::npos);
  const std::vector<Event> evs = sse_events(r.body);
  expect_well_formed(evs);
  EXPECT_EQ(shape(evs), (std::vector<std::string>{
                            "response.created", "response.in_progress", "response.output_item.added",
                            "response.content_part.added", "response.output_text.delta", "response.output_text.done",
                            "response.content_part.done", "response.output_item.done", "response.incomplete"}));
  ASSERT_GE(evs.size(), 9u);
  const json& created = evs[0].data["response"];
  EXPECT_EQ(created["status"], "in_progress");
  EXPECT_EQ(created["output"], json::array());
  const std::string id = created.value("id", "");
  EXPECT_EQ(id.rfind("resp_", 0), 0u);
  std::string deltas, item_id;
  for (const Event& e : evs) {
    if (e.name == "response.output_item.added") item_id = e.data["item"].value("id", "");
    if (e.name != "response.output_text.delta") continue;
    EXPECT_EQ(e.data["item_id"], item_id);
    EXPECT_EQ(e.data["output_index"], 0);
    deltas += e.data.value("delta", "");
  }
  // Greedy decoding (temperature 0): the stream says what the whole response said.
  EXPECT_EQ(deltas, output_text(whole));
  const json& last = evs.back().data["response"];
  EXPECT_EQ(last["id"], id);
  EXPECT_EQ(last["status"], "incomplete");
  EXPECT_EQ(output_text(last), deltas);
  EXPECT_EQ(last["output"][0]["id"], item_id);
  EXPECT_EQ(last["usage"]["output_tokens"], 8);
  for (const Event& e : evs) {
    if (e.name == "response.output_text.done") { EXPECT_EQ(e.data["text"], deltas); }
  }
}

TEST_F(Responses, ForcedFunctionCallValidatesAgainstTheToolSchema) {
  for (const json& choice : {json("required"), json({{"type", "function"}, {"name", "get_weather"}})}) {
    for (bool stream : {false, true}) {
      SCOPED_TRACE(choice.dump() + (stream ? " streamed" : ""));
      json req = weather_request(stream, choice);
      if (choice == "required") req["tools"] = json::array({kWeatherTool});  // one tool: its schema applies
      auto r = post(req);
      ASSERT_EQ(r.status, 200) << r.body;
      json response;
      if (!stream) {
        response = json::parse(r.body);
      } else {
        const std::vector<Event> evs = sse_events(r.body);
        expect_well_formed(evs);
        EXPECT_EQ(shape(evs), (std::vector<std::string>{
                                  "response.created", "response.in_progress", "response.output_item.added",
                                  "response.function_call_arguments.delta", "response.function_call_arguments.done",
                                  "response.output_item.done", "response.completed"}))
            << r.body;
        ASSERT_FALSE(evs.empty());
        for (const Event& e : evs) {
          if (e.name == "response.output_item.added") {
            EXPECT_EQ(e.data["item"]["status"], "in_progress");
            EXPECT_EQ(e.data["item"]["arguments"], "");
          }
          if (e.name == "response.output_item.done") expect_weather_call(e.data["item"]);
        }
        response = evs.back().data["response"];
      }
      EXPECT_EQ(response["status"], "completed");
      EXPECT_EQ(response["tool_choice"], choice);
      ASSERT_EQ(response["output"].size(), 1u) << response.dump();
      expect_weather_call(response["output"][0]);
      EXPECT_EQ(response["tools"][0]["name"], "get_weather");
    }
  }
}

TEST_F(Responses, FunctionCallOutputGoesBackThroughTheTemplate) {
  auto call = post(weather_request(false, "required"));
  ASSERT_EQ(call.status, 200) << call.body;
  const json first = json::parse(call.body);
  ASSERT_EQ(first["output"].size(), 1u);
  const std::string call_id = first["output"][0].value("call_id", "");

  // The next turn: the conversation so far, the earlier output items as they came, the result.
  json input = json::array({{{"role", "user"}, {"content", "What is the weather in Paris?"}}});
  for (const json& item : first["output"]) input.push_back(item);
  input.push_back({{"type", "function_call_output"}, {"call_id", call_id}, {"output", "18 C and sunny"}});
  json req = weather_request(false, "auto");
  req["input"] = input;
  req["max_output_tokens"] = 4;
  auto r = post(req);
  ASSERT_EQ(r.status, 200) << r.body;
  const json answer = json::parse(r.body);

  // The call and its result are in the prompt: it is longer than the question alone.
  json alone = req;
  alone["input"] = json::array({input[0]});
  auto a = post(alone);
  ASSERT_EQ(a.status, 200) << a.body;
  EXPECT_GT(answer["usage"].value("input_tokens", 0), json::parse(a.body)["usage"].value("input_tokens", 0) + 10);

  // The output may also come as content parts.
  req["input"][2]["output"] = json::array({{{"type", "input_text"}, {"text", "18 C"}}});
  EXPECT_EQ(post(req).status, 200);
}

TEST_F(Responses, InputItemsInEveryShapeAreAccepted) {
  json req = story_request(false);
  req["max_output_tokens"] = 2;
  req["input"] = json::array({
      {{"type", "message"}, {"role", "developer"}, {"content", "Be brief."}},
      {{"type", "message"},
       {"role", "user"},
       {"content",
        json::array({{{"type", "input_text"}, {"text", "Hello"}}, {{"type", "input_text"}, {"text", "there"}}})}},
      {{"type", "reasoning"}, {"id", "rs_1"}, {"summary", json::array({{{"type", "summary_text"}, {"text", "hmm"}}})}},
      {{"type", "message"},
       {"role", "assistant"},
       {"id", "msg_1"},
       {"status", "completed"},
       {"content", json::array({{{"type", "output_text"}, {"text", "Hi"}, {"annotations", json::array()}}})}},
      {{"role", "user"}, {"content", "Tell me a story"}},
  });
  auto r = post(req);
  EXPECT_EQ(r.status, 200) << r.body;
}

TEST_F(Responses, ReasoningItemOnAModelThatThinks) {
  const json req = {{"model", "thinker"}, {"input", "Hi"}, {"max_output_tokens", 10}, {"temperature", 0}};
  auto r = post(req, thinker_);
  ASSERT_EQ(r.status, 200) << r.body;
  const json j = json::parse(r.body);
  ASSERT_EQ(j["output"].size(), 2u) << r.body;
  const json& reasoning = j["output"][0];
  EXPECT_EQ(reasoning["type"], "reasoning");
  EXPECT_EQ(reasoning.value("id", "").rfind("rs_", 0), 0u);
  ASSERT_EQ(reasoning["summary"].size(), 1u);
  EXPECT_EQ(reasoning["summary"][0]["type"], "summary_text");
  const std::string thinking = reasoning["summary"][0].value("text", "");
  EXPECT_FALSE(thinking.empty());
  EXPECT_EQ(reasoning["encrypted_content"], thinking);  // plain text, as Ollama sends it back
  EXPECT_EQ(j["output"][1]["type"], "message");
  EXPECT_EQ(output_text(j), "");  // the prompt opened <think> and the output never closed it

  json streamed = req;
  streamed["stream"] = true;
  auto s = post(streamed, thinker_);
  ASSERT_EQ(s.status, 200) << s.body;
  const std::vector<Event> evs = sse_events(s.body);
  expect_well_formed(evs);
  EXPECT_EQ(shape(evs), (std::vector<std::string>{
                            "response.created", "response.in_progress", "response.output_item.added",
                            "response.reasoning_summary_part.added", "response.reasoning_summary_text.delta",
                            "response.reasoning_summary_text.done", "response.reasoning_summary_part.done",
                            "response.output_item.done", "response.output_item.added", "response.content_part.added",
                            "response.output_text.done", "response.content_part.done", "response.output_item.done",
                            "response.incomplete"}))
      << s.body;
  std::string deltas;
  for (const Event& e : evs)
    if (e.name == "response.reasoning_summary_text.delta") deltas += e.data.value("delta", "");
  EXPECT_EQ(deltas, thinking);
  ASSERT_FALSE(evs.empty());
  EXPECT_EQ(evs.back().data["response"]["output"][0]["summary"][0]["text"], thinking);

  // effort "none" turns thinking off: everything is the answer.
  json off = req;
  off["reasoning"] = {{"effort", "none"}};
  auto o = post(off, thinker_);
  ASSERT_EQ(o.status, 200) << o.body;
  const json oj = json::parse(o.body);
  ASSERT_EQ(oj["output"].size(), 1u) << o.body;
  EXPECT_FALSE(output_text(oj).empty());
  EXPECT_EQ(oj["reasoning"], json({{"effort", "none"}, {"summary", nullptr}}));

  // The reasoning item goes back as input (its text is the assistant turn's thinking).
  json again = req;
  again["input"] = json::array({{{"role", "user"}, {"content", "Hi"}},
                                reasoning,
                                {{"role", "assistant"}, {"content", "Hello"}},
                                {{"role", "user"}, {"content", "And now?"}}});
  EXPECT_EQ(post(again, thinker_).status, 200);

  // A level on a model that cannot think is Ollama's 400.
  auto bad = post({{"model", "stories"}, {"input", "Hi"}, {"reasoning", {{"effort", "high"}}}});
  EXPECT_EQ(bad.status, 400) << bad.body;
  EXPECT_NE(bad.body.find("does not support thinking"), std::string::npos) << bad.body;
}

TEST_F(Responses, TextFormatJsonSchemaConstrainsTheAnswer) {
  const json format = {{"type", "json_schema"},
                       {"name", "verdict"},
                       {"strict", true},
                       {"schema",
                        {{"type", "object"},
                         {"properties", {{"answer", {{"enum", {"yes", "no"}}}}}},
                         {"required", {"answer"}},
                         {"additionalProperties", false}}}};
  json req = story_request(false);
  req["max_output_tokens"] = 40;
  req["text"] = {{"format", format}};
  auto r = post(req);
  ASSERT_EQ(r.status, 200) << r.body;
  const json j = json::parse(r.body);
  EXPECT_EQ(j["status"], "completed");
  const json answer = json::parse(output_text(j));
  EXPECT_TRUE(answer == json({{"answer", "yes"}}) || answer == json({{"answer", "no"}})) << answer.dump();
  EXPECT_EQ(j["text"]["format"], format);

  req["text"] = {{"format", {{"type", "json_object"}}}};
  req["max_output_tokens"] = 4;
  r = post(req);
  ASSERT_EQ(r.status, 200) << r.body;
  const std::string text = output_text(json::parse(r.body));
  EXPECT_EQ(text.substr(text.find_first_not_of(" \t\r\n"), 1), "{") << text;
}

TEST_F(Responses, WhatAStatelessServerCannotDoIsAClear400) {
  struct Case {
    json patch;
    const char* says;
  };
  const std::vector<Case> cases = {
      {{{"previous_response_id", "resp_123"}}, "previous_response_id is not supported"},
      {{{"conversation", "conv_1"}}, "conversation is not supported"},
      {{{"background", true}}, "background responses are not supported"},
      {{{"input", json::array({{{"type", "item_reference"}, {"id", "msg_1"}}})}}, "item_reference is not supported"},
  };
  for (const Case& c : cases) {
    json req = story_request(false);
    req.update(c.patch);
    auto r = post(req);
    EXPECT_EQ(r.status, 400) << c.patch.dump() << r.body;
    EXPECT_NE(r.body.find(c.says), std::string::npos) << r.body;
    EXPECT_EQ(json::parse(r.body)["error"]["type"], "invalid_request_error") << r.body;
  }
  // store is accepted (and ignored): nothing is kept either way.
  json req = story_request(false);
  req["store"] = true;
  req["max_output_tokens"] = 1;
  EXPECT_EQ(post(req).status, 200);
}

TEST_F(Responses, BadRequestsAre400sNamingTheProblem) {
  const json image = {
      {"role", "user"},
      {"content", json::array({{{"type", "input_image"}, {"image_url", "data:image/png;base64,AA=="}}})}};
  const json file = {{"role", "user"}, {"content", json::array({{{"type", "input_file"}, {"file_id", "file_1"}}})}};
  struct Case {
    json patch;
    const char* says;
  };
  const std::vector<Case> cases = {
      {{{"input", nullptr}}, "'input'"},
      {{{"input", 5}}, "invalid type for 'input'"},
      {{{"input", json::array()}, {"instructions", nullptr}}, "'input' is empty"},
      {{{"input", json::array({image})}}, "input[0]: input_image content parts are not supported"},
      {{{"input", json::array({file})}}, "input_file content parts are not supported"},
      {{{"input", json::array({{{"type", "bogus"}}})}}, "unknown input item type 'bogus'"},
      {{{"input", json::array({{{"content", "no role"}}})}}, "missing required 'type'"},
      {{{"input", json::array({{{"role", "tool"}, {"content", "x"}}})}}, "invalid role 'tool'"},
      {{{"input", json::array({{{"type", "function_call"}, {"name", "f"}, {"arguments", "{}"}}})}}, "call_id"},
      {{{"input", json::array({{{"type", "function_call"}, {"call_id", "c"}, {"name", "f"}, {"arguments", "{oops"}}})}},
       "input[0]"},
      {{{"input", json::array({{{"type", "function_call_output"}, {"call_id", "c"}}})}}, "'output'"},
      {{{"tools", json::array({{{"type", "web_search"}}})}}, "tool type 'web_search' is not supported"},
      {{{"tools", json::array({{{"type", "function"}}})}}, "'name' must be a non-empty string"},
      {{{"tools", json::object()}}, "invalid type for 'tools'"},
      {{{"tool_choice", "required"}}, "no tools"},
      {{{"tools", json::array({kWeatherTool})}, {"tool_choice", {{"type", "function"}, {"name", "launch"}}}}, "launch"},
      {{{"tools", json::array({kWeatherTool})}, {"tool_choice", {{"type", "web_search_preview"}}}},
       "tool_choice type 'web_search_preview' is not supported"},
      {{{"max_output_tokens", "many"}}, "max_output_tokens"},
      {{{"max_output_tokens", 0}}, "max_output_tokens"},
      {{{"temperature", "hot"}}, "temperature"},
      {{{"text", {{"format", {{"type", "xml"}}}}}}, "text.format type 'xml'"},
      {{{"text", {{"format", {{"type", "json_schema"}}}}}}, "text.format.schema"},
      {{{"reasoning", {{"effort", "extreme"}}}}, "invalid reasoning value"},
      {{{"stream", "yes"}}, "stream"},
      {{{"top_logprobs", 3}}, "top_logprobs is not supported"},
  };
  for (const Case& c : cases) {
    json req = story_request(false);
    req.update(c.patch);
    auto r = post(req);
    EXPECT_EQ(r.status, 400) << c.patch.dump() << " -> " << r.body;
    EXPECT_NE(r.body.find(c.says), std::string::npos) << c.patch.dump() << " -> " << r.body;
  }
  // Tools for a model whose template cannot render them: Ollama's 400.
  auto t = post({{"model", "stories"}, {"input", "Hi"}, {"tools", json::array({kWeatherTool})}});
  EXPECT_EQ(t.status, 400) << t.body;
  EXPECT_NE(t.body.find("does not support tools"), std::string::npos) << t.body;
  // An unknown model: OpenAI's 404.
  auto m = post({{"model", "no-such-model"}, {"input", "Hi"}});
  EXPECT_EQ(m.status, 404) << m.body;
  EXPECT_EQ(json::parse(m.body)["error"]["code"], "model_not_found") << m.body;
  // Not JSON at all.
  auto n = http_post(server_->url("/v1/responses"), "{not json");
  EXPECT_EQ(n.status, 400) << n.body;
}

// Every field the handler reads, sent with each JSON type it does not accept: a 400 whose
// message names the field, never a 500 (the hostile_types sweep, for this endpoint).
TEST_F(Responses, EveryWronglyTypedFieldIsA400NamingIt) {
  enum Type { kBool, kInt, kFloat, kString, kArray, kObject };
  const json samples[] = {true, 7, 1.5, "wrong", json::array({1}), json{{"a", 1}}};
  const json base = {
      {"model", "tiny-tools"},
      {"instructions", "Be brief."},
      {"input",
       json::array({{{"role", "user"}, {"content", "Weather?"}},
                    {{"type", "function_call"}, {"call_id", "c1"}, {"name", "get_weather"}, {"arguments", "{}"}},
                    {{"type", "function_call_output"}, {"call_id", "c1"}, {"output", "18 C"}}})},
      {"tools", json::array({kWeatherTool})},
      {"tool_choice", "auto"},
      {"text", {{"format", {{"type", "text"}}}}},
      {"reasoning", {{"summary", "auto"}}},
      {"max_output_tokens", 1},
      {"temperature", 0.5},
      {"top_p", 0.9},
      {"seed", 1},
      {"stream", false},
      {"store", false},
      {"background", false},
      {"parallel_tool_calls", true},
      {"truncation", "disabled"},
      {"metadata", json::object()},
      {"include", json::array()},
  };
  ASSERT_EQ(post(base).status, 200);
  struct Field {
    std::string pointer;
    std::set<Type> accepts;
  };
  const std::vector<Field> fields = {
      {"/model", {kString}},
      {"/instructions", {kString}},
      {"/input", {kString, kArray}},
      {"/input/0/role", {kString}},
      {"/input/0/content", {kString, kArray}},
      {"/input/1/call_id", {kString}},
      {"/input/1/name", {kString}},
      {"/input/1/arguments", {kString}},
      {"/input/2/call_id", {kString}},
      {"/input/2/output", {kString, kArray}},
      {"/tools", {kArray}},
      {"/tools/0/name", {kString}},
      {"/tools/0/description", {kString}},
      {"/tools/0/parameters", {kObject}},
      {"/tools/0/strict", {kBool}},
      {"/tool_choice", {kString, kObject}},
      {"/text", {kObject}},
      {"/text/format", {kObject}},
      {"/reasoning", {kObject}},
      {"/reasoning/effort", {kString}},
      {"/reasoning/summary", {kString}},
      {"/max_output_tokens", {kInt}},
      {"/temperature", {kInt, kFloat}},
      {"/top_p", {kInt, kFloat}},
      {"/seed", {kInt}},
      {"/stream", {kBool}},
      {"/store", {kBool}},
      {"/background", {kBool}},
      {"/parallel_tool_calls", {kBool}},
      {"/truncation", {kString}},
      {"/metadata", {kObject}},
      {"/include", {kArray}},
  };
  for (const Field& f : fields) {
    const std::string name = f.pointer.substr(f.pointer.rfind('/') + 1);
    for (int t = kBool; t <= kObject; ++t) {
      if (f.accepts.count(static_cast<Type>(t))) continue;
      json req = base;
      req[json::json_pointer(f.pointer)] = samples[t];
      auto r = post(req);
      EXPECT_EQ(r.status, 400) << f.pointer << " = " << samples[t].dump() << " -> " << r.body;
      EXPECT_NE(r.body.find(name), std::string::npos) << f.pointer << " = " << samples[t].dump() << " -> " << r.body;
    }
  }
  EXPECT_EQ(post(base).status, 200) << "the server still answers";
}

}  // namespace
}  // namespace corral::testing
