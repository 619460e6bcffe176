// Who may talk to the real `corral serve` (server/access_policy.h): browser origins (CORS,
// preflights, 403), the Host check against DNS rebinding, CORRAL_API_KEYS, and the connection
// limits (CORRAL_HEADER_TIMEOUT, CORRAL_MAX_CONNECTIONS_PER_IP), all over HTTP.
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <thread>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "common/test_data.h"
#include "server/raw_http.h"
#include "server/server_process.h"
#include "store/create.h"
#include "store/modelfile.h"
#include "store/store.h"

namespace corral::testing {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;
using namespace std::chrono_literals;

// A writable store of its own holding "stories", so a refused /api/copy can be seen to have
// written nothing.
class WritableStore {
 public:
  explicit WritableStore(const std::string& tag)
      : dir_(fs::temp_directory_path() / fmt::format("corral-access-{}-{}", tag, getpid())) {
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    store::Store s(dir_);
    auto mf = store::parse_modelfile("FROM " + test_data_path("models/stories260K.gguf") + "\n");
    EXPECT_TRUE(mf.is_ok());
    EXPECT_TRUE(store::create_model(s, "stories", *mf, fixture_create_options()).is_ok());
  }
  ~WritableStore() { fs::remove_all(dir_); }
  const std::string& dir() const { return dir_; }

 private:
  std::string dir_;
};

std::string request(const std::string& method, const std::string& path, int port, const std::string& extra = "",
                    const std::string& body = "", const std::string& host = "");

// Whether the server lists `name` (asked the way a local client asks).
bool has_model(int port, const std::string& name) {
  auto r = raw_exchange(port, request("GET", "/api/tags", port));
  EXPECT_EQ(r.status, 200) << r.body;
  json j = json::parse(r.body, nullptr, false);
  if (!j.is_object()) return false;
  for (const auto& m : j["models"])
    if (m["name"] == name + ":latest") return true;
  return false;
}

std::string request(const std::string& method, const std::string& path, int port, const std::string& extra,
                    const std::string& body, const std::string& host) {
  std::string r = fmt::format("{} {} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n", method, path,
                              host.empty() ? fmt::format("127.0.0.1:{}", port) : host);
  r += extra;
  if (!body.empty() || method == "POST") r += fmt::format("Content-Length: {}\r\n", body.size());
  return r + "\r\n" + body;
}

TEST(AccessHttp, AllowedOriginGetsCorsHeaders) {
  auto s = ServerProcess::start(shared_test_store());
  ASSERT_TRUE(s);
  auto r = raw_exchange(s->port(), request("GET", "/api/tags", s->port(), "Origin: http://localhost:5173\r\n"));
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.header("access-control-allow-origin"), "http://localhost:5173");
  EXPECT_EQ(r.header("vary"), "Origin");
  // No Origin, or the server's own origin: not a cross-origin request, no CORS headers.
  auto plain = raw_exchange(s->port(), request("GET", "/api/tags", s->port()));
  EXPECT_EQ(plain.status, 200);
  EXPECT_EQ(plain.header("access-control-allow-origin"), "");
  auto self = raw_exchange(
      s->port(), request("GET", "/api/tags", s->port(), fmt::format("Origin: http://127.0.0.1:{}\r\n", s->port())));
  EXPECT_EQ(self.status, 200);
  EXPECT_EQ(self.header("access-control-allow-origin"), "");
}

TEST(AccessHttp, PreflightFromAllowedOriginIsAnswered) {
  auto s = ServerProcess::start(shared_test_store());
  ASSERT_TRUE(s);
  auto r = raw_exchange(s->port(), request("OPTIONS", "/api/chat", s->port(),
                                           "Origin: app://obsidian.md\r\nAccess-Control-Request-Method: POST\r\n"
                                           "Access-Control-Request-Headers: content-type,authorization\r\n"));
  EXPECT_EQ(r.status, 204);
  EXPECT_EQ(r.header("access-control-allow-origin"), "app://obsidian.md");
  EXPECT_EQ(r.header("access-control-allow-methods"), "GET,POST,PUT,PATCH,DELETE,HEAD,OPTIONS");
  EXPECT_NE(r.header("access-control-allow-headers").find("Authorization,Content-Type"), std::string::npos);
  EXPECT_NE(r.header("access-control-allow-headers").find("X-Stainless-Os"), std::string::npos);
  EXPECT_EQ(r.header("access-control-max-age"), "43200");
  EXPECT_EQ(r.headers.count("vary"), 3u);
}

