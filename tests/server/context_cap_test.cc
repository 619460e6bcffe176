// Each model's context is capped at its trained length (<arch>.context_length), as Ollama caps
// num_ctx at n_ctx_train: OLLAMA_CONTEXT_LENGTH, a Modelfile's num_ctx or a request's num_ctx
// above it is lowered with a log line, and /api/ps shows the context actually served.
// "stories" (stories260K) was trained with llama.context_length 128, "stories-ctx" with 512.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "common/http_client.h"
#include "server/server_process.h"

namespace corral::testing {
namespace {

using json = nlohmann::json;

int64_t ps_context_length(ServerProcess& s, const std::string& name) {
  auto ps = json::parse(http_get(s.url("/api/ps")).body);
  for (const auto& m : ps["models"])
    if (m["name"] == name) return m.value("context_length", int64_t{-1});
  return -1;
}

json generate(ServerProcess& s, const json& body) {
  auto r = http_post(s.url("/api/generate"), body.dump());
  EXPECT_EQ(r.status, 200) << r.body;
  return r.status == 200 ? json::parse(r.body) : json{};
}

TEST(ContextCap, ServerDefaultAboveTheTrainedLengthIsLowered) {
  auto s = ServerProcess::start(shared_test_store(), {{"OLLAMA_CONTEXT_LENGTH", "8192"}});
  ASSERT_TRUE(s);
  const json r = generate(*s, {{"model", "stories"},
                               {"prompt", "Once upon a time"},
                               {"stream", false},
                               {"options", {{"temperature", 0}, {"num_predict", 1000}}}});
  // The context ends at 128 positions: prompt and output fit in it.
  EXPECT_LE(r.value("prompt_eval_count", 0) + r.value("eval_count", 0), 128) << r.dump();
  EXPECT_EQ(ps_context_length(*s, "stories:latest"), 128);
  EXPECT_NE(s->log().find("requested context size too large for model: num_ctx 8192 lowered to n_ctx_train 128"),
            std::string::npos)
      << s->log();
  // A model trained longer than the server default keeps the default.
  generate(*s, {{"model", "stories-ctx"}, {"prompt", "Once"}, {"stream", false}, {"options", {{"num_predict", 1}}}});
  EXPECT_EQ(ps_context_length(*s, "stories-ctx:latest"), 512);
}

TEST(ContextCap, ARequestAskingForMoreThanTheTrainedLengthIsLowered) {
  auto s = ServerProcess::start(shared_test_store(), {{"OLLAMA_CONTEXT_LENGTH", "64"}});
  ASSERT_TRUE(s);
  // Below the trained length the server default stands.
  generate(*s, {{"model", "stories"}, {"prompt", "Once"}, {"stream", false}, {"options", {{"num_predict", 1}}}});
  EXPECT_EQ(ps_context_length(*s, "stories:latest"), 64);
  EXPECT_EQ(s->log().find("requested context size too large"), std::string::npos);
  // A request's num_ctx above the trained length is lowered (and logged); the runner's own
  // context (64) still bounds it.
  const json r = generate(*s, {{"model", "stories"},
                               {"prompt", "Once upon a time"},
                               {"stream", false},
                               {"options", {{"temperature", 0}, {"num_predict", 1000}, {"num_ctx", 100000}}}});
  EXPECT_LE(r.value("prompt_eval_count", 0) + r.value("eval_count", 0), 64) << r.dump();
  EXPECT_NE(s->log().find("requested context size too large for model: num_ctx 100000 lowered to n_ctx_train 128"),
            std::string::npos)
      << s->log();
  EXPECT_EQ(ps_context_length(*s, "stories:latest"), 64);
}

}  // namespace
}  // namespace corral::testing
