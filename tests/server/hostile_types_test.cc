// Hostile input, part 1: wrongly typed fields. For every endpoint that reads a JSON body,
// every field it reads and every generation option: each JSON type the field does not accept
// is a 400 whose message names the field, never a 500, and the server keeps answering.
// (/api/create's body is tested with the create handler.)
#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/http_client.h"
#include "server/hostile_util.h"
#include "server/server_process.h"

namespace corral::testing {
namespace {

using json = nlohmann::json;
using hostile::error_message;
using hostile::valid_utf8;

enum Type { kBool, kInt, kFloat, kString, kArray, kObject };
constexpr Type kAllTypes[] = {kBool, kInt, kFloat, kString, kArray, kObject};

json sample(Type t) {
  switch (t) {
    case kBool: return true;
    case kInt: return 7;
    case kFloat: return 1.5;
    case kString: return "wrong";
    case kArray: return json::array({1});
    case kObject: return json{{"a", 1}};
  }
  return nullptr;
}

const char* type_name(Type t) {
  static const char* kNames[] = {"bool", "int", "float", "string", "array", "object"};
  return kNames[t];
}

// A field (JSON pointer into the base body), the types it accepts, and the name its error
// must carry (the last path component unless given).
struct Field {
  std::string pointer;
  std::set<Type> accepts;
  std::string name = "";
};

struct Endpoint {
  std::string method, path;
  json base;  // a valid body: it must not be answered with a 400 itself
  std::vector<Field> fields;
};

const std::set<Type> kStr{kString}, kBoolean{kBool}, kInteger{kInt}, kNumber{kInt, kFloat}, kArr{kArray}, kObj{kObject},
    kStrOrArr{kString, kArray}, kStrOrObj{kString, kObject}, kNumOrStr{kInt, kFloat, kString},
    kBoolOrStr{kBool, kString}, kBoolOrNum{kBool, kInt, kFloat};

// A pull or push of a model on a closed loopback port: a field that slipped through the type
// checks fails there (a 500), never reaching beyond this machine.
const char* kLoopbackModel = "127.0.0.1:1/library/nothing:latest";

std::vector<Endpoint> endpoints() {
  const json user_msg = json::array({json{{"role", "user"}, {"content", "hi"}}});
  return {
      {"POST",
       "/api/generate",
       json{{"model", "stories"}, {"prompt", "hi"}, {"stream", false}, {"options", {{"num_predict", 1}}}},
       {{"/model", kStr},
        {"/prompt", kStr},
        {"/suffix", kStr},
        {"/system", kStr},
        {"/template", kStr},
        {"/context", kArr},
        {"/stream", kBoolean},
        {"/raw", kBoolean},
        {"/format", kStrOrObj},
        {"/keep_alive", kNumOrStr},
        {"/options", kObj},
        {"/think", kBoolOrStr}}},
      {"POST",
       "/api/chat",
       json{{"model", "stories"}, {"messages", user_msg}, {"stream", false}, {"options", {{"num_predict", 1}}}},
       {{"/model", kStr},
        {"/messages", kArr},
        {"/messages/0/role", kStr, "role"},
        {"/messages/0/content", kStr, "content"},
        {"/messages/0/thinking", kStr},
        {"/messages/0/tool_calls", kArr},
        {"/messages/0/tool_name", kStr},
        {"/stream", kBoolean},
        {"/format", kStrOrObj},
        {"/keep_alive", kNumOrStr},
        {"/tools", kArr},
        {"/options", kObj},
        {"/think", kBoolOrStr}}},
      {"POST",
       "/api/embed",
       json{{"model", "stories"}, {"input", json::array({"hi"})}},
       {{"/model", kStr},
        {"/input", kStrOrArr},
        {"/input/0", kStr, "input"},
        {"/truncate", kBoolean},
        {"/dimensions", kInteger},
        {"/keep_alive", kNumOrStr},
        {"/options", kObj}}},
      {"POST",
       "/api/embeddings",
       json{{"model", "stories"}, {"prompt", "hi"}},
       {{"/model", kStr}, {"/prompt", kStr}, {"/keep_alive", kNumOrStr}, {"/options", kObj}}},
      {"POST", "/api/show", json{{"model", "stories"}}, {{"/model", kStr}, {"/name", kStr}, {"/verbose", kBoolean}}},
      {"POST",
       "/api/copy",
       json{{"source", "no-such-model"}, {"destination", "no-such-copy"}},
       {{"/source", kStr}, {"/destination", kStr}}},
      {"DELETE", "/api/delete", json{{"model", "no-such-model"}}, {{"/model", kStr}, {"/name", kStr}}},
      {"POST",
       "/api/pull",
       json{{"model", kLoopbackModel}, {"insecure", true}, {"stream", false}},
       {{"/model", kStr}, {"/name", kStr}, {"/insecure", kBoolean}, {"/stream", kBoolean}}},
      {"POST",
       "/api/push",
       json{{"model", kLoopbackModel}, {"insecure", true}, {"stream", false}},
       {{"/model", kStr}, {"/name", kStr}, {"/insecure", kBoolean}, {"/stream", kBoolean}}},
      {"POST",
       "/v1/chat/completions",
       json{{"model", "stories"}, {"messages", user_msg}, {"max_tokens", 1}},
       {{"/model", kStr},
        {"/messages", kArr},
        {"/messages/0/role", kStr, "role"},
        {"/messages/0/content", kStrOrArr, "content"},
        {"/messages/0/reasoning", kStr},
        {"/messages/0/name", kStr},
        {"/messages/0/tool_call_id", kStr},
        {"/messages/0/tool_calls", kArr},
        {"/stream", kBoolean},
        {"/stream_options", kObj},
        {"/n", kInteger},
        {"/max_tokens", kInteger},
        {"/max_completion_tokens", kInteger},
        {"/temperature", kNumber},
        {"/top_p", kNumber},
        {"/frequency_penalty", kNumber},
        {"/presence_penalty", kNumber},
        {"/seed", kInteger},
        {"/stop", kStrOrArr},
        {"/response_format", kObj},
        {"/tools", kArr},
        {"/reasoning_effort", kStr},
        {"/reasoning", kObj},
        {"/logprobs", kBoolOrNum}}},
      {"POST",
       "/v1/completions",
       json{{"model", "stories"}, {"prompt", "hi"}, {"max_tokens", 1}},
       {{"/model", kStr},
        {"/prompt", kStrOrArr},
        {"/suffix", kStr},
        {"/stream", kBoolean},
        {"/stream_options", kObj},
        {"/max_tokens", kInteger},
        {"/temperature", kNumber},
        {"/top_p", kNumber},
        {"/frequency_penalty", kNumber},
        {"/presence_penalty", kNumber},
        {"/seed", kInteger},
        {"/stop", kStrOrArr},
        {"/echo", kBoolOrNum},
        {"/best_of", kInteger}}},
      {"POST",
       "/v1/embeddings",
       json{{"model", "stories"}, {"input", "hi"}},
       {{"/model", kStr}, {"/input", kStrOrArr}, {"/encoding_format", kStr}, {"/dimensions", kInteger}}},
  };
}

// Every option apply_options knows, with the JSON types it takes.
std::vector<Field> option_fields() {
  std::vector<Field> out;
  for (const char* k : {"top_k", "repeat_last_n", "seed", "num_predict", "num_ctx", "num_keep", "num_batch", "num_gpu",
                        "main_gpu", "num_thread", "mirostat", "num_parallel"})
    out.push_back({k, kInteger});
  for (const char* k : {"temperature", "top_p", "min_p", "typical_p", "repeat_penalty", "presence_penalty",
                        "frequency_penalty", "tfs_z", "mirostat_tau", "mirostat_eta"})
    out.push_back({k, kNumber});
  for (const char* k :
       {"penalize_newline", "numa", "use_mmap", "use_mlock", "low_vram", "f16_kv", "vocab_only", "logits_all"})
    out.push_back({k, kBoolean});
  out.push_back({"stop", kArr});
  return out;
}

class HostileTypes : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    // Pulls go to 127.0.0.1:1 (kLoopbackModel); anything else would meet this closed proxy.
    server_ = ServerProcess::start(shared_test_store(), {{"HTTPS_PROXY", "http://127.0.0.1:1"},
                                                         {"HTTP_PROXY", "http://127.0.0.1:1"},
                                                         {"https_proxy", "http://127.0.0.1:1"},
                                                         {"http_proxy", "http://127.0.0.1:1"}})
                  .release();
  }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }
  static HttpResponse send(const std::string& method, const std::string& path, const json& body) {
    return http_request(method, server_->url(path), body.dump());
  }
  // Sends `body` with the field at `pointer` set to each type it does not accept.
  static void expect_type_errors(const std::string& method, const std::string& path, const json& base,
                                 const std::string& pointer, const std::set<Type>& accepts, const std::string& name) {
    for (Type t : kAllTypes) {
      if (accepts.count(t)) continue;
      json body = base;
      body[json::json_pointer(pointer)] = sample(t);
      const auto r = send(method, path, body);
      const std::string what = method + " " + path + " " + pointer + " = " + type_name(t);
      EXPECT_EQ(r.status, 400) << what << ": " << r.body;
      EXPECT_TRUE(valid_utf8(r.body)) << what;
      const std::string msg = error_message(r.body);
      EXPECT_NE(msg.find(name), std::string::npos) << what << ": the error does not name the field: " << r.body;
    }
  }
  static ServerProcess* server_;
};
ServerProcess* HostileTypes::server_ = nullptr;