TEST(AccessHttp, OtherOriginsAreRefusedBeforeTheHandler) {
  WritableStore store("origin");
  auto s = ServerProcess::start(store.dir());
  ASSERT_TRUE(s);
  const std::string copy = R"({"source":"stories","destination":"stolen"})";
  // The CSRF case: a simple text/plain POST a page on any site can send without a preflight.
  auto csrf = raw_exchange(s->port(), request("POST", "/api/copy", s->port(),
                                              "Origin: http://evil.test\r\nContent-Type: text/plain\r\n", copy));
  EXPECT_EQ(csrf.status, 403);
  EXPECT_NE(json::parse(csrf.body)["error"].get<std::string>().find("OLLAMA_ORIGINS"), std::string::npos);
  EXPECT_EQ(csrf.header("access-control-allow-origin"), "");
  auto preflight =
      raw_exchange(s->port(), request("OPTIONS", "/api/copy", s->port(),
                                      "Origin: http://evil.test\r\nAccess-Control-Request-Method: POST\r\n"));
  EXPECT_EQ(preflight.status, 403);
  EXPECT_FALSE(has_model(s->port(), "stolen"));
  // The same request from an allowed origin does copy: the refusal above is the origin's.
  auto ok = raw_exchange(s->port(), request("POST", "/api/copy", s->port(),
                                            "Origin: http://localhost:3000\r\nContent-Type: text/plain\r\n", copy));
  EXPECT_EQ(ok.status, 200) << ok.body;
  EXPECT_TRUE(has_model(s->port(), "stolen"));
}

TEST(AccessHttp, OllamaOriginsAddsOrigins) {
  auto s =
      ServerProcess::start(shared_test_store(), {{"OLLAMA_ORIGINS", "https://chat.example.com,chrome-extension://*"}});
  ASSERT_TRUE(s);
  for (const char* origin : {"https://chat.example.com", "chrome-extension://abc", "http://localhost"}) {
    auto r = raw_exchange(s->port(), request("GET", "/api/version", s->port(), fmt::format("Origin: {}\r\n", origin)));
    EXPECT_EQ(r.status, 200) << origin;
    EXPECT_EQ(r.header("access-control-allow-origin"), origin);
  }
  auto other = raw_exchange(s->port(), request("GET", "/api/version", s->port(), "Origin: https://example.com\r\n"));
  EXPECT_EQ(other.status, 403);
  auto all = ServerProcess::start(shared_test_store(), {{"OLLAMA_ORIGINS", "*"}});
  ASSERT_TRUE(all);
  auto any = raw_exchange(all->port(), request("GET", "/api/version", all->port(), "Origin: https://example.com\r\n"));
  EXPECT_EQ(any.status, 200);
  EXPECT_EQ(any.header("access-control-allow-origin"), "*");
}

