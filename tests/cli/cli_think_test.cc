// `corral run` and thinking, as Ollama's CLI: --think[=VALUE] and --hidethinking, /set think
// [level] and /set nothink in the REPL, thinking shown dimmed under "Thinking..." and closed by
// "...done thinking." when the answer starts, plain words on a pipe, the warning and the error
// for a model that cannot think. The "thinker" model's prompt opens a thinking block, so all of
// its (random) output is reasoning; the switch to the answer is checked on the printer itself.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "cli/cli_runner.h"
#include "cli/run_session.h"
#include "common/http_client.h"
#include "server/server_process.h"

namespace corral::testing {
namespace {

constexpr const char* kFaint = "\033[2m";

class CliThink : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    server_ = ServerProcess::start(shared_test_store()).release();
    // Short answers keep the runs fast (the CLI has no num_predict flag); the store is this
    // process's own copy.
    const nlohmann::json models[] = {
        {{"model", "thinker"},
         {"from", "syn-qwen2"},
         {"template", kThinkingTemplate},
         {"parameters", {{"num_predict", 12}}},
         {"stream", false}},
        {{"model", "plain-short"}, {"from", "tiny"}, {"parameters", {{"num_predict", 8}}}, {"stream", false}},
    };
    for (const auto& m : models) {
      auto r = http_post(server_->url("/api/create"), m.dump());
      ASSERT_EQ(r.status, 200) << r.body;
    }
  }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }
  static std::map<std::string, std::string> env() {
    return {{"OLLAMA_HOST", "127.0.0.1:" + std::to_string(server_->port())}};
  }
  static CliResult corral(const std::vector<std::string>& args) { return run_corral(args, env()); }
  static ServerProcess* server_;
};
ServerProcess* CliThink::server_ = nullptr;