std::string last_component(const std::string& pointer) { return pointer.substr(pointer.rfind('/') + 1); }

TEST_F(HostileTypes, TheBaseRequestsAreValid) {
  // Each wrongly typed field below must be what makes its request a 400.
  for (const Endpoint& e : endpoints()) {
    const auto r = send(e.method, e.path, e.base);
    EXPECT_NE(r.status, 400) << e.method << " " << e.path << ": " << r.body;
    EXPECT_NE(r.status, 0) << e.method << " " << e.path;
  }
}

TEST_F(HostileTypes, EveryTopLevelAndMessageFieldOfTheWrongTypeIsA400NamingIt) {
  for (const Endpoint& e : endpoints()) {
    for (const Field& f : e.fields)
      expect_type_errors(e.method, e.path, e.base, f.pointer, f.accepts,
                         f.name.empty() ? last_component(f.pointer) : f.name);
  }
  EXPECT_EQ(http_get(server_->url("/")).status, 200);
}

TEST_F(HostileTypes, EveryOptionOfTheWrongTypeIsA400NamingIt) {
  const json msgs = json::array({json{{"role", "user"}, {"content", "hi"}}});
  const std::vector<std::pair<std::string, json>> with_options = {
      {"/api/generate", json{{"model", "stories"}, {"prompt", "hi"}, {"stream", false}, {"options", json::object()}}},
      {"/api/chat", json{{"model", "stories"}, {"messages", msgs}, {"stream", false}, {"options", json::object()}}},
      {"/api/embed", json{{"model", "stories"}, {"input", "hi"}, {"options", json::object()}}},
      {"/api/embeddings", json{{"model", "stories"}, {"prompt", "hi"}, {"options", json::object()}}},
  };
  for (const auto& [path, base] : with_options) {
    for (const Field& f : option_fields())
      expect_type_errors("POST", path, base, "/options/" + f.pointer, f.accepts, f.pointer);
    expect_type_errors("POST", path, base, "/options/stop/0", kStr, "stop");
  }
  EXPECT_EQ(http_get(server_->url("/")).status, 200);
}

