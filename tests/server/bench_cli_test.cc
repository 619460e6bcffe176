// `corral bench` and `corral tune` as a user runs them, against the real server with tiny
// models: a concurrency sweep's JSON, table, SVG and comparison; 503s counted as rejections;
// the loopback guard; a tune run on a small time budget that prints its recommendation and
// the snippets that apply it.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cctype>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <vector>

#include "common/http_client.h"
#include "server/server_process.h"

namespace corral::testing {
namespace {

using json = nlohmann::json;

struct Ran {
  int status = -1;
  std::string out, err;
};

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// Runs `env... corral args` through the shell; stdout and stderr apart.
Ran corral(const std::string& env, const std::string& args) {
  // One file per process and call: ctest runs tests of this binary in parallel processes, and a
  // shared name let one test read another's stderr.
  static int calls = 0;
  const std::string err_path =
      ::testing::TempDir() + "/bench_cli_stderr." + std::to_string(getpid()) + "." + std::to_string(++calls) + ".txt";
  Ran r;
  FILE* p = popen((env + " " + CORRAL_BINARY + " " + args + " 2>" + err_path).c_str(), "r");
  if (!p) return r;
  char buf[4096];
  for (size_t n; (n = fread(buf, 1, sizeof(buf), p)) > 0;) r.out.append(buf, n);
  const int st = pclose(p);
  r.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  r.err = slurp(err_path);
  std::remove(err_path.c_str());
  return r;
}

// Well-formed XML for what an SVG writer produces: balanced elements, quoted attributes, and
// '&' only in entities.
bool well_formed_xml(const std::string& x, std::string* why) {
  std::vector<std::string> stack;
  auto entity_ok = [&](size_t i) {
    for (const char* e : {"&amp;", "&lt;", "&gt;", "&quot;", "&apos;"})
      if (x.compare(i, std::strlen(e), e) == 0) return true;
    return x.compare(i, 2, "&#") == 0;
  };
  for (size_t i = 0; i < x.size();) {
    if (x[i] == '&' && !entity_ok(i)) return *why = "bare & at " + std::to_string(i), false;
    if (x[i] != '<') {
      ++i;
      continue;
    }
    if (x.compare(i, 2, "<?") == 0 || x.compare(i, 4, "<!--") == 0) {
      const size_t end = x.find(x[i + 1] == '?' ? "?>" : "-->", i);
      if (end == std::string::npos) return *why = "unterminated declaration", false;
      i = end + 2;
      continue;
    }
    const bool closing = x[i + 1] == '/';
    size_t j = i + (closing ? 2 : 1);
    const size_t name_start = j;
    while (j < x.size() && (std::isalnum(static_cast<unsigned char>(x[j])) || x[j] == '-' || x[j] == ':')) ++j;
    const std::string name = x.substr(name_start, j - name_start);
    if (name.empty()) return *why = "empty tag name at " + std::to_string(i), false;
    bool self_closing = false;
    for (;;) {  // attributes
      while (j < x.size() && std::isspace(static_cast<unsigned char>(x[j]))) ++j;
      if (j >= x.size()) return *why = "unterminated tag " + name, false;
      if (x[j] == '>') break;
      if (x.compare(j, 2, "/>") == 0) {
        self_closing = true;
        ++j;
        break;
      }
      const size_t a = j;
      while (j < x.size() && x[j] != '=' && !std::isspace(static_cast<unsigned char>(x[j]))) ++j;
      if (j == a || j + 1 >= x.size() || x[j] != '=' || x[j + 1] != '"')
        return *why = "bad attribute in " + name, false;
      const size_t close = x.find('"', j + 2);
      if (close == std::string::npos) return *why = "unterminated attribute in " + name, false;
      for (size_t k = j + 2; k < close; ++k) {
        if (x[k] == '<') return *why = "< in an attribute of " + name, false;
        if (x[k] == '&' && !entity_ok(k)) return *why = "bare & in an attribute of " + name, false;
      }
      j = close + 1;
    }
    if (closing) {
      if (stack.empty() || stack.back() != name) return *why = "mismatched </" + name + ">", false;
      stack.pop_back();
    } else if (!self_closing) {
      stack.push_back(name);
    }
    i = j + 1;
  }
  if (!stack.empty()) return *why = "unclosed <" + stack.back() + ">", false;
  return true;
}

void expect_ordered(const json& s, const std::string& what) {
  ASSERT_TRUE(s.is_object()) << what;
  EXPECT_GT(s["n"].get<int>(), 0) << what;
  EXPECT_GE(s["p50"].get<double>(), 0) << what;
  EXPECT_LE(s["p50"].get<double>(), s["p95"].get<double>()) << what;
  EXPECT_LE(s["p95"].get<double>(), s["p99"].get<double>()) << what;
  EXPECT_LE(s["p99"].get<double>(), s["max"].get<double>()) << what;
}

TEST(BenchCli, SweepOneAndTwoGivesSaneJsonTableAndSvg) {
  auto s = ServerProcess::start(shared_test_store(), {{"OLLAMA_NUM_PARALLEL", "2"}});
  ASSERT_TRUE(s);
  const std::string dir = ::testing::TempDir() + "/bench_cli_sweep";
  std::filesystem::create_directories(dir);
  const std::string host = "--host 127.0.0.1:" + std::to_string(s->port());
  Ran r =
      corral("", "bench " + host + " -m tiny -c 1,2 -n 3 --num-predict 8 --slo-ttft 60s --json --label np2 --save " +
                     dir + "/a.json --plot " + dir + "/a.svg");
  ASSERT_EQ(r.status, 0) << r.out << r.err;
  const json j = json::parse(r.out);
  EXPECT_EQ(j, json::parse(slurp(dir + "/a.json")));
  EXPECT_EQ(j["model"], "tiny");
  EXPECT_EQ(j["label"], "np2");
  ASSERT_EQ(j["levels"].size(), 2u);
  for (int i = 0; i < 2; ++i) {
    const json& l = j["levels"][i];
    EXPECT_EQ(l["concurrency"], i + 1);
    EXPECT_EQ(l["requests"], 3);
    EXPECT_EQ(l["ok"], 3) << l["error_samples"];
    EXPECT_EQ(l["rejected_503"], 0);
    EXPECT_EQ(l["errors"], 0);
    EXPECT_GT(l["requests_per_s"].get<double>(), 0);
    EXPECT_GT(l["output_tokens_per_s"].get<double>(), 0);
    EXPECT_GT(l["mean_prompt_tokens"].get<double>(), 0);
    EXPECT_GT(l["mean_output_tokens"].get<double>(), 0);
    EXPECT_LE(l["mean_output_tokens"].get<double>(), 8);
    EXPECT_EQ(l["slo_met"], 3);
    EXPECT_DOUBLE_EQ(l["goodput_rps"].get<double>(), l["requests_per_s"].get<double>());
    expect_ordered(l["ttft_s"], "ttft");
    expect_ordered(l["e2e_s"], "e2e");
    EXPECT_LE(l["ttft_s"]["max"].get<double>(), l["e2e_s"]["max"].get<double>());
  }
  std::string why;
  const std::string svg = slurp(dir + "/a.svg");
  EXPECT_TRUE(well_formed_xml(svg, &why)) << why << "\n" << svg;
  EXPECT_NE(svg.find("<svg xmlns=\"http://www.w3.org/2000/svg\""), std::string::npos);
  EXPECT_NE(svg.find("<polyline"), std::string::npos);

  // The table for people, and a second run overlaid on the first.
  Ran t = corral("", "bench " + host + " -m tiny -c 1,2 -n 2 --num-predict 4 --label 'np<2>&again' --compare " + dir +
                         "/a.json --plot " + dir + "/b.svg");
  ASSERT_EQ(t.status, 0) << t.out << t.err;
  EXPECT_NE(t.out.find("CONC"), std::string::npos) << t.out;
  EXPECT_NE(t.out.find("OUT TOK/S"), std::string::npos);
  EXPECT_NE(t.out.find("compared with np2"), std::string::npos);
  const std::string svg2 = slurp(dir + "/b.svg");
  EXPECT_TRUE(well_formed_xml(svg2, &why)) << why << "\n" << svg2;
  EXPECT_NE(svg2.find("np&lt;2&gt;&amp;again"), std::string::npos) << "labels are escaped";
  EXPECT_NE(svg2.find(">np2<"), std::string::npos) << "the compared run's legend";
}

size_t count_of(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

// A run saved without --label is named by its file when compared, never "this run": that name
// belongs to the run being measured (two "this run" legends used to appear).
TEST(BenchCli, CompareNamesAnUnlabelledSavedRunByItsFile) {
  auto s = ServerProcess::start(shared_test_store());
  ASSERT_TRUE(s);
  const std::string dir = ::testing::TempDir() + "/bench_cli_unlabelled";
  std::filesystem::create_directories(dir);
  const std::string host = "--host 127.0.0.1:" + std::to_string(s->port());
  const std::string saved = dir + "/first.json";
  Ran a = corral("", "bench " + host + " -m tiny -c 1 -n 1 --num-predict 2 --save " + saved);
  ASSERT_EQ(a.status, 0) << a.out << a.err;
  EXPECT_EQ(json::parse(slurp(saved)).value("label", "?"), "") << "no --label: nothing invented in the file";
  // A file saved by an older build carries the display name "this run": read as unlabelled too.
  json legacy = json::parse(slurp(saved));
  legacy["label"] = "this run";
  const std::string old_saved = dir + "/older.json";
  std::ofstream(old_saved) << legacy.dump();

  Ran b = corral("", "bench " + host + " -m tiny -c 1 -n 1 --num-predict 2 --compare " + saved + " --compare " +
                         old_saved + " --plot " + dir + "/plot.svg");
  ASSERT_EQ(b.status, 0) << b.out << b.err;
  EXPECT_NE(b.out.find("compared with " + saved), std::string::npos) << b.out;
  EXPECT_NE(b.out.find("compared with " + old_saved), std::string::npos) << b.out;
  const std::string svg = slurp(dir + "/plot.svg");
  EXPECT_EQ(count_of(svg, ">this run<"), 1u) << svg;
  EXPECT_EQ(count_of(svg, ">" + saved + "<"), 1u) << svg;
  EXPECT_EQ(count_of(svg, ">" + old_saved + "<"), 1u) << svg;
}

TEST(BenchCli, QueueFullRequestsAreCountedAsRejected) {
  auto s = ServerProcess::start(shared_test_store(), {{"OLLAMA_NUM_PARALLEL", "1"}, {"OLLAMA_MAX_QUEUE", "1"}});
  ASSERT_TRUE(s);
  Ran r = corral("", "bench --host 127.0.0.1:" + std::to_string(s->port()) +
                         " -m stories-ctx -c 6 -n 6 --num-predict 40 --no-stream --json");
  ASSERT_EQ(r.status, 0) << r.out << r.err;
  const json l = json::parse(r.out)["levels"][0];
  EXPECT_GE(l["rejected_503"].get<int>(), 1);
  EXPECT_GE(l["ok"].get<int>(), 1);
  EXPECT_EQ(l["ok"].get<int>() + l["rejected_503"].get<int>(), 6);
  EXPECT_TRUE(l["ttft_s"].is_null()) << "no TTFT without streaming";
}

TEST(BenchCli, OpenAIApiStreamsWithUsage) {
  auto s = ServerProcess::start(shared_test_store());
  ASSERT_TRUE(s);
  Ran r = corral("", "bench --host 127.0.0.1:" + std::to_string(s->port()) +
                         " -m tiny -c 2 -n 2 --num-predict 6 --api openai --json");
  ASSERT_EQ(r.status, 0) << r.out << r.err;
  const json l = json::parse(r.out)["levels"][0];
  EXPECT_EQ(l["ok"], 2) << l["error_samples"];
  EXPECT_GT(l["mean_output_tokens"].get<double>(), 0);
  EXPECT_GT(l["mean_prompt_tokens"].get<double>(), 0);
  expect_ordered(l["ttft_s"], "ttft");
}

TEST(BenchCli, RefusesANonLoopbackTargetUnlessHostIsGiven) {
  Ran r = corral("OLLAMA_HOST=192.0.2.1:11434", "bench -m tiny -c 1 -n 1");
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("refusing to send load to 192.0.2.1"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("--host"), std::string::npos);
  // Loopback from the environment is fine (nothing listens there: a connection error, not a refusal).
  Ran local = corral("OLLAMA_HOST=127.0.0.1:1", "bench -m tiny -c 1 -n 1 --timeout 5s");
  EXPECT_EQ(local.status, 1);
  EXPECT_EQ(local.err.find("refusing"), std::string::npos) << local.err;
  EXPECT_NE(local.err.find("warm-up request failed"), std::string::npos) << local.err;
}

TEST(TuneCli, RecommendsAndPrintsTheSnippetsWithinItsBudget) {
  const std::string dir = ::testing::TempDir() + "/tune_cli";
  std::filesystem::remove_all(dir);
  const auto t0 = std::chrono::steady_clock::now();
  Ran r = corral("OLLAMA_MODELS=" + shared_test_store() + " CORRAL_THREADS=2",
                 "tune -m tiny --profile batch --parallel 1,2 --budget 20s --num-predict 8 --write " + dir);
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  ASSERT_EQ(r.status, 0) << r.out << r.err;
  EXPECT_LT(secs, 60) << "the budget bounds the sweep";
  EXPECT_NE(r.out.find("NUM_PARALLEL"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("recommended for tiny (batch workload)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("[Service]\nEnvironment=\"OLLAMA_NUM_PARALLEL="), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("Environment=\"OLLAMA_MAX_QUEUE=512\""), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("services:\n  ollama:\n    environment:\n      - OLLAMA_NUM_PARALLEL="), std::string::npos);
  EXPECT_NE(r.out.find("PARAMETER num_parallel"), std::string::npos);
  EXPECT_NE(r.out.find("memory:"), std::string::npos);
  EXPECT_EQ(slurp(dir + "/override.conf").rfind("[Service]\n", 0), 0u);
  EXPECT_NE(slurp(dir + "/docker-compose.override.yml").find("OLLAMA_NUM_PARALLEL="), std::string::npos);
  EXPECT_EQ(slurp(dir + "/Modelfile").rfind("FROM tiny\nPARAMETER num_parallel ", 0), 0u);
}

}  // namespace
}  // namespace corral::testing
