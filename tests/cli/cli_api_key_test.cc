// The CLI against a server that requires API keys (CORRAL_API_KEYS): CORRAL_API_KEY is sent as
// a bearer token; without it, or with a wrong one, the error says what to set.
#include <gtest/gtest.h>

#include "cli/cli_runner.h"
#include "server/server_process.h"

namespace corral::testing {
namespace {

TEST(CliApiKey, ListWorksWithTheKeyAndFailsClearlyWithout) {
  auto s = ServerProcess::start(shared_test_store(), {{"CORRAL_API_KEYS", "sk-cli-test"}});
  ASSERT_TRUE(s);
  const std::string host = "127.0.0.1:" + std::to_string(s->port());

  auto with_key = run_corral({"list"}, {{"OLLAMA_HOST", host}, {"CORRAL_API_KEY", "sk-cli-test"}});
  EXPECT_EQ(with_key.exit_code, 0) << with_key.err;
  EXPECT_NE(with_key.out.find("stories:latest"), std::string::npos) << with_key.out;

  auto without = run_corral({"list"}, {{"OLLAMA_HOST", host}, {"CORRAL_API_KEY", ""}});
  EXPECT_EQ(without.exit_code, 1);
  EXPECT_EQ(without.out, "");
  EXPECT_NE(without.err.find("Error: missing API key"), std::string::npos) << without.err;
  EXPECT_NE(without.err.find("set CORRAL_API_KEY"), std::string::npos) << without.err;

  auto wrong = run_corral({"list"}, {{"OLLAMA_HOST", host}, {"CORRAL_API_KEY", "sk-nope"}});
  EXPECT_EQ(wrong.exit_code, 1);
  EXPECT_EQ(wrong.err, "Error: invalid API key (CORRAL_API_KEY is not one of the server's keys)\n");

  // `corral --version` asks /api/version, which needs no key.
  auto version = run_corral({"--version"}, {{"OLLAMA_HOST", host}, {"CORRAL_API_KEY", ""}});
  EXPECT_EQ(version.exit_code, 0) << version.err;
  EXPECT_EQ(version.out, "corral version is " + std::string(CORRAL_TEST_VERSION) + "\n");
}

}  // namespace
}  // namespace corral::testing
