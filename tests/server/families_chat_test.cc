// /api/chat with each model family beyond llama/qwen2 (random-weight synthetic models): the
// server loads the architecture, picks the family's built-in chat template from the GGUF's
// Jinja tokenizer.chat_template, and answers. The built-ins of qwen3, gemma3 and gpt-oss are
// Ollama's own templates: /api/show reports them and the capabilities Ollama derives from them,
// and the prompts /api/chat renders through them (tools, think on and off) are compared with
// Ollama's text by sending that text raw to /api/generate: same text, same token count.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <future>
#include <nlohmann/json.hpp>
#include <vector>

#include "common/http_client.h"
#include "common/test_data.h"
#include "server/server_process.h"
#include "store/create.h"
#include "store/modelfile.h"
#include "store/store.h"
#include "templates/builtin_templates.h"

namespace corral::testing {
namespace {

using json = nlohmann::json;

struct Family {
  const char* name;
  const char* file;
  const char* template_marker;  // in the built-in Go template /api/show reports
};

const Family kFamilies[] = {
    {"syn-qwen3", "models/synthetic/syn-qwen3-q8_0.gguf", "<|im_start|>"},
    {"syn-phi3", "models/synthetic/syn-phi3-q8_0.gguf", "<|assistant|>"},
    {"syn-gemma3", "models/synthetic/syn-gemma3-q8_0.gguf", "<start_of_turn>"},
    {"syn-qwen3moe", "models/synthetic/syn-qwen3moe-q4_k_m.gguf", "<|im_start|>"},
    {"syn-gptoss", "models/synthetic/syn-gptoss-mxfp4.gguf", "<|start|>"},
};

// Each model's built-in template and capabilities, as Ollama derives them from the template:
// tools (it renders .Tools), thinking (tags around .Thinking, or harmony).
struct Expected {
  const char* name;
  TemplateFamily family;
  std::vector<std::string> capabilities;
};

const Expected kTemplates[] = {
    {"syn-qwen3", TemplateFamily::kQwen3, {"completion", "tools", "thinking"}},
    {"syn-qwen3moe", TemplateFamily::kQwen3, {"completion", "tools", "thinking"}},
    {"syn-gemma3", TemplateFamily::kGemma3, {"completion"}},
    {"syn-phi3", TemplateFamily::kPhi3, {"completion"}},  // Phi-3.5-mini's template: no tools
    {"syn-gptoss", TemplateFamily::kGptOss, {"completion", "tools", "thinking"}},
};

class FamiliesChat : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new std::string(std::filesystem::temp_directory_path() / ("corral-families-" + std::to_string(getpid())));
    std::filesystem::remove_all(*dir_);
    std::filesystem::create_directories(*dir_);
    store::Store s(*dir_);
    std::vector<std::pair<std::string, std::string>> models;
    for (const Family& f : kFamilies) models.emplace_back(f.name, f.file);
    for (const auto& [name, file] : models) {
      auto mf = store::parse_modelfile("FROM " + test_data_path(file) + "\n");
      ASSERT_TRUE(mf.is_ok()) << mf.error();
      auto r = store::create_model(s, name, *mf, fixture_create_options());
      ASSERT_TRUE(r.is_ok()) << name << ": " << r.error();
    }
    server_ = ServerProcess::start(*dir_).release();
  }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
    std::filesystem::remove_all(*dir_);
    delete dir_;
  }
  static std::string* dir_;
  static ServerProcess* server_;
};
std::string* FamiliesChat::dir_ = nullptr;
ServerProcess* FamiliesChat::server_ = nullptr;

TEST_F(FamiliesChat, EveryFamilyAnswersThroughItsTemplate) {
  ASSERT_NE(server_, nullptr);
  for (const Family& f : kFamilies) {
    SCOPED_TRACE(f.name);
    auto show = http_post(server_->url("/api/show"), json{{"model", f.name}}.dump());
    ASSERT_EQ(show.status, 200) << show.body;
    const json s = json::parse(show.body);
    EXPECT_NE(s.value("template", "").find(f.template_marker), std::string::npos) << s.value("template", "");

    const json req = {
        {"model", f.name},
        {"messages", {{{"role", "system"}, {"content", "Be brief."}}, {{"role", "user"}, {"content", "Hi"}}}},
        {"stream", false},
        {"options", {{"num_predict", 8}, {"temperature", 0}, {"seed", 1}}}};
    auto r = http_post(server_->url("/api/chat"), req.dump());
    ASSERT_EQ(r.status, 200) << r.body << "\n" << server_->log();
    const json j = json::parse(r.body);
    EXPECT_TRUE(j.value("done", false));
    EXPECT_EQ(j["message"]["role"], "assistant");
    // The template's role markers are part of the prompt: far more tokens than "Be brief." + "Hi".
    EXPECT_GE(j.value("prompt_eval_count", 0), 10);
    EXPECT_TRUE(j.contains("eval_count"));  // a random model may end its reply at once
  }
}

