// The client commands against a real server over the shared test store: the not-running
// message, --version, list/ls, show, run (prompt and piped), ps and stop - their output formats
// and exit codes, as `ollama` prints them.
#include <gtest/gtest.h>

#include <regex>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "cli/cli_runner.h"
#include "common/http_client.h"
#include "server/server_process.h"

namespace corral::testing {
namespace {

std::vector<std::string> lines_of(const std::string& s) {
  std::vector<std::string> out;
  std::istringstream in(s);
  for (std::string l; std::getline(in, l);) out.push_back(l);
  return out;
}

class CliCommands : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    server_ = ServerProcess::start(shared_test_store()).release();
    // Short answers keep the run tests fast: the CLI itself has no num_predict flag (Ollama's
    // has none either), so the models carry it. The store is this process's own copy.
    for (const auto& [name, from] : {std::pair{"short", "stories-ctx"}, std::pair{"tiny-short", "tiny"}}) {
      auto r = http_post(
          server_->url("/api/create"),
          nlohmann::json{{"model", name}, {"from", from}, {"parameters", {{"num_predict", 12}}}, {"stream", false}}
              .dump());
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
  static CliResult corral(const std::vector<std::string>& args,
                          const std::optional<std::string>& input = std::nullopt) {
    return run_corral(args, env(), input);
  }
  static ServerProcess* server_;
};
ServerProcess* CliCommands::server_ = nullptr;

TEST(CliNoServer, SaysTheServerIsNotRunning) {
  // Port 9 (discard) on loopback: nothing listens there in a test environment.
  for (const auto& args :
       std::vector<std::vector<std::string>>{{"list"}, {"ps"}, {"show", "x"}, {"run", "x", "hi"}, {"rm", "x"}}) {
    auto r = run_corral(args, {{"OLLAMA_HOST", "127.0.0.1:9"}});
    EXPECT_EQ(r.exit_code, 1) << args[0];
    EXPECT_EQ(r.err, "Error: could not connect to corral server, is it running?\n") << args[0];
    EXPECT_EQ(r.out, "") << args[0];
  }
}

TEST(CliNoServer, VersionWithoutAServer) {
  auto r = run_corral({"--version"}, {{"OLLAMA_HOST", "127.0.0.1:9"}});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.out, "Warning: could not connect to a running corral instance\nWarning: client version is " +
                       std::string(CORRAL_TEST_VERSION) + "\n");
}

TEST(CliNoServer, BadOllamaHostIsOneLine) {
  auto r = run_corral({"list"}, {{"OLLAMA_HOST", "ftp://x"}});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err.rfind("Error: OLLAMA_HOST", 0), 0u) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1);
}

