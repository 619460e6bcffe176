// /api/chat with each model family beyond llama/qwen2 (random-weight synthetic models): the
// server loads the architecture, picks the family's built-in chat template from the GGUF's
// Jinja tokenizer.chat_template, and answers.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "common/http_client.h"
#include "common/test_data.h"
#include "server/server_process.h"
#include "store/create.h"
#include "store/modelfile.h"
#include "store/store.h"

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
};

class FamiliesChat : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new std::string(std::filesystem::temp_directory_path() / ("corral-families-" + std::to_string(getpid())));
    std::filesystem::remove_all(*dir_);
    std::filesystem::create_directories(*dir_);
    store::Store s(*dir_);
    for (const Family& f : kFamilies) {
      auto mf = store::parse_modelfile("FROM " + test_data_path(f.file) + "\n");
      ASSERT_TRUE(mf.is_ok()) << mf.error();
      auto r = store::create_model(s, f.name, *mf, fixture_create_options());
      ASSERT_TRUE(r.is_ok()) << f.name << ": " << r.error();
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

}  // namespace
}  // namespace corral::testing
