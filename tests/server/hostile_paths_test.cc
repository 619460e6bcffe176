// Hostile input, part 3: encodings, paths and digests. Invalid UTF-8 anywhere a request can
// carry it (JSON strings, URL paths, header values) gets a 4xx whose body is valid UTF-8
// JSON; model names that try to leave the store ("../../etc/passwd", "%2e%2e", NUL bytes) and
// malformed digests are a 400 or 404, and nothing outside the store is read or written.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/http_client.h"
#include "server/hostile_util.h"
#include "server/server_process.h"

namespace corral::testing {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;
using hostile::error_message;
using hostile::raw_exchange;
using hostile::raw_request;
using hostile::valid_utf8;

// The server runs on a store of its own inside `root_`; `root_/outside` is a file a path
// escape would reach, and every check ends by asserting that nothing next to the store
// changed and the store holds no new files.
class HostilePaths : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    root_ = new fs::path(fs::temp_directory_path() / ("corral-hostile-" + std::to_string(getpid())));
    fs::remove_all(*root_);
    fs::create_directories(*root_ / "store");
    fs::copy(shared_test_store(), *root_ / "store", fs::copy_options::recursive);
    write(*root_ / "outside", "outside the store");
    // A pull that got past the name checks would go through this proxy: a closed loopback
    // port, so nothing ever leaves the machine.
    server_ = ServerProcess::start((*root_ / "store").string(), {{"HTTPS_PROXY", "http://127.0.0.1:1"},
                                                                 {"HTTP_PROXY", "http://127.0.0.1:1"},
                                                                 {"https_proxy", "http://127.0.0.1:1"},
                                                                 {"http_proxy", "http://127.0.0.1:1"}})
                  .release();
  }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
    fs::remove_all(*root_);
    delete root_;
  }
  static void write(const fs::path& p, const std::string& text) {
    FILE* f = std::fopen(p.c_str(), "wb");
    ASSERT_NE(f, nullptr);
    std::fwrite(text.data(), 1, text.size(), f);
    std::fclose(f);
  }
  static std::set<std::string> tree() {
    std::set<std::string> out;
    for (const auto& e : fs::recursive_directory_iterator(*root_)) out.insert(e.path().string());
    return out;
  }
  static void expect_clean_error(const hostile::RawResponse& r, const std::string& what, bool has_body = true) {
    EXPECT_TRUE(r.status == 400 || r.status == 404) << what << ": " << r.status << " " << r.body;
    EXPECT_TRUE(valid_utf8(r.body)) << what;
    if (!has_body) return;
    EXPECT_FALSE(error_message(r.body).empty()) << what << ": not a JSON error: " << r.body;
    EXPECT_EQ(r.body.find("root:"), std::string::npos) << what;
    EXPECT_EQ(r.body.find("outside the store"), std::string::npos) << what;
  }
  static hostile::RawResponse raw(const std::string& method, const std::string& target, const std::string& body = "",
                                  const std::string& headers = "") {
    return raw_exchange(server_->port(), raw_request(method, target, body, headers));
  }
  static fs::path* root_;
  static ServerProcess* server_;
};
fs::path* HostilePaths::root_ = nullptr;
ServerProcess* HostilePaths::server_ = nullptr;

const std::vector<std::string>& bad_names() {
  static const std::vector<std::string> names = {"../../etc/passwd",
                                                 "/etc/passwd",
                                                 "a/../../b",
                                                 "..",
                                                 "%2e%2e",
                                                 "%2e%2e/%2e%2e/etc/passwd",
                                                 "stories/../../../outside",
                                                 "registry.ollama.ai/library/../../outside:latest",
                                                 "..:latest",
                                                 std::string("stories\0/../x", 13),
                                                 std::string("\0", 1),
                                                 "./stories",
                                                 "stories:../../x",
                                                 "~/x",
                                                 "C:\\windows\\x",
                                                 "stories\n:latest"};
  return names;
}

TEST_F(HostilePaths, ModelNamesThatLeaveTheStoreAreRefused) {
  const auto before = tree();
  for (const std::string& name : bad_names()) {
    const std::string what = "name " + json(name).dump(-1, ' ', false, json::error_handler_t::replace);
    const json b = json{{"model", name}};
    // (Names with invalid UTF-8 cannot be JSON strings; they go in raw through URLs below.)
    const std::string body = b.dump();
    for (const auto& [method, path] : std::vector<std::pair<std::string, std::string>>{{"POST", "/api/show"},
                                                                                       {"DELETE", "/api/delete"},
                                                                                       {"POST", "/api/pull"},
                                                                                       {"POST", "/api/push"},
                                                                                       {"POST", "/api/generate"},
                                                                                       {"POST", "/api/chat"},
                                                                                       {"POST", "/api/embed"},
                                                                                       {"POST", "/v1/completions"}}) {
      const auto r = raw(method, path, body);
      expect_clean_error(r, method + " " + path + " " + what);
    }
    const json copy_from = json{{"source", name}, {"destination", "copied"}};
    const json copy_to = json{{"source", "stories"}, {"destination", name}};
    expect_clean_error(raw("POST", "/api/copy", copy_from.dump()), "copy from " + what);
    expect_clean_error(raw("POST", "/api/copy", copy_to.dump()), "copy to " + what);
  }
  EXPECT_EQ(tree(), before) << "a request changed files";
  EXPECT_EQ(raw("GET", "/").status, 200);
}

