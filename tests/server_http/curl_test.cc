// Interoperability with a real HTTP client (libcurl): connection reuse, incremental streaming,
// Expect: 100-continue uploads and chunked uploads.
#include <gtest/gtest.h>

#include <curl/curl.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "test_client.h"

namespace corral::http::testing {
namespace {

using Clock = std::chrono::steady_clock;

struct Received {
  std::string body;
  std::vector<std::pair<Clock::time_point, std::string>> pieces;
};

size_t on_data(char* p, size_t size, size_t n, void* user) {
  auto* r = static_cast<Received*>(user);
  r->body.append(p, size * n);
  r->pieces.emplace_back(Clock::now(), std::string(p, size * n));
  return size * n;
}

class CurlTest : public ::testing::Test {
 protected:
  void SetUp() override {
    curl_global_init(CURL_GLOBAL_DEFAULT);
    curl_ = curl_easy_init();
    ASSERT_TRUE(curl_);
    Server& s = harness_.server();
    s.route("GET", "/api/version", [](const Request&, std::shared_ptr<ResponseWriter> w) {
      w->respond(200, "application/json", R"({"version":"0.1.0"})");
    });
    s.route("POST", "/echo", [](Request req, std::shared_ptr<ResponseWriter> w) {
      w->respond(200, "application/octet-stream", std::move(req.body));
    });
    s.route("POST", "/api/generate", [this](const Request&, std::shared_ptr<ResponseWriter> w) {
      worker_ = std::thread([w] {
        w->start(200, "application/x-ndjson", {}, true);
        for (int i = 0; i < 4; ++i) {
          std::this_thread::sleep_for(80ms);
          w->write("{\"response\":\"t" + std::to_string(i) + "\"}\n");
        }
        w->finish();
      });
    });
    ASSERT_TRUE(harness_.start());
  }
  void TearDown() override {
    if (worker_.joinable()) worker_.join();
    curl_easy_cleanup(curl_);
  }
  std::string url(std::string_view path) const {
    return "http://127.0.0.1:" + std::to_string(harness_.port()) + std::string(path);
  }
  long perform(std::string_view path, Received* out) {
    curl_easy_setopt(curl_, CURLOPT_URL, url(path).c_str());
    curl_easy_setopt(curl_, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(curl_, CURLOPT_WRITEDATA, out);
    curl_easy_setopt(curl_, CURLOPT_TIMEOUT, 10L);
    CURLcode rc = curl_easy_perform(curl_);
    EXPECT_EQ(rc, CURLE_OK) << curl_easy_strerror(rc);
    long status = 0;
    curl_easy_getinfo(curl_, CURLINFO_RESPONSE_CODE, &status);
    return status;
  }

  ServerHarness harness_;
  CURL* curl_ = nullptr;
  std::thread worker_;
};

TEST_F(CurlTest, ReusesOneConnection) {
  for (int i = 0; i < 3; ++i) {
    Received r;
    EXPECT_EQ(perform("/api/version", &r), 200);
    EXPECT_EQ(r.body, R"({"version":"0.1.0"})");
    long new_connections = -1;
    curl_easy_getinfo(curl_, CURLINFO_NUM_CONNECTS, &new_connections);
    EXPECT_EQ(new_connections, i == 0 ? 1 : 0) << i;
  }
}

TEST_F(CurlTest, StreamsIncrementally) {
  curl_easy_setopt(curl_, CURLOPT_POSTFIELDS, "{}");
  Received r;
  EXPECT_EQ(perform("/api/generate", &r), 200);
  EXPECT_EQ(r.body, "{\"response\":\"t0\"}\n{\"response\":\"t1\"}\n{\"response\":\"t2\"}\n{\"response\":\"t3\"}\n");
  ASSERT_GE(r.pieces.size(), 4u);  // delivered as produced, not in one piece at the end
  EXPECT_GE(r.pieces.back().first - r.pieces.front().first, 200ms);
}

TEST_F(CurlTest, LargeUploadWithExpectContinue) {
  std::string body(3u << 20, 'b');  // 3 MiB
  curl_slist* headers = curl_slist_append(nullptr, "Expect: 100-continue");
  curl_easy_setopt(curl_, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl_, CURLOPT_POSTFIELDS, body.data());
  curl_easy_setopt(curl_, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
  // Without a 100 Continue curl would wait this long before sending the body anyway.
  curl_easy_setopt(curl_, CURLOPT_EXPECT_100_TIMEOUT_MS, 3000L);
  Received r;
  auto t0 = Clock::now();
  EXPECT_EQ(perform("/echo", &r), 200);
  EXPECT_LT(Clock::now() - t0, 2500ms);
  EXPECT_EQ(r.body.size(), body.size());
  curl_slist_free_all(headers);
}

size_t read_pieces(char* buf, size_t size, size_t n, void* user) {
  auto* left = static_cast<int*>(user);
  if (*left == 0) return 0;
  --*left;
  std::string piece = "piece" + std::to_string(*left) + ";";
  size_t len = std::min(piece.size(), size * n);
  std::memcpy(buf, piece.data(), len);
  return len;
}

TEST_F(CurlTest, ChunkedUpload) {
  int left = 3;
  curl_slist* headers = curl_slist_append(nullptr, "Transfer-Encoding: chunked");
  curl_easy_setopt(curl_, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl_, CURLOPT_POST, 1L);
  curl_easy_setopt(curl_, CURLOPT_READFUNCTION, read_pieces);
  curl_easy_setopt(curl_, CURLOPT_READDATA, &left);
  Received r;
  EXPECT_EQ(perform("/echo", &r), 200);
  EXPECT_EQ(r.body, "piece2;piece1;piece0;");
  curl_slist_free_all(headers);
}

TEST_F(CurlTest, OversizedUploadGets413) {
  std::string body(33u << 20, 'z');  // over the default 32 MiB
  curl_easy_setopt(curl_, CURLOPT_POSTFIELDS, body.data());
  curl_easy_setopt(curl_, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
  Received r;
  curl_easy_setopt(curl_, CURLOPT_URL, url("/echo").c_str());
  curl_easy_setopt(curl_, CURLOPT_WRITEFUNCTION, on_data);
  curl_easy_setopt(curl_, CURLOPT_WRITEDATA, &r);
  curl_easy_setopt(curl_, CURLOPT_TIMEOUT, 10L);
  CURLcode rc = curl_easy_perform(curl_);
  // curl sends Expect: 100-continue for a body this size, so it reads the 413 before
  // uploading anything.
  ASSERT_EQ(rc, CURLE_OK) << curl_easy_strerror(rc);
  long status = 0;
  curl_easy_getinfo(curl_, CURLINFO_RESPONSE_CODE, &status);
  EXPECT_EQ(status, 413);
  EXPECT_EQ(r.body, R"({"error":"request body too large"})");
}

}  // namespace
}  // namespace corral::http::testing