// Issue #11's bar: every family serves 8 concurrent chats through the batched engine. The same
// greedy request 8 times at once must give 8 identical answers (batching never changes results).
TEST_F(FamiliesChat, EightConcurrentChatsPerFamilyAgree) {
  ASSERT_NE(server_, nullptr);
  for (const Family& f : kFamilies) {
    SCOPED_TRACE(f.name);
    const json req = {{"model", f.name},
                      {"messages", {{{"role", "user"}, {"content", "Tell me a story about a fox"}}}},
                      {"stream", false},
                      {"think", false},
                      {"options", {{"num_predict", 12}, {"temperature", 0}}}};
    std::vector<std::future<HttpResponse>> calls;
    for (int i = 0; i < 8; ++i)
      calls.push_back(std::async(std::launch::async, [&] { return http_post(server_->url("/api/chat"), req.dump()); }));
    std::vector<json> answers;
    for (auto& c : calls) {
      const HttpResponse r = c.get();
      ASSERT_EQ(r.status, 200) << r.body << "\n" << server_->log();
      answers.push_back(json::parse(r.body)["message"]);
    }
    for (const json& a : answers) EXPECT_EQ(a, answers.front());
  }
}

TEST_F(FamiliesChat, BuiltinTemplatesAndCapabilitiesAreOllamas) {
  ASSERT_NE(server_, nullptr);
  for (const Expected& e : kTemplates) {
    SCOPED_TRACE(e.name);
    auto show = http_post(server_->url("/api/show"), json{{"model", e.name}}.dump());
    ASSERT_EQ(show.status, 200) << show.body;
    const json s = json::parse(show.body);
    EXPECT_EQ(s.value("template", ""), builtin_go_template(e.family));
    EXPECT_EQ(s["capabilities"], json(e.capabilities));
  }
}

const json kWeatherTools = json::parse(R"([{"type": "function", "function": {
    "name": "get_weather", "description": "Get the weather",
    "parameters": {"type": "object", "required": ["city"],
                   "properties": {"city": {"type": "string", "description": "City name"}}}}}])");

// Ollama's qwen3 template (src/templates/ollama_library_templates.cc) over kWeatherTools and no
// system message: the system turn holds only the tools.
const std::string kQwen3ToolsSystem =
    "<|im_start|>system\n\n\n# Tools\n\nYou may call one or more functions to assist with the user query.\n\n"
    "You are provided with function signatures within <tools></tools> XML tags:\n<tools>\n"
    "{\"type\": \"function\", \"function\": {\"name\":\"get_weather\",\"description\":\"Get the weather\","
    "\"parameters\":{\"type\":\"object\",\"required\":[\"city\"],\"properties\":{\"city\":{\"type\":\"string\","
    "\"description\":\"City name\"}}}}}\n</tools>\n\nFor each function call, return a json object with function "
    "name and arguments within <tool_call></tool_call> XML tags:\n<tool_call>\n{\"name\": <function-name>, "
    "\"arguments\": <args-json-object>}\n</tool_call><|im_end|>\n";

json ask(const char* model) {
  return {{"model", model},
          {"messages", {{{"role", "user"}, {"content", "What is the weather in Paris?"}}}},
          {"stream", false},
          {"options", {{"num_predict", 4}, {"temperature", 0}, {"seed", 1}}}};
}

// The prompt token count of `prompt` sent as is (raw): what the chat's rendered prompt must match.
int64_t raw_prompt_tokens(ServerProcess& server, const std::string& model, const std::string& prompt) {
  const json req = {{"model", model}, {"prompt", prompt}, {"raw", true},
                    {"think", false}, {"stream", false},  {"options", {{"num_predict", 1}}}};
  auto r = http_post(server.url("/api/generate"), req.dump());
  EXPECT_EQ(r.status, 200) << r.body;
  return r.status == 200 ? json::parse(r.body).value("prompt_eval_count", int64_t{-1}) : -1;
}