TEST_F(HostilePaths, ModelNamesInUrlsAreRefused) {
  const auto before = tree();
  for (const std::string target :
       {"/v1/models/../../etc/passwd", "/v1/models/%2e%2e/%2e%2e/etc/passwd", "/v1/models/%2e%2e%2f%2e%2e%2foutside",
        "/v1/models/stories%00", "/v1/models/%ff%fe", "/v1/models/%c0%af", "/v1/models//etc/passwd",
        "/v2/library/..%2f..%2foutside/manifests/latest", "/v2/%2e%2e/%2e%2e/manifests/latest",
        "/v2/library/stories/manifests/..%2f..%2f..%2foutside", "/v2/library/stories/manifests/%ff"}) {
    const auto r = raw("GET", target);
    expect_clean_error(r, target);
  }
  EXPECT_EQ(tree(), before);
}

TEST_F(HostilePaths, MalformedDigestsAreA400Or404) {
  const auto before = tree();
  const std::string hex64(64, 'a');
  for (const std::string& digest :
       {std::string("sha256:../../outside"), std::string("sha256:%2e%2e%2f%2e%2e%2foutside"),
        std::string("..%2f..%2foutside"), "sha256:" + std::string(64, 'g'), "sha256:" + std::string(63, 'a'),
        "sha256:" + std::string(65, 'a'), "sha256:" + std::string(64, 'A'), "sha512:" + hex64, "sha256-" + hex64,
        "sha256:" + hex64 + "%00", "sha256:%ff" + std::string(62, 'a'), "sha256:" + std::string(20000, 'a'),
        std::string("sha256:")}) {
    expect_clean_error(raw("HEAD", "/api/blobs/" + digest), "HEAD blob " + digest.substr(0, 80), /*has_body=*/false);
    expect_clean_error(raw("POST", "/api/blobs/" + digest, "data"), "POST blob " + digest.substr(0, 80));
    expect_clean_error(raw("GET", "/v2/library/stories/blobs/" + digest), "GET v2 blob " + digest.substr(0, 80));
  }
  // A well-formed digest the store does not have: 404, nothing created.
  const auto missing = raw("HEAD", "/api/blobs/sha256:" + hex64);
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(tree(), before) << "a request changed files";
}

TEST_F(HostilePaths, InvalidUtf8InJsonIsA400WithAValidUtf8Body) {
  for (const std::string& body :
       {std::string("{\"model\":\"stories\",\"prompt\":\"\xff\xfe\"}"), std::string("{\"model\":\"\xc0\xaf\"}"),
        std::string("{\"model\":\"stories\",\"prompt\":\"\\ud800\"}"),
        std::string("{\"model\":\"stories\xed\xa0\x80\"}"),
        std::string("{\"model\":\"stories\",\"prompt\":\"a") + '\0' + "b\"}"}) {
    for (const std::string path : {"/api/generate", "/api/show", "/v1/chat/completions", "/api/pull"}) {
      const auto r = raw("POST", path, body);
      EXPECT_EQ(r.status, 400) << path << ": " << r.body;
      EXPECT_TRUE(valid_utf8(r.body)) << path;
      EXPECT_FALSE(error_message(r.body).empty()) << path << ": " << r.body;
    }
  }
  // An escaped NUL is valid JSON: the prompt is generated from, a name is refused.
  auto r = raw("POST", "/api/show", "{\"model\":\"stories\\u0000x\"}");
  EXPECT_TRUE(r.status == 400 || r.status == 404) << r.body;
  EXPECT_TRUE(valid_utf8(r.body));
  r = raw("POST", "/api/generate",
          "{\"model\":\"stories\",\"prompt\":\"a\\u0000b\",\"stream\":false,\"options\":{\"num_predict\":1}}");
  EXPECT_EQ(r.status, 200) << r.body;
}

TEST_F(HostilePaths, InvalidUtf8InHeadersAndPathsGetsValidUtf8Answers) {
  // Header values are opaque bytes to the API: the request is served as usual.
  auto r =
      raw("POST", "/api/show", "{\"model\":\"stories\"}", "X-Client: \xff\xfe\xc0\r\nUser-Agent: \xed\xa0\x80\r\n");
  EXPECT_EQ(r.status, 200) << r.head;
  r = raw("POST", "/api/show", "{\"model\":\"nope\"}", "Authorization: Bearer \xff\r\n");
  EXPECT_EQ(r.status, 404) << r.head;
  EXPECT_TRUE(valid_utf8(r.body));
  EXPECT_FALSE(error_message(r.body).empty()) << r.body;
  // Raw invalid bytes in the path echoed into an error.
  for (const std::string target :
       {"/v1/models/\xff\xfe", "/v1/models/%ff%fe:latest", "/api/\xff", "/v1/models/a%ffb/c"}) {
    r = raw("GET", target);
    EXPECT_TRUE(r.status == 400 || r.status == 404) << target << ": " << r.status;
    EXPECT_TRUE(valid_utf8(r.body)) << target << ": " << r.body;
  }
  EXPECT_EQ(raw("GET", "/").status, 200);
}

}  // namespace
}  // namespace corral::testing