TEST_F(CliCommands, VersionReportsTheServer) {
  auto r = corral({"-v"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.out, "corral version is " + std::string(CORRAL_TEST_VERSION) + "\n");
}

TEST_F(CliCommands, ListIsOllamasTable) {
  auto r = corral({"list"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto lines = lines_of(r.out);
  ASSERT_GE(lines.size(), 6u) << r.out;
  const std::string& h = lines[0];
  ASSERT_EQ(h.rfind("NAME ", 0), 0u) << h;
  const size_t id = h.find("ID "), size = h.find("SIZE "), modified = h.find("MODIFIED");
  ASSERT_NE(id, std::string::npos);
  ASSERT_NE(modified, std::string::npos);
  EXPECT_EQ(h.substr(h.size() - 4), "    ");  // tablewriter pads after the last column too
  bool saw_stories = false;
  for (size_t i = 1; i < lines.size(); ++i) {
    const std::string& l = lines[i];
    ASSERT_GE(l.size(), modified) << l;
    EXPECT_EQ(l[id - 1], ' ');
    EXPECT_TRUE(std::regex_match(l.substr(id, 12), std::regex("[0-9a-f]{12}"))) << l;
    const std::string sz = l.substr(size, modified - size);
    EXPECT_TRUE(std::regex_match(sz, std::regex(R"(\d+(\.\d)? (B|KB|MB|GB) +)"))) << sz;
    const std::string when = l.substr(modified);
    EXPECT_TRUE(
        std::regex_search(when, std::regex(R"(^(Less than a second|\d+ seconds?|About a minute|\d+ minutes) ago +$)")))
        << when;
    saw_stories = saw_stories || l.rfind("stories:latest ", 0) == 0;
  }
  EXPECT_TRUE(saw_stories) << r.out;

  auto ls = corral({"ls", "TINY"});  // prefix, case-insensitive as Ollama's
  ASSERT_EQ(ls.exit_code, 0);
  auto rows = lines_of(ls.out);
  ASSERT_EQ(rows.size(), 5u) << ls.out;  // tiny, tiny-q8, tiny-tools and this suite's tiny-short
  for (size_t i = 1; i < rows.size(); ++i) EXPECT_EQ(rows[i].rfind("tiny", 0), 0u) << rows[i];
}

TEST_F(CliCommands, ShowPrintsOllamasInfoBlock) {
  auto r = corral({"show", "stories"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto lines = lines_of(r.out);
  ASSERT_GE(lines.size(), 7u) << r.out;
  EXPECT_EQ(lines[0], "  Model");
  EXPECT_EQ(lines[1].rfind("    architecture        llama", 0), 0u) << lines[1];
  EXPECT_TRUE(std::regex_search(r.out, std::regex(R"(\n    parameters          \d+(\.\d+)?[KMB]? *\n)"))) << r.out;
  EXPECT_NE(r.out.find("\n    context length      "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\n    embedding length    "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\n    quantization        "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\n  Capabilities\n    completion"), std::string::npos) << r.out;

  // --modelfile prints exactly what /api/show returns, plus a newline.
  auto api = nlohmann::json::parse(http_post(server_->url("/api/show"), R"({"model":"stories"})").body);
  auto mf = corral({"show", "stories", "--modelfile"});
  EXPECT_EQ(mf.exit_code, 0);
  EXPECT_EQ(mf.out, api["modelfile"].get<std::string>() + "\n");
  auto tmpl = corral({"show", "stories", "--template"});
  EXPECT_EQ(tmpl.out, api["template"].get<std::string>());

  auto both = corral({"show", "stories", "--template", "--system"});
  EXPECT_EQ(both.exit_code, 1);
  EXPECT_EQ(
      both.err,
      "Error: only one of '--license', '--modelfile', '--parameters', '--system', or '--template' can be specified\n");
  auto missing = corral({"show", "no-such-model"});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_EQ(missing.err.rfind("Error: ", 0), 0u);
  EXPECT_NE(missing.err.find("not found"), std::string::npos) << missing.err;
}

TEST_F(CliCommands, RunWithAPromptAnswersOnce) {
  auto r = corral({"run", "short", "Once upon a time", "--verbose"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  ASSERT_GT(r.out.size(), 2u);
  EXPECT_EQ(r.out.substr(r.out.size() - 2), "\n\n");  // Ollama ends a one-shot answer so
  for (const char* line :
       {"total duration:       ", "load duration:        ", "prompt eval count:    ", "prompt eval rate:     ",
        "eval count:           ", "eval duration:        ", "eval rate:            "})
    EXPECT_NE(r.err.find(line), std::string::npos) << line << " in\n" << r.err;
  EXPECT_TRUE(std::regex_search(r.err, std::regex(R"(eval rate:            \d+\.\d\d tokens/s)"))) << r.err;
}

TEST_F(CliCommands, RunWithPipedInput) {
  auto r = corral({"run", "tiny-short", "--keepalive", "1m"}, std::string("The cat sat"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_GT(r.out.size(), 2u);
  EXPECT_EQ(r.err, "");  // no spinner or timings on a pipe
  auto bad = corral({"run", "tiny-short", "hi", "--keepalive", "soon"});
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_EQ(bad.err.rfind("Error: ", 0), 0u);
}

TEST_F(CliCommands, PsShowsLoadedModelsAndStopUnloadsThem) {
  ASSERT_EQ(corral({"run", "short", "Hello", "--keepalive", "10m"}).exit_code, 0);
  auto r = corral({"ps"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto lines = lines_of(r.out);
  ASSERT_GE(lines.size(), 2u) << r.out;
  EXPECT_TRUE(std::regex_search(lines[0], std::regex("^NAME +ID +SIZE +PROCESSOR +CONTEXT +UNTIL +SLOTS +QUEUE +$")))
      << lines[0];
  std::string row;
  for (const auto& l : lines)
    if (l.rfind("short:latest ", 0) == 0) row = l;
  ASSERT_FALSE(row.empty()) << r.out;
  EXPECT_NE(row.find("100% CPU"), std::string::npos) << row;
  EXPECT_TRUE(std::regex_search(row, std::regex(R"(\b(9|10) minutes from now\b)"))) << row;
  EXPECT_TRUE(std::regex_search(row, std::regex(R"( \d+/\d+ +\d+ +$)"))) << row;  // SLOTS, QUEUE

  auto stop = corral({"stop", "short"});
  EXPECT_EQ(stop.exit_code, 0) << stop.err;
  EXPECT_EQ(stop.out, "");
  bool gone = false;
  for (int i = 0; i < 50 && !gone; ++i) {
    gone = corral({"ps"}).out.find("short:latest") == std::string::npos;
    if (!gone) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_TRUE(gone);
  auto unknown = corral({"stop", "no-such-model"});
  EXPECT_EQ(unknown.exit_code, 1);
  EXPECT_EQ(unknown.err, "Error: couldn't find model \"no-such-model\" to stop\n");
}

TEST_F(CliCommands, PsWatchRefreshesUntilInterrupted) {
  PtySession s({"ps", "--watch", "0.2"}, env());
  EXPECT_TRUE(s.wait_for("Every 0.2s: corral ps"));
  EXPECT_TRUE(s.wait_for("Every 0.2s: corral ps"));  // a second frame
  s.interrupt();
  EXPECT_EQ(s.wait_exit(), 0);
}

TEST_F(CliCommands, HelpListsTheCommands) {
  auto r = corral({"help"});
  EXPECT_EQ(r.exit_code, 0);
  for (const char* c : {"serve", "run", "pull", "push", "list", "ps", "show", "stop", "rm", "cp", "create"})
    EXPECT_NE(r.out.find(std::string("  ") + c), std::string::npos) << c;
  auto run = corral({"help", "run"});
  EXPECT_NE(run.out.find("--keepalive"), std::string::npos) << run.out;
}

}  // namespace
}  // namespace corral::testing