TEST(AccessHttp, DnsRebindingHostIsRefused) {
  WritableStore store("host");
  auto s = ServerProcess::start(store.dir());
  ASSERT_TRUE(s);
  // A rebound page is same-origin with its own Host, so CORS lets it through; the Host check
  // must not.
  const std::string host = fmt::format("attacker.example:{}", s->port());
  auto r = raw_exchange(s->port(), request("POST", "/api/copy", s->port(),
                                           fmt::format("Origin: http://{}\r\nContent-Type: text/plain\r\n", host),
                                           R"({"source":"stories","destination":"rebound"})", host));
  EXPECT_EQ(r.status, 403);
  EXPECT_NE(r.body.find("host attacker.example"), std::string::npos) << r.body;
  EXPECT_FALSE(has_model(s->port(), "rebound"));
  EXPECT_TRUE(has_model(s->port(), "stories"));
  auto tags = raw_exchange(s->port(), request("GET", "/api/tags", s->port(), "", "", host));
  EXPECT_EQ(tags.status, 403);
  for (std::string ok : {fmt::format("localhost:{}", s->port()), fmt::format("[::1]:{}", s->port()),
                         std::string("myapp.localhost"), std::string("192.168.1.10:11434")}) {
    auto good = raw_exchange(s->port(), request("GET", "/api/tags", s->port(), "", "", ok));
    EXPECT_EQ(good.status, 200) << ok;
  }
}

TEST(AccessHttp, ApiKeysAreRequiredWhenSet) {
  auto s = ServerProcess::start(shared_test_store(), {{"CORRAL_API_KEYS", "sk-alpha,sk-beta"}, {"OLLAMA_DEBUG", "1"}});
  ASSERT_TRUE(s);
  const int port = s->port();
  // Health and version probes need no key.
  EXPECT_EQ(raw_exchange(port, request("GET", "/", port)).status, 200);
  EXPECT_EQ(raw_exchange(port, request("HEAD", "/", port)).status, 200);
  EXPECT_EQ(raw_exchange(port, request("GET", "/api/version", port)).status, 200);

  auto none = raw_exchange(port, request("GET", "/api/tags", port));
  EXPECT_EQ(none.status, 401);
  EXPECT_EQ(none.header("www-authenticate"), "Bearer");
  EXPECT_NE(json::parse(none.body)["error"].get<std::string>().find("missing API key"), std::string::npos);
  auto wrong = raw_exchange(port, request("GET", "/api/tags", port, "Authorization: Bearer sk-gamma\r\n"));
  EXPECT_EQ(wrong.status, 401);
  EXPECT_EQ(json::parse(wrong.body)["error"], "invalid API key");
  auto basic = raw_exchange(port, request("GET", "/api/tags", port, "Authorization: Basic c2stYWxwaGE6\r\n"));
  EXPECT_EQ(basic.status, 401);
  auto openai = raw_exchange(port, request("GET", "/v1/models", port));
  EXPECT_EQ(openai.status, 401);
  EXPECT_EQ(json::parse(openai.body)["error"]["code"], "invalid_api_key");
  auto metrics = raw_exchange(port, request("GET", "/metrics", port));
  EXPECT_EQ(metrics.status, 401);

  auto good = raw_exchange(port, request("GET", "/api/tags", port, "Authorization: Bearer sk-beta\r\n"));
  EXPECT_EQ(good.status, 200) << good.body;
  auto good_v1 = raw_exchange(port, request("GET", "/v1/models", port, "authorization: bearer sk-alpha\r\n"));
  EXPECT_EQ(good_v1.status, 200) << good_v1.body;
  // The tenant is on the request for the log (debug level with OLLAMA_DEBUG=1).
  auto deadline = std::chrono::steady_clock::now() + 5s;
  while (s->log().find("tenant=key2") == std::string::npos && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(20ms);
  EXPECT_NE(s->log().find("path=/api/tags remote=127.0.0.1"), std::string::npos) << s->log();
  EXPECT_NE(s->log().find("tenant=key2"), std::string::npos);
  EXPECT_EQ(s->log().find("sk-beta"), std::string::npos);  // keys never reach the log
}

TEST(AccessHttp, ApiKeysFileNamesTenants) {
  const fs::path file = fs::temp_directory_path() / fmt::format("corral-keys-{}", getpid());
  {
    std::FILE* f = std::fopen(file.c_str(), "w");
    ASSERT_TRUE(f);
    std::fputs("# who may call\nsk-team-a team-a\n", f);
    std::fclose(f);
  }
  auto s = ServerProcess::start(shared_test_store(), {{"CORRAL_API_KEYS", file.string()}, {"OLLAMA_DEBUG", "1"}});
  ASSERT_TRUE(s);
  auto r = raw_exchange(s->port(), request("POST", "/api/show", s->port(), "Authorization: Bearer sk-team-a\r\n",
                                           R"({"model":"stories"})"));
  EXPECT_EQ(r.status, 200) << r.body;
  auto deadline = std::chrono::steady_clock::now() + 5s;
  while (s->log().find("tenant=team-a") == std::string::npos && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(20ms);
  EXPECT_NE(s->log().find("tenant=team-a"), std::string::npos) << s->log();
  fs::remove(file);
}

// `corral serve` with a bad access setting exits at once with a message naming it.
TEST(AccessHttp, BadSettingsStopTheServerAtStartup) {
  const std::pair<const char*, const char*> cases[] = {
      {"OLLAMA_ORIGINS=example.com", "OLLAMA_ORIGINS"},
      {"CORRAL_API_KEYS=/nonexistent/keys", "CORRAL_API_KEYS"},
      {"CORRAL_HEADER_TIMEOUT=soon", "CORRAL_HEADER_TIMEOUT"},
      {"CORRAL_MAX_CONNECTIONS_PER_IP=0", "CORRAL_MAX_CONNECTIONS_PER_IP"},
  };
  for (const auto& [assignment, name] : cases) {
    const std::string cmd = fmt::format("env {} OLLAMA_HOST=127.0.0.1:0 OLLAMA_MODELS='{}' '{}' serve 2>&1", assignment,
                                        shared_test_store(), CORRAL_BINARY);
    std::string out;
    FILE* p = popen(cmd.c_str(), "r");
    ASSERT_TRUE(p);
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof(buf), p)) > 0) out.append(buf, n);
    int status = pclose(p);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 1) << assignment << ": " << out;
    EXPECT_NE(out.find(name), std::string::npos) << out;
  }
}

