// Large blobs between two real servers: a pull cut off midway (the client goes away, or the
// registry dies) resumes from the bytes already on disk, and a blob over the part size comes
// in several ranged requests. What the registry sent is read from its log.
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <thread>

#include "common/http_client.h"
#include "common/test_data.h"
#include "registry/servers.h"
#include "registry/test_util.h"
#include "server/server_process.h"
#include "store/store.h"

namespace corral::testing {
namespace {

using nlohmann::json;

constexpr size_t kBig = 48 << 20;
// 16 MB/s: the big blob takes three seconds, long enough to interrupt at a quarter.
const std::map<std::string, std::string> kSlow = {{"CORRAL_REGISTRY_SERVE_BPS", "16000000"}};

std::string pull_name(const ServerProcess& registry, const std::string& model) {
  return "127.0.0.1:" + std::to_string(registry.port()) + "/library/" + model + ":latest";
}

// Streams a pull, calling `on_record` for every NDJSON record; it returns false to hang up.
HttpResponse pull_streaming(ServerProcess& puller, const std::string& name,
                            const std::function<bool(const json&)>& on_record) {
  std::string pending;
  return http_request("POST", puller.url("/api/pull"), transfer_body(name), [&](const std::string& chunk) {
    pending += chunk;
    for (size_t nl; (nl = pending.find('\n')) != std::string::npos; pending.erase(0, nl + 1)) {
      if (!on_record(json::parse(pending.substr(0, nl), nullptr, false))) return false;
    }
    return true;
  });
}

// Bytes of `d` that `dir`'s partial files say are on disk (Ollama's -partial-N records).
int64_t partial_completed(const std::string& dir, const store::Digest& d) {
  int64_t sum = 0;
  const std::string prefix = "sha256-" + d.hex() + "-partial-";
  for (const std::string& f : files_in(dir + "/blobs")) {
    if (f.rfind(prefix, 0) != 0) continue;
    sum += json::parse(read_file(dir + "/blobs/" + f)).at("Completed").get<int64_t>();
  }
  return sum;
}

bool wait_for_log(const ServerProcess& s, const std::string& text, std::chrono::seconds timeout) {
  const auto until = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < until) {
    if (s.log().find(text) != std::string::npos) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

class ResumeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    create_tiny(a_dir_.path());
    big_ = add_big_model(a_dir_.path(), "big", kBig, 11);
  }
  void expect_pulled(const std::string& name) {
    store::Store sb(b_dir_.path());
    auto m = sb.read_manifest(*store::ModelName::parse(name));
    ASSERT_TRUE(m.is_ok()) << m.error();
    for (const store::Digest& d : m->digests()) EXPECT_EQ(file_digest(sb.blob_path(d)), d);
    EXPECT_EQ(files_in(b_dir_.path() + "/blobs"), committed_blobs(b_dir_.path())) << "partial files left";
  }

