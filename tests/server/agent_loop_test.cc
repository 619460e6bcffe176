// An agent loop through the batched engine: 8 conversations at once (OLLAMA_NUM_PARALLEL=8),
// each with its own tools, doing user -> forced call -> tool result -> answer, twice. Half talk
// Ollama's /api/chat, half OpenAI's /v1/chat/completions, some streamed. Every call must name
// the forced tool and validate against that tool's parameters schema, every response must be a
// 200, and the engine's step counter must show that steps decoded several conversations at once.
#include <gtest/gtest.h>

#include <barrier>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "common/http_client.h"
#include "common/prometheus_text.h"
#include "server/server_process.h"
#include "server/stream_records.h"

namespace corral::testing {
namespace {

using json = nlohmann::json;

constexpr int kConversations = 8;

// Eight parameter schemas in the subset forced calls are decoded under: strings with bounds,
// enums (string and numeric), booleans, optional properties, nested objects, arrays, nullable
// values and non-negative integers.
const char* const kParameters[kConversations] = {
    R"({"type":"object","properties":{"city":{"type":"string","maxLength":12},
        "unit":{"enum":["celsius","fahrenheit"]}},"required":["city","unit"]})",
    R"({"type":"object","properties":{"order_id":{"type":"string","maxLength":8},"express":{"type":"boolean"}},
        "required":["order_id","express"],"additionalProperties":false})",
    R"({"type":"object","properties":{"query":{"type":"string","maxLength":16},
        "limit":{"type":"integer","minimum":0}},"required":["query"]})",
    R"({"type":"object","properties":{"point":{"type":"object","properties":{"x":{"type":"number"},
        "y":{"type":"number"}},"required":["x","y"]}},"required":["point"]})",
    R"({"type":"object","properties":{"tags":{"type":"array","items":{"type":"string","maxLength":6},
        "maxItems":3}},"required":["tags"]})",
    R"({"type":"object","properties":{"flag":{"type":"boolean"},"note":{"type":["string","null"],"maxLength":10}},
        "required":["flag","note"]})",
    R"({"type":"object","properties":{"level":{"enum":[1,2,3]}},"required":["level"]})",
    R"({"type":"object","properties":{"name":{"type":"string","maxLength":10},"age":{"type":"integer","minimum":0},
        "email":{"type":"string","maxLength":20}},"required":["name","age"]})",
};