TEST_F(HostileTypes, NestedOpenAIFieldsOfTheWrongTypeAreA400NamingThem) {
  const json base{{"model", "stories"},
                  {"messages", json::array({json{{"role", "user"}, {"content", "hi"}}})},
                  {"max_tokens", 1},
                  {"stream_options", json::object()},
                  {"reasoning", json::object()}};
  expect_type_errors("POST", "/v1/chat/completions", base, "/stream_options/include_usage", kBoolean, "include_usage");
  expect_type_errors("POST", "/v1/chat/completions", base, "/reasoning/effort", kStr, "effort");
  json with_calls = base;
  with_calls["messages"].push_back(
      json{{"role", "assistant"},
           {"content", ""},
           {"tool_calls", json::array({json{{"function", {{"name", "f"}, {"arguments", "{}"}}}}})}});
  expect_type_errors("POST", "/v1/chat/completions", with_calls, "/messages/1/tool_calls/0/function/name", kStr,
                     "name");
  expect_type_errors("POST", "/v1/chat/completions", with_calls, "/messages/1/tool_calls/0/function/arguments", kStr,
                     "arguments");
}

TEST_F(HostileTypes, MalformedManifestsPushedToTheRegistryAreA400) {
  // The registry's write side (PUT /v2/<name>/manifests/<tag>) reads a JSON manifest.
  const std::string url = server_->url("/v2/library/hostile/manifests/latest");
  const json good_layer{
      {"mediaType", "application/vnd.ollama.image.model"}, {"digest", "sha256:" + std::string(64, 'a')}, {"size", 1}};
  const json base{{"schemaVersion", 2},
                  {"mediaType", "application/vnd.docker.distribution.manifest.v2+json"},
                  {"config", good_layer},
                  {"layers", json::array({good_layer})}};
  for (const std::string pointer : {"/schemaVersion", "/mediaType", "/config", "/layers", "/layers/0",
                                    "/layers/0/digest", "/layers/0/size", "/config/digest"}) {
    for (Type t : kAllTypes) {
      json body = base;
      body[json::json_pointer(pointer)] = sample(t);
      const auto r = http_request("PUT", url, body.dump());
      EXPECT_NE(r.status, 500) << pointer << " = " << type_name(t) << ": " << r.body;
      EXPECT_NE(r.status, 0) << pointer;
      EXPECT_TRUE(valid_utf8(r.body));
    }
  }
  for (const std::string& body : std::vector<std::string>{"[]", "1", "{", "", hostile::nested_arrays(100000)}) {
    const auto r = http_request("PUT", url, body);
    EXPECT_EQ(r.status, 400) << body.substr(0, 20) << ": " << r.body;
    EXPECT_FALSE(error_message(r.body).empty()) << r.body;
  }
  EXPECT_EQ(http_get(server_->url("/")).status, 200);
}

TEST_F(HostileTypes, BodiesThatAreNotObjectsAreA400OnEveryRoute) {
  for (const Endpoint& e : endpoints()) {
    for (const std::string body : {"[]", "1", "\"x\"", "null", "true", "{", "", "{\"model\":}"}) {
      const auto r = http_request(e.method, server_->url(e.path), body);
      EXPECT_EQ(r.status, 400) << e.method << " " << e.path << " " << body << ": " << r.body;
      EXPECT_FALSE(error_message(r.body).empty()) << r.body;
    }
  }
  // Routes without a body ignore one, whatever it holds.
  for (const std::string path :
       {"/api/tags", "/api/ps", "/api/version", "/v1/models", "/v1/models/stories", "/metrics"}) {
    const auto r = http_request("GET", server_->url(path), "{\"model\": [1, {\"a\": true}]}");
    EXPECT_EQ(r.status, 200) << path << ": " << r.body;
  }
}

}  // namespace
}  // namespace corral::testing
