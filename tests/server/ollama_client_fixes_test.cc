// Ollama API details real clients tripped over (issue 12, "Fixes found while testing
// clients"), against the real server: keep-alive forever, /api/embed dimensions, /api/show's
// model_info / tensors / capabilities, /api/tags and /api/ps entries, not-found wording, and
// providers' top-level max_tokens.
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <nlohmann/json.hpp>
#include <string>

#include "common/http_client.h"
#include "server/server_process.h"

namespace corral::testing {
namespace {

using json = nlohmann::json;

class OllamaClientFixes : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { server_ = ServerProcess::start(shared_test_store()).release(); }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }
  static std::string url(const std::string& p) { return server_->url(p); }
  static json post_json(const std::string& path, const std::string& body, int want_status = 200) {
    auto r = http_post(url(path), body);
    EXPECT_EQ(r.status, want_status) << path << " " << body << " -> " << r.body;
    return json::parse(r.body, nullptr, false);
  }
  static json ps_entry(const std::string& name) {
    auto ps = json::parse(http_get(url("/api/ps")).body);
    for (const auto& m : ps["models"])
      if (m["name"] == name) return m;
    return nullptr;
  }
  // Runs the corral CLI against this server; returns its stdout and stderr.
  static std::string corral(const std::string& args) {
    const std::string cmd = "OLLAMA_HOST=127.0.0.1:" + std::to_string(server_->port()) + " " +
                            std::string(CORRAL_BINARY) + " " + args + " 2>&1";
    std::string out;
    FILE* p = popen(cmd.c_str(), "r");
    if (!p) return out;
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof(buf), p)) > 0) out.append(buf, n);
    pclose(p);
    return out;
  }
  static ServerProcess* server_;
};
ServerProcess* OllamaClientFixes::server_ = nullptr;

int current_year() {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  return tm.tm_year + 1900;
}

// "YYYY-MM-DDTHH:MM:SS[.frac]Z" as Go's time.Time marshals (what ollama-js hands to Date).
bool is_rfc3339(const std::string& s) {
  if (s.size() < 20 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':') return false;
  return s.back() == 'Z';
}

TEST_F(OllamaClientFixes, NegativeKeepAliveIsForeverAsOllamaShowsIt) {
  ASSERT_NE(server_, nullptr);
  // Every negative form Ollama's api.Duration reads as forever: a number, and Go durations.
  for (const char* keep_alive : {"-1", R"("-1s")", R"("-1m")"}) {
    post_json("/api/generate", std::string(R"({"model":"random","keep_alive":)") + keep_alive + "}");
    const json m = ps_entry("random:latest");
    ASSERT_FALSE(m.is_null()) << keep_alive;
    const std::string expires = m["expires_at"];
    EXPECT_TRUE(is_rfc3339(expires)) << expires;
    // Ollama: time.Now().Add(math.MaxInt64), 292 years ahead (it printed year 1732 before).
    const int year = std::stoi(expires.substr(0, 4));
    EXPECT_GE(year, current_year() + 292) << expires;
    EXPECT_LE(year, current_year() + 293) << expires;
  }
  // `corral ps` prints Ollama's "Forever" in the UNTIL column, not "Stopping..." or a date.
  const std::string table = corral("ps random");
  EXPECT_NE(table.find("Forever"), std::string::npos) << table;
  EXPECT_EQ(table.find("Stopping"), std::string::npos) << table;
  // A finite keep-alive is back to minutes from now.
  post_json("/api/generate", R"({"model":"random","keep_alive":"5m"})");
  const std::string expires = ps_entry("random:latest")["expires_at"];
  EXPECT_LE(std::stoi(expires.substr(0, 4)), current_year() + 1) << expires;
  EXPECT_NE(corral("ps random").find("from now"), std::string::npos);
  post_json("/api/generate", R"({"model":"random","keep_alive":0})");
}

TEST_F(OllamaClientFixes, EmbedDimensionsTruncatesAndRenormalizes) {
  const json full = post_json("/api/embed", R"({"model":"tiny","input":["hello","world"]})");
  const json cut = post_json("/api/embed", R"({"model":"tiny","input":["hello","world"],"dimensions":16})");
  ASSERT_EQ(full["embeddings"].size(), 2u);
  ASSERT_EQ(cut["embeddings"].size(), 2u);
  for (size_t i = 0; i < 2; ++i) {
    const auto& f = full["embeddings"][i];
    const auto& c = cut["embeddings"][i];
    ASSERT_EQ(c.size(), 16u);
    // The first 16 values of the full vector, scaled back to unit length.
    double prefix_norm = 0, norm = 0;
    for (size_t k = 0; k < 16; ++k) prefix_norm += f[k].get<double>() * f[k].get<double>();
    prefix_norm = std::sqrt(prefix_norm);
    for (size_t k = 0; k < 16; ++k) {
      EXPECT_NEAR(c[k].get<double>(), f[k].get<double>() / prefix_norm, 1e-4) << k;
      norm += c[k].get<double>() * c[k].get<double>();
    }
    EXPECT_NEAR(norm, 1.0, 1e-4);
  }
  // 0 and a size the vector already fits leave it whole, as in Ollama.
  for (const char* dims : {"0", "128", "4096"})
    EXPECT_EQ(post_json("/api/embed",
                        std::string(R"({"model":"tiny","input":"hello","dimensions":)") + dims + "}")["embeddings"][0]
                  .size(),
              128u)
        << dims;
  // Wrong types and negative values are refused.
  for (const char* dims : {"-1", "\"16\"", "1.5"})
    EXPECT_TRUE(post_json("/api/embed", std::string(R"({"model":"tiny","input":"x","dimensions":)") + dims + "}", 400)
                    .contains("error"))
        << dims;
}