TEST_F(CliThink, OneShotOnAPipeShowsThinkingInPlainWords) {
  auto r = corral({"run", "thinker", "Why is the sky blue?"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out.rfind("Thinking...\n", 0), 0u) << r.out;  // thinking is on by default here
  EXPECT_GT(r.out.size(), std::string("Thinking...\n\n\n").size()) << r.out;
  EXPECT_EQ(r.out.find('\033'), std::string::npos) << "no escape codes on a pipe: " << r.out;

  auto hidden = corral({"run", "thinker", "Why is the sky blue?", "--hidethinking"});
  ASSERT_EQ(hidden.exit_code, 0) << hidden.err;
  EXPECT_EQ(hidden.out, "\n\n");  // all of the reply was reasoning

  // --think=false: no thinking block in the prompt, so the output is all answer.
  auto off = corral({"run", "thinker", "Why is the sky blue?", "--think=false"});
  ASSERT_EQ(off.exit_code, 0) << off.err;
  EXPECT_EQ(off.out.find("Thinking..."), std::string::npos) << off.out;
  EXPECT_GT(off.out.size(), 2u);
  auto on = corral({"run", "thinker", "--think", "Why is the sky blue?"});  // a bare flag takes no value
  ASSERT_EQ(on.exit_code, 0) << on.err;
  EXPECT_EQ(on.out.rfind("Thinking...\n", 0), 0u) << on.out;
}

TEST_F(CliThink, BadThinkValuesAndModelsThatCannotThinkFailClearly) {
  auto bad = corral({"run", "thinker", "Hi", "--think=sideways"});
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_EQ(bad.err, "Error: invalid value for --think: \"sideways\" (must be true, false, high, medium, or low)\n");
  auto cannot = corral({"run", "plain-short", "Hi", "--think"});
  EXPECT_EQ(cannot.exit_code, 1);
  EXPECT_EQ(cannot.err, "Error: \"plain-short\" does not support thinking\n");
  auto off = corral({"run", "plain-short", "Hi", "--think=false"});  // always allowed
  EXPECT_EQ(off.exit_code, 0) << off.err;
}

TEST_F(CliThink, ReplShowsThinkingDimmedAndSetThinkSwitchesIt) {
  PtySession s({"run", "thinker"}, env());
  ASSERT_TRUE(s.wait_for(">>> ")) << s.output();
  size_t from = s.output().size();
  s.send("Why is the sky blue?\n");
  ASSERT_TRUE(s.wait_for(">>> ")) << s.output();
  std::string turn = s.output().substr(from);
  EXPECT_NE(turn.find("Thinking..."), std::string::npos) << turn;
  EXPECT_NE(turn.find(kFaint), std::string::npos) << "thinking is dimmed: " << turn;
  EXPECT_NE(turn.find("\033[0m"), std::string::npos) << "and the dimming ends with the reply: " << turn;

  s.send("/set nothink\n");
  EXPECT_TRUE(s.wait_for("Set 'nothink' mode.")) << s.output();
  ASSERT_TRUE(s.wait_for(">>> "));
  from = s.output().size();
  s.send("Why is the sky blue?\n");
  ASSERT_TRUE(s.wait_for(">>> ")) << s.output();
  turn = s.output().substr(from);
  EXPECT_EQ(turn.find("Thinking..."), std::string::npos) << turn;
  EXPECT_EQ(turn.find(kFaint), std::string::npos) << turn;

  s.send("/set think\n");
  EXPECT_TRUE(s.wait_for("Set 'think' mode.")) << s.output();
  ASSERT_TRUE(s.wait_for(">>> "));
  from = s.output().size();
  s.send("Once more\n");
  ASSERT_TRUE(s.wait_for(">>> ")) << s.output();
  EXPECT_NE(s.output().substr(from).find("Thinking..."), std::string::npos) << s.output().substr(from);

  s.send("/set think high\n");
  EXPECT_TRUE(s.wait_for("Set 'think' mode to 'high'.")) << s.output();
  s.send("/? set\n");
  EXPECT_TRUE(s.wait_for("/set nothink           Disable thinking")) << s.output();
  EXPECT_EQ(s.output().find("does not support thinking"), std::string::npos) << s.output();
  s.send("/bye\n");
  EXPECT_EQ(s.wait_exit(), 0) << s.output();
}

TEST_F(CliThink, ReplHideThinkingShowsOnlyTheAnswer) {
  PtySession s({"run", "thinker", "--hidethinking"}, env());
  ASSERT_TRUE(s.wait_for(">>> ")) << s.output();
  const size_t from = s.output().size();
  s.send("Why is the sky blue?\n");
  ASSERT_TRUE(s.wait_for(">>> ")) << s.output();
  const std::string turn = s.output().substr(from);
  EXPECT_EQ(turn.find("Thinking..."), std::string::npos) << turn;
  EXPECT_EQ(turn.find(kFaint), std::string::npos) << turn;
  s.send("/bye\n");
  EXPECT_EQ(s.wait_exit(), 0);
}

TEST_F(CliThink, ReplOnAModelThatCannotThinkWarnsThenReportsTheErrorAndGoesOn) {
  PtySession s({"run", "plain-short"}, env());
  ASSERT_TRUE(s.wait_for(">>> ")) << s.output();
  s.send("/set think\n");
  EXPECT_TRUE(s.wait_for("warning: model \"plain-short\" does not support thinking output")) << s.output();
  EXPECT_TRUE(s.wait_for("Set 'think' mode.")) << s.output();
  s.send("Hello\n");
  EXPECT_TRUE(s.wait_for("error: \"plain-short\" does not support thinking")) << s.output();
  EXPECT_TRUE(s.wait_for(">>> ")) << s.output();  // still running
  s.send("/set nothink\n");
  EXPECT_TRUE(s.wait_for("Set 'nothink' mode.")) << s.output();
  ASSERT_TRUE(s.wait_for(">>> "));
  const size_t from = s.output().size();
  s.send("Hello\n");
  ASSERT_TRUE(s.wait_for(">>> ")) << s.output();
  EXPECT_EQ(s.output().find("error:", from), std::string::npos) << s.output().substr(from);
  s.send("/bye\n");
  EXPECT_EQ(s.wait_exit(), 0) << s.output();
}

// The printer itself: thinking, the switch to the answer, hiding, and plain words.
std::string printed(bool hide, bool plain, const std::vector<std::pair<std::string, std::string>>& records,
                    bool finish = true) {
  ::testing::internal::CaptureStdout();
  cli::ReplyPrinter p(/*word_wrap=*/false, hide, plain);
  for (const auto& [thinking, content] : records) p.print(thinking, content);
  if (finish) p.finish();
  std::fflush(stdout);
  return ::testing::internal::GetCapturedStdout();
}

TEST(ReplyPrinter, ThinkingThenTheAnswerAsOllamaShowsThem) {
  const std::vector<std::pair<std::string, std::string>> reply = {
      {"Rayleigh", ""}, {" scattering.", ""}, {"", "Because"}, {"", " of air."}};
  EXPECT_EQ(printed(false, false, reply),
            "\033[2m\033[1mThinking...\n\033[0m\033[2mRayleigh scattering.\n"
            "\033[2m\033[1m...done thinking.\n\n\033[0mBecause of air.");
  EXPECT_EQ(printed(false, true, reply), "Thinking...\nRayleigh scattering.\n...done thinking.\n\nBecause of air.");
  EXPECT_EQ(printed(true, false, reply), "Because of air.");
  // Thinking that ends its own line gets no extra newline before the closing words.
  EXPECT_EQ(printed(false, true, {{"Hmm.\n", ""}, {"", "Yes."}}), "Thinking...\nHmm.\n...done thinking.\n\nYes.");
  // A reply that is all thinking: the dimming is switched off at the end.
  EXPECT_EQ(printed(false, false, {{"Hmm", ""}}), "\033[2m\033[1mThinking...\n\033[0m\033[2mHmm\033[0m");
  EXPECT_EQ(printed(false, true, {{"Hmm", ""}}), "Thinking...\nHmm");
  // No thinking at all: just the answer.
  EXPECT_EQ(printed(false, false, {{"", "Plain."}}), "Plain.");
}

}  // namespace
}  // namespace corral::testing
