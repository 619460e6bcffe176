// `corral run MODEL` on a terminal: the interactive chat - prompt, streamed replies, """ blocks,
// /set, /show, /clear, unknown commands, Ctrl-C and /bye - driven through a pseudo terminal.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "cli/cli_runner.h"
#include "common/http_client.h"
#include "server/server_process.h"

namespace corral::testing {
namespace {

class CliRepl : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { server_ = ServerProcess::start(shared_test_store()).release(); }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }
  static std::map<std::string, std::string> env() {
    return {{"OLLAMA_HOST", "127.0.0.1:" + std::to_string(server_->port())}};
  }
  static ServerProcess* server_;
};
ServerProcess* CliRepl::server_ = nullptr;

TEST_F(CliRepl, ChatsAndTakesCommands) {
  PtySession s({"run", "stories"}, env());
  ASSERT_TRUE(s.wait_for(">>> ")) << s.output();
  s.send("/set parameter num_predict 8\n");
  EXPECT_TRUE(s.wait_for("Set parameter 'num_predict' to '8'")) << s.output();
  s.send("/set parameter temperature hot\n");
  EXPECT_TRUE(s.wait_for("Couldn't set parameter: \"invalid float value [hot]\"")) << s.output();
  s.send("/set verbose\n");
  EXPECT_TRUE(s.wait_for("Set 'verbose' mode."));
  s.send("Once upon a time\n");
  EXPECT_TRUE(s.wait_for("eval rate:")) << s.output();  // a reply streamed, then the timings
  EXPECT_TRUE(s.wait_for(">>> "));
  s.send("\"\"\"\nThe little dog\nran home\n\"\"\"\n");
  EXPECT_TRUE(s.wait_for("... ")) << s.output();  // the continuation prompt
  EXPECT_TRUE(s.wait_for("eval rate:")) << s.output();
  s.send("/show info\n");
  EXPECT_TRUE(s.wait_for("architecture        llama")) << s.output();
  s.send("/show parameters\n");
  EXPECT_TRUE(s.wait_for("User defined parameters:")) << s.output();
  EXPECT_TRUE(s.wait_for("num_predict                    8")) << s.output();
  s.send("/set system You are terse.\n");
  EXPECT_TRUE(s.wait_for("Set system message."));
  s.send("/show system\n");
  EXPECT_TRUE(s.wait_for("You are terse."));
  s.send("/clear\n");
  EXPECT_TRUE(s.wait_for("Cleared session context"));
  s.send("/frobnicate\n");
  EXPECT_TRUE(s.wait_for("Unknown command '/frobnicate'. Type /? for help"));
  s.send("/?\n");
  EXPECT_TRUE(s.wait_for("Use \"\"\" to begin a multi-line message."));
  s.send("/bye\n");
  EXPECT_EQ(s.wait_exit(), 0) << s.output();
}

TEST_F(CliRepl, CtrlCAtThePromptAndCtrlDToLeave) {
  PtySession s({"run", "tiny"}, env());
  ASSERT_TRUE(s.wait_for(">>> ")) << s.output();
  s.interrupt();
  EXPECT_TRUE(s.wait_for("Use Ctrl + d or /bye to exit.")) << s.output();
  EXPECT_TRUE(s.wait_for(">>> "));
  s.send("\x04");  // Ctrl-D on an empty line: end of input
  EXPECT_EQ(s.wait_exit(), 0) << s.output();
}

TEST_F(CliRepl, SaveAndLoad) {
  // The store is this test process's own copy, so /save may write to it.
  PtySession s({"run", "tiny"}, env());
  ASSERT_TRUE(s.wait_for(">>> "));
  s.send("/set system Be kind.\n");
  EXPECT_TRUE(s.wait_for("Set system message."));
  s.send("/set parameter top_k 7\n");
  EXPECT_TRUE(s.wait_for("Set parameter 'top_k' to '7'"));
  s.send("/save tiny-kind\n");
  EXPECT_TRUE(s.wait_for("Created new model 'tiny-kind'")) << s.output();
  auto saved = nlohmann::json::parse(http_post(server_->url("/api/show"), R"({"model":"tiny-kind"})").body);
  EXPECT_EQ(saved.value("system", ""), "Be kind.");
  EXPECT_NE(saved.value("parameters", "").find("top_k"), std::string::npos) << saved.dump();
  s.send("/save bad/name/too/many/parts\n");
  EXPECT_TRUE(s.wait_for("error: ")) << s.output();
  s.send("/load no-such-model\n");
  EXPECT_TRUE(s.wait_for("Couldn't find model 'no-such-model'")) << s.output();
  s.send("/load tiny-kind\n");
  EXPECT_TRUE(s.wait_for("Loading model 'tiny-kind'")) << s.output();
  EXPECT_TRUE(s.wait_for(">>> "));
  s.send("/bye\n");
  EXPECT_EQ(s.wait_exit(), 0);
}

}  // namespace
}  // namespace corral::testing
