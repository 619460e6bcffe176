// The official JavaScript clients (installed by scripts/setup into tests/js/node_modules)
// against the real server.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>

#include "server/server_process.h"

namespace corral::testing {
namespace {

// Runs `node <script> <url>` and returns (exit status, output).
std::pair<int, std::string> run_node(const std::string& script, const std::string& url) {
  const std::string dir = std::string(CORRAL_SOURCE_DIR) + "/tests/js";
  const std::string cmd = "cd '" + dir + "' && node '" + script + "' '" + url + "' 2>&1";
  std::string out;
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return {-1, "popen failed"};
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), p)) > 0) out.append(buf, n);
  const int status = pclose(p);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

TEST(JsClients, OfficialOllamaClient) {
  ASSERT_TRUE(std::filesystem::exists(std::string(CORRAL_SOURCE_DIR) + "/tests/js/node_modules/ollama"))
      << "run scripts/setup to install the JS clients";
  auto s = ServerProcess::start(shared_test_store());
  ASSERT_TRUE(s);
  auto [status, out] = run_node("ollama_client.mjs", s->url(""));
  EXPECT_EQ(status, 0) << out;
  EXPECT_NE(out.find("ollama client: ok"), std::string::npos) << out;
}

TEST(JsClients, OfficialOpenAiClient) {
  ASSERT_TRUE(std::filesystem::exists(std::string(CORRAL_SOURCE_DIR) + "/tests/js/node_modules/openai"))
      << "run scripts/setup to install the JS clients";
  auto s = ServerProcess::start(shared_test_store());
  ASSERT_TRUE(s);
  auto [status, out] = run_node("openai_client.mjs", s->url(""));
  EXPECT_EQ(status, 0) << out;
  EXPECT_NE(out.find("openai client: ok"), std::string::npos) << out;
}

// /v1/responses through the official openai client and the AI SDK's default OpenAI model.
TEST(JsClients, ResponsesApiClients) {
  ASSERT_TRUE(std::filesystem::exists(std::string(CORRAL_SOURCE_DIR) + "/tests/js/node_modules/@ai-sdk/openai"))
      << "run scripts/setup to install the JS clients";
  auto s = ServerProcess::start(shared_test_store());
  ASSERT_TRUE(s);
  auto [status, out] = run_node("responses_client.mjs", s->url(""));
  EXPECT_EQ(status, 0) << out;
  EXPECT_NE(out.find("responses clients: ok"), std::string::npos) << out;
}

// /v1/messages through the official Anthropic SDK.
TEST(JsClients, OfficialAnthropicClient) {
  ASSERT_TRUE(std::filesystem::exists(std::string(CORRAL_SOURCE_DIR) + "/tests/js/node_modules/@anthropic-ai/sdk"))
      << "run scripts/setup to install the JS clients";
  auto s = ServerProcess::start(shared_test_store());
  ASSERT_TRUE(s);
  auto [status, out] = run_node("anthropic_client.mjs", s->url(""));
  EXPECT_EQ(status, 0) << out;
  EXPECT_NE(out.find("anthropic client: ok"), std::string::npos) << out;
}

// The agent clients (tests/js/agent_tools.mjs holds their tools and argument checks): tool
// calls forced by tool_choice on the random-weight tiny-tools model, tool results going back,
// structured output through function calling, thinking refused on a model that cannot think.
void run_agent_script(const std::string& script, const std::string& ok_line) {
  ASSERT_TRUE(std::filesystem::exists(std::string(CORRAL_SOURCE_DIR) + "/tests/js/node_modules/ai-sdk-ollama"))
      << "run scripts/setup to install the JS clients";
  auto s = ServerProcess::start(shared_test_store());
  ASSERT_TRUE(s);
  auto [status, out] = run_node(script, s->url(""));
  EXPECT_EQ(status, 0) << out << "\nserver log:\n" << s->log();
  EXPECT_NE(out.find(ok_line), std::string::npos) << out;
}

TEST(JsClients, OllamaClientToolCallsAndThink) { run_agent_script("ollama_tools.mjs", "ollama tools: ok"); }

TEST(JsClients, OpenAiClientToolCalls) { run_agent_script("openai_tools.mjs", "openai tools: ok"); }

TEST(JsClients, LangChainOllamaAndOpenAi) { run_agent_script("langchain.mjs", "langchain: ok"); }

TEST(JsClients, VercelAiSdkWithOllamaProvider) { run_agent_script("ai_sdk.mjs", "ai sdk: ok"); }

}  // namespace
}  // namespace corral::testing