TEST(AccessHttp, PerAddressConnectionCapAnswers503) {
  auto s = ServerProcess::start(shared_test_store(), {{"CORRAL_MAX_CONNECTIONS_PER_IP", "3"}});
  ASSERT_TRUE(s);
  std::vector<int> held;
  for (int i = 0; i < 3; ++i) {
    held.push_back(raw_connect(s->port(), "127.0.0.2"));
    ASSERT_GE(held.back(), 0);
  }
  std::this_thread::sleep_for(200ms);  // accepted and counted
  int extra = raw_connect(s->port(), "127.0.0.2");
  ASSERT_GE(extra, 0);
  auto r = raw_read_response(extra, 5s);
  EXPECT_EQ(r.status, 503);
  EXPECT_NE(r.body.find("too many connections from 127.0.0.2"), std::string::npos) << r.body;
  ::close(extra);
  // Another address is not affected.
  EXPECT_EQ(raw_exchange(s->port(), request("GET", "/api/version", s->port())).status, 200);
  for (int fd : held) ::close(fd);
}

TEST(AccessHttp, HeaderTrickledPastTheDeadlineIsClosed) {
  auto s = ServerProcess::start(shared_test_store(), {{"CORRAL_HEADER_TIMEOUT", "1"}});
  ASSERT_TRUE(s);
  int fd = raw_connect(s->port());
  ASSERT_GE(fd, 0);
  const auto t0 = std::chrono::steady_clock::now();
  const std::string head = "GET /api/version HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ";
  bool closed = false;
  // One byte every 200 ms: always "active", never done.
  for (int i = 0; i < 25 && !closed; ++i) {
    char c = i < static_cast<int>(head.size()) ? head[i] : 'a';
    if (::send(fd, &c, 1, MSG_NOSIGNAL) != 1) closed = true;
    else closed = raw_wait_closed(fd, 200ms);
  }
  const auto took = std::chrono::steady_clock::now() - t0;
  EXPECT_TRUE(closed || raw_wait_closed(fd, 2s));
  EXPECT_GE(took, 800ms);
  EXPECT_LE(took, 4s);
  ::close(fd);
}

}  // namespace
}  // namespace corral::testing