TEST_F(FamiliesChat, Qwen3ForcedToolCallThroughItsBuiltinTemplate) {
  ASSERT_NE(server_, nullptr);
  json req = ask("syn-qwen3");
  req["tools"] = kWeatherTools;
  req["tool_choice"] = "required";
  auto r = http_post(server_->url("/api/chat"), req.dump());
  ASSERT_EQ(r.status, 200) << r.body << "\n" << server_->log();
  const json j = json::parse(r.body);
  const json& msg = j["message"];
  EXPECT_EQ(msg.value("content", "x"), "");
  ASSERT_TRUE(msg.contains("tool_calls")) << r.body;
  ASSERT_EQ(msg["tool_calls"].size(), 1u) << r.body;
  const json& fn = msg["tool_calls"][0]["function"];
  EXPECT_EQ(fn.value("name", ""), "get_weather");
  ASSERT_TRUE(fn["arguments"].is_object()) << r.body;
  EXPECT_TRUE(fn["arguments"]["city"].is_string()) << r.body;
  // A forced call turns thinking off: Ollama's template then says /no_think and closes an empty
  // think block.
  EXPECT_EQ(
      j.value("prompt_eval_count", int64_t{0}),
      raw_prompt_tokens(*server_, "syn-qwen3",
                        kQwen3ToolsSystem + "<|im_start|>user\nWhat is the weather in Paris? /no_think<|im_end|>\n"
                                            "<|im_start|>assistant\n<think>\n\n</think>\n\n"));
}

TEST_F(FamiliesChat, Qwen3ThinkOnAndOffAsOllama) {
  ASSERT_NE(server_, nullptr);
  const std::string user = "<|im_start|>user\nWhat is the weather in Paris?";
  // think omitted: a model that thinks does (Ollama), and the template asks for it.
  auto on = http_post(server_->url("/api/chat"), ask("syn-qwen3").dump());
  ASSERT_EQ(on.status, 200) << on.body;
  EXPECT_EQ(json::parse(on.body).value("prompt_eval_count", int64_t{0}),
            raw_prompt_tokens(*server_, "syn-qwen3", user + " /think<|im_end|>\n<|im_start|>assistant\n"));

  json off_req = ask("syn-qwen3");
  off_req["think"] = false;
  auto off = http_post(server_->url("/api/chat"), off_req.dump());
  ASSERT_EQ(off.status, 200) << off.body;
  const json off_j = json::parse(off.body);
  EXPECT_EQ(off_j["message"].value("thinking", ""), "") << off.body;
  EXPECT_EQ(off_j.value("prompt_eval_count", int64_t{0}),
            raw_prompt_tokens(*server_, "syn-qwen3",
                              user + " /no_think<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n"));

  // Levels are gpt-oss's: Ollama's 400 for the others, and for a level it does not know.
  json level = ask("syn-qwen3");
  level["think"] = "high";
  auto bad = http_post(server_->url("/api/chat"), level.dump());
  EXPECT_EQ(bad.status, 400) << bad.body;
  EXPECT_EQ(json::parse(bad.body).value("error", ""), "think value \"high\" is not supported for this model");
  level["think"] = "extreme";
  bad = http_post(server_->url("/api/chat"), level.dump());
  EXPECT_EQ(bad.status, 400) << bad.body;
  EXPECT_EQ(json::parse(bad.body).value("error", ""),
            "invalid think value: \"extreme\" (must be \"high\", \"medium\", \"low\", true, or false)");
}

TEST_F(FamiliesChat, ThinkLevelsAreAcceptedForGptOss) {
  ASSERT_NE(server_, nullptr);
  for (const char* level : {"low", "medium", "high"}) {
    json req = ask("syn-gptoss");
    req["think"] = level;
    auto r = http_post(server_->url("/api/chat"), req.dump());
    // Past the capability checks: whatever happens next (the gpt-oss architecture is another
    // change), the level itself is not refused.
    EXPECT_EQ(r.body.find("think value"), std::string::npos) << r.body;
    EXPECT_NE(r.status, 400) << r.body;
  }
}

}  // namespace
}  // namespace corral::testing