TEST_F(OllamaClientFixes, ShowModelInfoAndCapabilitiesAsOllama) {
  const json j = post_json("/api/show", R"({"model":"tiny"})");
  const json& info = j["model_info"];
  EXPECT_FALSE(info.contains("general.name")) << "Ollama's GetModelInfo drops general.name";
  EXPECT_FALSE(info.contains("tokenizer.chat_template"));
  EXPECT_EQ(info["general.architecture"], "llama");
  for (auto it = info.begin(); it != info.end(); ++it) EXPECT_FALSE(it->is_null()) << it.key() << " is null";
  EXPECT_EQ(j["capabilities"], json::array({"completion"})) << j["capabilities"];
  EXPECT_FALSE(j.contains("tensors")) << "tensors only when verbose";

  // verbose: every GGUF array in full, and the tensors with name, type and shape.
  const json v = post_json("/api/show", R"({"model":"tiny","verbose":true})");
  ASSERT_TRUE(v["model_info"]["tokenizer.ggml.tokens"].is_array());
  EXPECT_GT(v["model_info"]["tokenizer.ggml.tokens"].size(), 0u);
  ASSERT_TRUE(v["tensors"].is_array());
  ASSERT_FALSE(v["tensors"].empty());
  bool saw_embedding = false;
  for (const auto& t : v["tensors"]) {
    ASSERT_TRUE(t["name"].is_string());
    ASSERT_TRUE(t["type"].is_string());
    ASSERT_TRUE(t["shape"].is_array());
    if (t["name"] == "token_embd.weight") {
      saw_embedding = true;
      EXPECT_EQ(t["type"], "F32");  // Ollama's capitalised ggml type name
      ASSERT_EQ(t["shape"].size(), 2u);
      EXPECT_EQ(t["shape"][0], 128);  // GGUF order: the embedding length first
    }
  }
  EXPECT_TRUE(saw_embedding) << v["tensors"].dump().substr(0, 400);

  // A Qwen-style template (tools and <think> around .Thinking in the template) adds tools and
  // thinking, in Ollama's order.
  const json q = post_json("/api/show", R"({"model":"syn-qwen2"})");
  ASSERT_TRUE(q["capabilities"].is_array());
  EXPECT_EQ(q["capabilities"][0], "completion") << q["capabilities"];
}

TEST_F(OllamaClientFixes, TagsAndPsCarryCapabilitiesAndLengths) {
  const json tags = json::parse(http_get(url("/api/tags")).body);
  bool saw_tiny = false;
  for (const auto& m : tags["models"]) {
    ASSERT_TRUE(m["capabilities"].is_array()) << m.dump();
    ASSERT_TRUE(m["details"]["families"].is_array()) << m.dump();
    if (m["name"] != "tiny:latest") continue;
    saw_tiny = true;
    EXPECT_EQ(m["capabilities"], json::array({"completion"}));
    EXPECT_EQ(m["details"]["embedding_length"], 128);
    EXPECT_GT(m["details"]["context_length"].get<int64_t>(), 0);
  }
  EXPECT_TRUE(saw_tiny);

  post_json("/api/generate", R"({"model":"tiny"})");
  const json m = ps_entry("tiny:latest");
  ASSERT_FALSE(m.is_null());
  EXPECT_EQ(m["capabilities"], json::array({"completion"}));
  EXPECT_EQ(m["details"]["embedding_length"], 128);
  EXPECT_TRUE(m.contains("context_length"));  // the served window, at the top level
}

TEST_F(OllamaClientFixes, ModelNotFoundIsWordedAsCurrentOllama) {
  for (const auto& [path, body] : {
           std::pair{"/api/generate", R"({"model":"nope","prompt":"x"})"},
           std::pair{"/api/chat", R"({"model":"nope","messages":[{"role":"user","content":"x"}]})"},
           std::pair{"/api/embed", R"({"model":"nope","input":"x"})"},
           std::pair{"/api/show", R"({"model":"nope"})"},
       }) {
    EXPECT_EQ(post_json(path, body, 404)["error"], "model 'nope' not found") << path;
  }
  // Ollama's legacy /api/embeddings answers through handleScheduleError, with the old words.
  EXPECT_EQ(post_json("/api/embeddings", R"({"model":"nope","prompt":"x"})", 404)["error"],
            "model \"nope\" not found, try pulling it first");
  // Delete and copy already had Ollama's wording ('%s' and %q).
  auto del = http_request("DELETE", url("/api/delete"), R"({"model":"nope"})");
  EXPECT_EQ(del.status, 404);
  EXPECT_EQ(json::parse(del.body)["error"], "model 'nope' not found");
  EXPECT_EQ(post_json("/api/copy", R"({"source":"nope","destination":"x"})", 404)["error"], "model \"nope\" not found");
}

// Ollama's GenerateRequest and ChatRequest (api/types.go) have no max_tokens or
// max_output_tokens; Go's JSON decoding drops unknown fields, so Ollama ignores both and only
// options.num_predict limits the output. corral does the same.
TEST_F(OllamaClientFixes, TopLevelMaxTokensAreIgnoredAsOllamaDoes) {
  const json g =
      post_json("/api/generate", R"({"model":"stories","prompt":"Once upon a time","stream":false,"max_tokens":1,)"
                                 R"("max_output_tokens":1,"options":{"num_predict":6,"temperature":0}})");
  EXPECT_EQ(g["eval_count"], 6) << g.dump();
  const json c =
      post_json("/api/chat", R"({"model":"stories","messages":[{"role":"user","content":"Once"}],"stream":false,)"
                             R"("max_tokens":1,"max_output_tokens":1,"options":{"num_predict":6,"temperature":0}})");
  EXPECT_EQ(c["eval_count"], 6) << c.dump();
}

}  // namespace
}  // namespace corral::testing
