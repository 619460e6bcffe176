// Progress rendering: `corral pull` / `corral push` against a stub server that streams Ollama's
// NDJSON status records - plain lines on a pipe, bars on a terminal, the error record as one
// "Error:" line - and the bar layout itself.
#include <gtest/gtest.h>

#include <cstdio>
#include <thread>

#include <nlohmann/json.hpp>

#include "cli/cli_runner.h"
#include "cli/format.h"
#include "cli/progress.h"
#include "server/http/server.h"

namespace corral::testing {
namespace {

using json = nlohmann::json;
const std::string kDigest = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

// Ollama's pull records for one 3 MB layer, in the order its server sends them.
std::vector<json> pull_records() {
  std::vector<json> r{{{"status", "pulling manifest"}}};
  for (int64_t done : {0, 1'000'000, 2'000'000, 3'000'000})
    r.push_back({{"status", "pulling 0123456789ab"}, {"digest", kDigest}, {"total", 3'000'000}, {"completed", done}});
  r.push_back({{"status", "verifying sha256 digest"}});
  r.push_back({{"status", "writing manifest"}});
  r.push_back({{"status", "success"}});
  return r;
}

class StubServer {
 public:
  StubServer() : server_({.host = "127.0.0.1", .port = 0, .io_threads = 1}) {
    auto stream = [](std::vector<json> records, std::chrono::milliseconds gap) {
      return [records, gap](http::Request&&, std::shared_ptr<http::ResponseWriter> w) {
        std::thread([records, gap, w] {
          w->start(200, "application/x-ndjson", {}, true);
          for (const json& r : records) {
            w->write(r.dump() + "\n");
            std::this_thread::sleep_for(gap);
          }
          w->finish();
        }).detach();
      };
    };
    server_.route("POST", "/api/pull", [this, stream](http::Request&& req, std::shared_ptr<http::ResponseWriter> w) {
      auto body = json::parse(req.body);
      if (body.value("model", "") == "missing") {
        stream({{{"status", "pulling manifest"}}, {{"error", "pull model manifest: file does not exist"}}},
               std::chrono::milliseconds(0))(std::move(req), w);
      } else {
        stream(pull_records(), std::chrono::milliseconds(gap_ms_))(std::move(req), w);
      }
    });
    std::vector<json> push{
        {{"status", "retrieving manifest"}},
        {{"status", "pushing 0123456789ab"}, {"digest", kDigest}, {"total", 1000}, {"completed", 1000}},
        {{"status", "pushing manifest"}},
        {{"status", "success"}}};
    server_.route("POST", "/api/push", stream(push, std::chrono::milliseconds(0)));
    EXPECT_TRUE(server_.listen().is_ok());
    thread_ = std::thread([this] { server_.run(); });
  }
  ~StubServer() {
    server_.stop(std::chrono::milliseconds(0));
    thread_.join();
  }
  std::map<std::string, std::string> env() const {
    return {{"OLLAMA_HOST", "127.0.0.1:" + std::to_string(server_.port())}};
  }
  int gap_ms_ = 0;

 private:
  http::Server server_;
  std::thread thread_;
};

TEST(CliProgress, PullOnAPipePrintsPlainLines) {
  StubServer stub;
  auto r = run_corral({"pull", "llama3.2"}, stub.env());
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err,
            "pulling manifest\n"
            "pulling 0123456789ab... 0% (0 B/3 MB)\n"
            "pulling 0123456789ab... 33% (1 MB/3 MB)\n"
            "pulling 0123456789ab... 67% (2 MB/3 MB)\n"
            "pulling 0123456789ab... 100% (3 MB/3 MB)\n"
            "verifying sha256 digest\n"
            "writing manifest\n"
            "success\n");
}

TEST(CliProgress, PullErrorRecordIsOneErrorLine) {
  StubServer stub;
  auto r = run_corral({"pull", "missing"}, stub.env());
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "pulling manifest\nError: pull model manifest: file does not exist\n");
}

TEST(CliProgress, PullOnATerminalDrawsBars) {
  StubServer stub;
  stub.gap_ms_ = 150;  // slow enough for the 100 ms redraws to show the stages
  PtySession s({"pull", "llama3.2"}, stub.env(), 100);
  EXPECT_EQ(s.wait_exit(std::chrono::seconds(20)), 0);
  const std::string& out = s.output();
  EXPECT_NE(out.find("pulling manifest"), std::string::npos) << out;
  EXPECT_NE(out.find("pulling 0123456789ab... 100% ▕"), std::string::npos) << out;
  EXPECT_NE(out.find("████"), std::string::npos);
  EXPECT_NE(out.find("▏   3 MB"), std::string::npos) << out;  // done: the size alone
  EXPECT_NE(out.find("\033[A"), std::string::npos);           // redrawn in place
  EXPECT_NE(out.find("success"), std::string::npos);
}

TEST(CliProgress, PushSaysWhereTheModelWent) {
  StubServer stub;
  auto r = run_corral({"push", "me/mine:v1"}, stub.env());
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("pushing 0123456789ab... 100% (1 KB/1 KB)\n"), std::string::npos) << r.err;
  EXPECT_EQ(r.out, "\nYou can find your model at:\n\n\thttps://ollama.com/me/mine:v1\n");
  auto local = run_corral({"push", "localhost:5000/me/mine"}, stub.env());
  EXPECT_EQ(local.out, "\nYou can find your model at:\n\n\tlocalhost:5000/me/mine:latest\n");
}

// The bar's layout with an 80-column fallback width: message, percent, bar, sizes.
TEST(CliProgress, BarLayout) {
  char* buf = nullptr;
  size_t len = 0;
  FILE* f = open_memstream(&buf, &len);
  {
    cli::Progress p(f, /*terminal=*/true);
    p.bar("k", "pulling 0123456789ab...", 4'700'000'000, 4'700'000'000);
    p.stop();
  }
  std::fclose(f);
  std::string out(buf, len);
  free(buf);
  // The last drawn line: done, so no rate and no time left.
  const auto start = out.rfind("pulling");
  ASSERT_NE(start, std::string::npos) << out;
  std::string line = out.substr(start, out.find("\033[K", start) - start);
  EXPECT_EQ(line.rfind("pulling 0123456789ab... 100% ▕", 0), 0u) << line;
  EXPECT_NE(line.find("█▏ 4.7 GB"), std::string::npos) << line;
  // One column short of the width, as Ollama leaves it, so the terminal never wraps the line.
  EXPECT_EQ(cli::display_width(line), 79u) << line;
}

TEST(CliProgress, EtaLikeOllama) {
  using namespace std::chrono;
  EXPECT_EQ(cli::eta_text(seconds(59)), "59s");
  EXPECT_EQ(cli::eta_text(seconds(61)), "1m1s");
  EXPECT_EQ(cli::eta_text(hours(2) + minutes(5)), "2h5m");
  EXPECT_EQ(cli::eta_text(hours(120)), "99h+");
}

}  // namespace
}  // namespace corral::testing