  TempDir a_dir_, b_dir_;
  store::Digest big_;
};

TEST_F(ResumeTest, AClientThatHangsUpLeavesAPullThatResumes) {
  auto a = ServerProcess::start(a_dir_.path(), kSlow);
  auto b = ServerProcess::start(b_dir_.path());
  ASSERT_TRUE(a && b);
  const std::string name = pull_name(*a, "big");
  int64_t seen = 0;
  pull_streaming(*b, name, [&](const json& j) {
    if (j.value("digest", "") != big_.str()) return true;
    seen = j.value("completed", int64_t{0});
    return seen < static_cast<int64_t>(kBig / 4);
  });
  ASSERT_GE(seen, static_cast<int64_t>(kBig / 4));
  // B cancels the pull when it sees the client gone, and records how far each part got.
  ASSERT_TRUE(wait_for_log(*b, "pull " + name + ": cancelled", std::chrono::seconds(10))) << b->log();
  const int64_t on_disk = partial_completed(b_dir_.path(), big_);
  EXPECT_GE(on_disk, seen);
  EXPECT_LT(on_disk, static_cast<int64_t>(kBig));
  EXPECT_TRUE(all_files(b_dir_.path() + "/manifests").empty());
  EXPECT_FALSE(store::Store(b_dir_.path()).has_blob(big_));

  // A logs the cut-off transfer when it notices; that line must not count as the resume's.
  ASSERT_TRUE(wait_for_log(*a, "client gone)", std::chrono::seconds(10))) << a->log();
  const size_t mark = a->log().size();
  auto r = http_post(b->url("/api/pull"), transfer_body(name));
  ASSERT_EQ(r.status, 200);
  ASSERT_EQ(ndjson(r.body).back(), (json{{"status", "success"}})) << r.body;
  // Exactly the missing bytes were fetched: not one byte already on disk came again.
  EXPECT_EQ(bytes_sent(a->log().substr(mark), big_), static_cast<int64_t>(kBig) - on_disk);
  expect_pulled(name);
}

TEST_F(ResumeTest, APullWhoseRegistryDiesResumesFromAnother) {
  auto a = ServerProcess::start(a_dir_.path(), kSlow);
  auto b = ServerProcess::start(b_dir_.path());
  ASSERT_TRUE(a && b);
  bool killed = false;
  auto r = pull_streaming(*b, pull_name(*a, "big"), [&](const json& j) {
    if (!killed && j.value("digest", "") == big_.str() &&
        j.value("completed", int64_t{0}) >= static_cast<int64_t>(kBig / 4)) {
      ::kill(a->pid(), SIGKILL);
      killed = true;
    }
    return true;
  });
  ASSERT_TRUE(killed);
  a->stop();
  ASSERT_EQ(r.status, 200);
  const json last = ndjson(r.body).back();
  ASSERT_TRUE(last.contains("error")) << r.body;
  const int64_t on_disk = partial_completed(b_dir_.path(), big_);
  EXPECT_GE(on_disk, static_cast<int64_t>(kBig / 4));

  // The same store served again (on another port: another name, the same blob).
  auto a2 = ServerProcess::start(a_dir_.path());
  ASSERT_TRUE(a2);
  const std::string name2 = pull_name(*a2, "big");
  auto again = http_post(b->url("/api/pull"), transfer_body(name2));
  ASSERT_EQ(ndjson(again.body).back(), (json{{"status", "success"}})) << again.body;
  EXPECT_EQ(bytes_sent(a2->log(), big_), static_cast<int64_t>(kBig) - on_disk);
  expect_pulled(name2);
}

TEST_F(ResumeTest, ALargeBlobComesOverSeveralRangedConnections) {
  constexpr int64_t kPart = 4'000'000;
  auto a = ServerProcess::start(a_dir_.path());
  auto b = ServerProcess::start(b_dir_.path(), {{"CORRAL_PULL_PART_SIZE", std::to_string(kPart)}});
  ASSERT_TRUE(a && b);
  const std::string name = pull_name(*a, "big");
  auto r = http_post(b->url("/api/pull"), transfer_body(name));
  ASSERT_EQ(ndjson(r.body).back(), (json{{"status", "success"}})) << r.body;
  auto ranges = sent_ranges(a->log(), big_);
  const int64_t parts = (static_cast<int64_t>(kBig) + kPart - 1) / kPart;
  ASSERT_EQ(static_cast<int64_t>(ranges.size()), parts);
  std::sort(ranges.begin(), ranges.end(), [](const SentRange& x, const SentRange& y) { return x.first < y.first; });
  for (int64_t i = 0; i < parts; ++i) {
    EXPECT_EQ(ranges[i].first, i * kPart);
    EXPECT_EQ(ranges[i].bytes, ranges[i].last - ranges[i].first + 1);
  }
  expect_pulled(name);
}

}  // namespace
}  // namespace corral::testing