size_t code_points(const std::string& s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

// Checks `v` against the schema subset above; "" when valid, else where and why not.
std::string invalid(const json& v, const json& schema, const std::string& at = "$") {
  if (schema.contains("enum")) {
    for (const json& e : schema["enum"])
      if (e == v) return "";
    return at + ": " + v.dump() + " is not in the enum";
  }
  if (schema.contains("type")) {
    const json types = schema["type"].is_array() ? schema["type"] : json::array({schema["type"]});
    bool ok = false;
    for (const json& t : types) {
      const std::string name = t;
      ok = ok || (name == "object" && v.is_object()) || (name == "array" && v.is_array()) ||
           (name == "string" && v.is_string()) || (name == "boolean" && v.is_boolean()) ||
           (name == "null" && v.is_null()) || (name == "integer" && v.is_number_integer()) ||
           (name == "number" && v.is_number());
    }
    if (!ok) return at + ": " + v.dump() + " is not of type " + schema["type"].dump();
  }
  if (v.is_string() && schema.contains("maxLength") && code_points(v) > schema["maxLength"].get<size_t>())
    return at + ": longer than maxLength";
  if (v.is_number() && schema.contains("minimum") && v.get<double>() < schema["minimum"].get<double>())
    return at + ": below minimum";
  if (v.is_array()) {
    if (schema.contains("maxItems") && v.size() > schema["maxItems"].get<size_t>()) return at + ": too many items";
    for (size_t i = 0; i < v.size(); ++i)
      if (auto e = invalid(v[i], schema.value("items", json::object()), at + "[" + std::to_string(i) + "]"); !e.empty())
        return e;
  }
  if (v.is_object()) {
    const json props = schema.value("properties", json::object());
    for (const json& r : schema.value("required", json::array()))
      if (!v.contains(r.get<std::string>())) return at + ": required " + r.dump() + " missing";
    for (auto it = v.begin(); it != v.end(); ++it) {
      if (!props.contains(it.key())) {
        if (schema.value("additionalProperties", true) == false) return at + ": unexpected " + it.key();
        continue;
      }
      if (auto e = invalid(it.value(), props[it.key()], at + "." + it.key()); !e.empty()) return e;
    }
  }
  return "";
}

// One response, read the same way for both APIs.
struct Reply {
  long status = 0;
  std::string content;
  std::vector<json> calls;  // {"id", "name", "arguments" (an object)}
  std::string error;        // why the body could not be read
};

Reply read_ollama(const HttpResponse& r) {
  Reply out;
  out.status = r.status;
  if (r.status != 200) return out;
  for (const json& rec : stream_records(r.body)) {
    if (rec.contains("error")) out.error = rec.dump();
    const json& m = rec.value("message", json::object());
    out.content += m.value("content", "");
    for (const json& c : m.value("tool_calls", json::array()))
      out.calls.push_back({{"id", c.value("id", "")},
                           {"name", c["function"].value("name", "")},
                           {"arguments", c["function"].value("arguments", json())}});
  }
  return out;
}

Reply read_openai(const HttpResponse& r, bool stream) {
  Reply out;
  out.status = r.status;
  if (r.status != 200) return out;
  std::string finish;
  std::vector<json> raw;  // OpenAI's call objects, deltas merged by index
  if (!stream) {
    const json body = json::parse(r.body);
    const json& choice = body["choices"][0];
    finish = choice.value("finish_reason", "");
    if (choice["message"]["content"].is_string()) out.content = choice["message"]["content"];
    for (const json& c : choice["message"].value("tool_calls", json::array())) raw.push_back(c);
  } else {
    for (const json& rec : stream_records(r.body)) {
      if (rec.contains("error")) out.error = rec.dump();
      if (!rec.contains("choices") || rec["choices"].empty()) continue;  // the usage chunk
      const json& choice = rec["choices"][0];
      if (choice["finish_reason"].is_string()) finish = choice["finish_reason"];
      const json& d = choice["delta"];
      if (d.contains("content") && d["content"].is_string()) out.content += d["content"].get<std::string>();
      for (const json& c : d.value("tool_calls", json::array())) {
        const size_t i = c.value("index", 0);
        if (raw.size() <= i) raw.resize(i + 1, json{{"function", {{"name", ""}, {"arguments", ""}}}});
        if (c.contains("id")) raw[i]["id"] = c["id"];
        const json& f = c.value("function", json::object());
        raw[i]["function"]["name"] = raw[i]["function"]["name"].get<std::string>() + f.value("name", "");
        raw[i]["function"]["arguments"] = raw[i]["function"]["arguments"].get<std::string>() + f.value("arguments", "");
      }
    }
  }
  for (const json& c : raw) {
    json args = json::parse(c["function"].value("arguments", ""), nullptr, false);
    if (args.is_discarded()) out.error = "arguments are not JSON: " + c.dump();
    out.calls.push_back({{"id", c.value("id", "")}, {"name", c["function"].value("name", "")}, {"arguments", args}});
  }
  if (!raw.empty() && finish != "tool_calls") out.error = "finish_reason " + finish + " after a call";
  return out;
}

// One conversation: its API, its tools, its messages so far, and what went wrong.
class Conversation {
 public:
  Conversation(ServerProcess& server, int index) : server_(server), index_(index) {
    openai_ = index % 2 == 1;
    stream_ = index % 4 >= 2;
    for (int t = 0; t < 2; ++t) {
      const std::string name = (t == 0 ? "first_tool_" : "second_tool_") + std::to_string(index);
      tools_.push_back({{"type", "function"},
                        {"function",
                         {{"name", name},
                          {"description", "Tool " + std::to_string(t) + " of conversation " + std::to_string(index)},
                          {"parameters", json::parse(kParameters[(index + 3 * t) % kConversations])}}}});
    }
    messages_.push_back({{"role", "user"}, {"content", "Please look it up, conversation " + std::to_string(index)}});
  }

  // Stage 0/3: a call forced to tool `t`; 1/4: its result goes back and the model answers;
  // 2: the user asks again.
  void call(int t) {
    const json& fn = tools_[t]["function"];
    Reply r = send(json{{"type", "function"}, {"function", {{"name", fn["name"]}}}}, 128);
    if (!ok(r, "call " + std::to_string(t))) return;
    if (r.calls.size() != 1 || !r.content.empty()) return fail("expected one call and no content, got " + dump(r));
    const json& c = r.calls[0];
    if (c["name"] != fn["name"]) return fail("called " + c["name"].dump() + ", not " + fn["name"].dump());
    if (!c["arguments"].is_object()) return fail("arguments not an object: " + c.dump());
    if (auto e = invalid(c["arguments"], fn["parameters"]); !e.empty())
      return fail("call " + std::to_string(t) + " " + c["arguments"].dump() + " invalid: " + e);
    ++valid_calls_;
    // The assistant's call and the tool's result, in this API's message shapes.
    if (openai_) {
      messages_.push_back({{"role", "assistant"},
                           {"content", nullptr},
                           {"tool_calls",
                            {{{"id", c["id"]},
                              {"type", "function"},
                              {"function", {{"name", c["name"]}, {"arguments", c["arguments"].dump()}}}}}}});
      messages_.push_back({{"role", "tool"}, {"tool_call_id", c["id"]}, {"content", R"({"result":"done"})"}});
    } else {
      messages_.push_back(
          {{"role", "assistant"},
           {"content", ""},
           {"tool_calls", {{{"id", c["id"]}, {"function", {{"name", c["name"]}, {"arguments", c["arguments"]}}}}}}});
      messages_.push_back({{"role", "tool"}, {"tool_name", c["name"]}, {"content", R"({"result":"done"})"}});
    }
  }

  void answer() {
    Reply r = send(nullptr, 8);
    if (!ok(r, "answer")) return;
    if (!r.calls.empty()) return fail("expected an answer, got a call: " + dump(r));
    ++answers_;
    messages_.push_back({{"role", "assistant"}, {"content", r.content}});
  }

  void ask_again() { messages_.push_back({{"role", "user"}, {"content", "And the other one?"}}); }

  bool failed() const { return !error_.empty(); }
  const std::string& error() const { return error_; }
  int valid_calls() const { return valid_calls_; }
  int answers() const { return answers_; }

 private:
  Reply send(const json& tool_choice, int max_tokens) {
    const int seed = 100 * index_ + static_cast<int>(messages_.size());
    json req{{"model", "tiny-tools"}, {"messages", messages_}, {"tools", tools_}, {"stream", stream_}};
    if (!tool_choice.is_null()) req["tool_choice"] = tool_choice;
    if (openai_) {
      req["max_tokens"] = max_tokens;
      req["seed"] = seed;
      req["temperature"] = 1;
      const HttpResponse r = http_post(server_.url("/v1/chat/completions"), req.dump());
      return read_openai(r, stream_);
    }
    req["options"] = {{"num_predict", max_tokens}, {"seed", seed}, {"temperature", 1}};
    return read_ollama(http_post(server_.url("/api/chat"), req.dump()));
  }
  bool ok(const Reply& r, const std::string& what) {
    if (r.status != 200) fail(what + ": status " + std::to_string(r.status));
    else if (!r.error.empty()) fail(what + ": " + r.error);
    return !failed();
  }
  void fail(const std::string& why) {
    error_ = "conversation " + std::to_string(index_) + (openai_ ? " (openai" : " (ollama") +
             (stream_ ? ", streamed): " : "): ") + why;
  }
  static std::string dump(const Reply& r) {
    json calls = r.calls;
    return "content " + json(r.content).dump() + " calls " + calls.dump();
  }

  ServerProcess& server_;
  int index_;
  bool openai_ = false, stream_ = false;
  json tools_ = json::array();
  json messages_ = json::array();
  std::string error_;
  int valid_calls_ = 0, answers_ = 0;
};

double metric(ServerProcess& s, const std::string& name) {
  const PromExposition e = parse_prometheus_text(http_get(s.url("/metrics")).body);
  return e.value(name, {{"model", "tiny-tools:latest"}}).value_or(-1);
}

TEST(AgentLoop, EightConversationsCallToolsTwiceThroughTheBatchedEngine) {
  auto server = ServerProcess::start(shared_test_store(), {{"OLLAMA_NUM_PARALLEL", "8"}});
  ASSERT_TRUE(server);
  // Load the model first, so that the conversations start together.
  ASSERT_EQ(http_post(server->url("/api/chat"), R"({"model":"tiny-tools","messages":[{"role":"user","content":"Hi"}],
                                                   "stream":false,"options":{"num_predict":1}})")
                .status,
            200);
  const double steps_before = metric(*server, "corral:engine_step_duration_seconds_count");
  const double tokens_before = metric(*server, "corral:generation_tokens_total");
  ASSERT_GE(steps_before, 0);
  ASSERT_GE(tokens_before, 0);

  std::vector<Conversation> convs;
  for (int i = 0; i < kConversations; ++i) convs.emplace_back(*server, i);
  // Every stage starts in all conversations together (a conversation that failed keeps arriving
  // at the barrier, so the others never wait for it).
  std::barrier sync(kConversations);
  std::vector<std::thread> threads;
  for (int i = 0; i < kConversations; ++i) {
    threads.emplace_back([&sync, &c = convs[i]] {
      const std::function<void()> stages[] = {[&] { c.call(0); }, [&] { c.answer(); }, [&] { c.ask_again(); },
                                              [&] { c.call(1); }, [&] { c.answer(); }};
      for (const auto& stage : stages) {
        sync.arrive_and_wait();
        if (!c.failed()) stage();
      }
    });
  }
  for (std::thread& t : threads) t.join();

  for (const Conversation& c : convs) {
    EXPECT_FALSE(c.failed()) << c.error() << "\nserver log:\n" << server->log();
    EXPECT_EQ(c.valid_calls(), 2);
    EXPECT_EQ(c.answers(), 2);
  }
  // Each step samples at most one token per sequence, so fewer steps than generated tokens means
  // some steps decoded several conversations at once.
  const double steps = metric(*server, "corral:engine_step_duration_seconds_count") - steps_before;
  const double tokens = metric(*server, "corral:generation_tokens_total") - tokens_before;
  EXPECT_GT(tokens, 0);
  EXPECT_LT(steps, tokens) << "no step decoded more than one conversation";
  RecordProperty("engine_steps", std::to_string(steps));
  RecordProperty("generated_tokens", std::to_string(tokens));
  std::printf("agent loop: %d conversations, %.0f tokens in %.0f engine steps (%.2f sequences per step)\n",
              kConversations, tokens, steps, tokens / steps);
}

}  // namespace
}  // namespace corral::testing
