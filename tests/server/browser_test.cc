// A real browser against the real server: headless Chromium (Debian's chromium, installed by
// scripts/setup) runs fetch() from a page on an allowed origin and from one on another site
// (tests/js/browser_cors.mjs). The allowed page may copy a model and read the list; the other
// site's requests - a preflighted JSON POST and a preflight-free text/plain POST (CSRF) - must
// fail in the page and change nothing on the server.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <set>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "common/http_client.h"
#include "common/test_data.h"
#include "server/server_process.h"
#include "store/create.h"
#include "store/modelfile.h"
#include "store/store.h"

namespace corral::testing {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

std::string find_chromium() {
  for (const char* p : {"/usr/bin/chromium", "/usr/bin/chromium-browser"})
    if (::access(p, X_OK) == 0) return p;
  return "";
}

std::pair<int, std::string> run(const std::string& cmd) {
  std::string out;
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return {-1, "popen failed"};
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), p)) > 0) out.append(buf, n);
  const int status = pclose(p);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

const json* find_attempt(const json& results, const std::string& name) {
  if (!results.is_array()) return nullptr;
  for (const auto& r : results)
    if (r.value("name", "") == name) return &r;
  return nullptr;
}

TEST(Browser, OnlyAllowedOriginsReachTheApi) {
  const std::string chromium = find_chromium();
  if (chromium.empty()) GTEST_SKIP() << "chromium is not installed (scripts/setup installs it): browser test skipped";

  const fs::path dir = fs::temp_directory_path() / fmt::format("corral-browser-{}", getpid());
  fs::remove_all(dir);
  fs::create_directories(dir / "store");
  {
    store::Store s((dir / "store").string());
    auto mf = store::parse_modelfile("FROM " + test_data_path("models/stories260K.gguf") + "\n");
    ASSERT_TRUE(mf.is_ok());
    ASSERT_TRUE(store::create_model(s, "stories", *mf, fixture_create_options()).is_ok());
  }
  auto server = ServerProcess::start((dir / "store").string());
  ASSERT_TRUE(server);

  const std::string script = std::string(CORRAL_SOURCE_DIR) + "/tests/js/browser_cors.mjs";
  auto [status, out] =
      run(fmt::format("node '{}' '{}' '{}' '{}' 2>&1", script, server->url(""), chromium, dir.string()));
  ASSERT_EQ(status, 0) << out;
  const size_t at = out.find("browser_cors: ");
  ASSERT_NE(at, std::string::npos) << out;
  const json result = json::parse(out.substr(at + 14), nullptr, false);
  ASSERT_TRUE(result.is_object()) << out;
  const json& good = result["good"];
  const json& evil = result["evil"];

  // The allowed origin: every call goes through (the JSON POST after its preflight).
  for (const char* name : {"copy-json", "copy-text", "tags"}) {
    const json* a = find_attempt(good, name);
    ASSERT_TRUE(a) << name << ": " << good.dump();
    EXPECT_EQ(a->value("status", 0), 200) << name << ": " << a->dump();
  }
  // The other site: nothing reaches a handler, so the page sees network errors.
  for (const char* name : {"copy-json", "copy-text", "tags"}) {
    const json* a = find_attempt(evil, name);
    ASSERT_TRUE(a) << name << ": " << evil.dump();
    EXPECT_TRUE(a->contains("error")) << name << ": " << a->dump();
    EXPECT_FALSE(a->contains("status")) << name << ": " << a->dump();
  }

  // What the server did: the good page's copies exist, the other site's do not.
  auto tags = http_get(server->url("/api/tags"));
  ASSERT_EQ(tags.status, 200);
  std::set<std::string> names;
  const json listed = json::parse(tags.body);  // kept alive: the loop walks a reference into it
  for (const auto& m : listed["models"]) names.insert(m["name"].get<std::string>());
  EXPECT_TRUE(names.count("good-json:latest")) << tags.body;
  EXPECT_TRUE(names.count("good-text:latest")) << tags.body;
  EXPECT_FALSE(names.count("evil-json:latest")) << tags.body;
  EXPECT_FALSE(names.count("evil-text:latest")) << tags.body;
  EXPECT_NE(server->log().find("origin \"http://evil.test:"), std::string::npos) << server->log();

  server.reset();
  fs::remove_all(dir);
}

}  // namespace
}  // namespace corral::testing
