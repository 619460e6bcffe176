// A registry that stalls makes a pull fail within the stall timeout (CORRAL_PULL_STALL_TIMEOUT)
// with a clear error, keeping what arrived for the next pull; one that trickles slowly but
// steadily still completes, however long the whole transfer takes.
#include <gtest/gtest.h>

#include <chrono>

#include "common/http_client.h"
#include "common/test_data.h"
#include "registry/fake_registry.h"
#include "registry/pull.h"
#include "registry/servers.h"
#include "registry/test_util.h"
#include "server/server_process.h"

namespace corral::registry {
namespace {

using testing::BlobFault;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

class StallTest : public ::testing::Test {
 protected:
  static PullOptions options() {
    PullOptions o;
    o.insecure = true;
    o.download.retry_base_ms = 5;
    o.download.stall_timeout = 1s;
    return o;
  }
  Status pull(const std::string& model, const PullOptions& opt = options()) {
    CancelFlag cancel{false};
    return pull_model(store_, fake_.name(model), opt, nullptr, cancel);
  }
  std::string serve_model(const std::string& model, const std::string& bytes, BlobFault fault) {
    const std::string d = store::Sha256::of(bytes).str();
    fake_.set_blob(d, bytes, fault);
    fake_.set_manifest(model, testing::manifest_json({{d, static_cast<int64_t>(bytes.size())}}));
    return d;
  }

  testing::TempDir dir_;
  store::Store store_{dir_.path()};
  testing::FakeRegistry fake_;
};

TEST_F(StallTest, AStalledBlobFailsWithinTheTimeoutAndTheNextPullResumes) {
  const std::string bytes = testing::random_bytes(10000, 21);
  const std::string d = serve_model("m", bytes, BlobFault::kStall);
  const auto t0 = Clock::now();
  Status st = pull("m");
  const double took = seconds_since(t0);
  ASSERT_FALSE(st.is_ok());
  EXPECT_NE(st.message().find("pulling " + d.substr(7, 12) + ": the registry sent nothing for 1 s"), std::string::npos)
      << st.message();
  EXPECT_GE(took, 1.0);
  EXPECT_LT(took, 5.0) << "a stall is not retried";
  EXPECT_EQ(fake_.blob_requests(), 1);
  EXPECT_TRUE(testing::committed_blobs(dir_.path()).empty());
  EXPECT_FALSE(testing::files_in(dir_.path() + "/blobs").empty()) << "the partial file is kept";

  fake_.set_blob(d, bytes, BlobFault::kNone);
  const int64_t first = fake_.bytes_served();
  EXPECT_EQ(first, 5000);
  ASSERT_TRUE(pull("m").is_ok());
  EXPECT_EQ(fake_.bytes_served() - first, 5000) << "the resume fetched only the missing half";
  EXPECT_EQ(testing::read_file(store_.blob_path(*store::Digest::parse(d))), bytes);
}

TEST_F(StallTest, EveryRangedPartHasItsOwnTimeout) {
  PullOptions opt = options();
  opt.download.plan.min_part_size = 1000;
  opt.download.max_connections = 4;
  serve_model("m", testing::random_bytes(4000, 22), BlobFault::kStall);
  const auto t0 = Clock::now();
  Status st = pull("m", opt);
  ASSERT_FALSE(st.is_ok());
  EXPECT_NE(st.message().find("sent nothing for 1 s"), std::string::npos) << st.message();
  EXPECT_LT(seconds_since(t0), 5.0);
}

TEST_F(StallTest, AManifestThatNeverComesFails) {
  fake_.stall_manifest("m");
  const auto t0 = Clock::now();
  Status st = pull("m");
  ASSERT_FALSE(st.is_ok());
  EXPECT_EQ(st.message(), "pull model manifest: the registry sent nothing for 1 s (CORRAL_PULL_STALL_TIMEOUT)");
  EXPECT_LT(seconds_since(t0), 5.0);
  EXPECT_TRUE(testing::all_files(dir_.path()).empty());
}

TEST_F(StallTest, ASlowSteadyTrickleCompletes) {
  // 200 bytes every 250 ms: 3000 bytes take about 3.5 s, far past the 1 s stall timeout,
  // but a byte is never more than 250 ms away.
  fake_.set_trickle(200, 250ms);
  const std::string bytes = testing::random_bytes(3000, 23);
  const std::string d = serve_model("m", bytes, BlobFault::kTrickle);
  const auto t0 = Clock::now();
  Status st = pull("m");
  ASSERT_TRUE(st.is_ok()) << st.message();
  EXPECT_GT(seconds_since(t0), 2.0);
  EXPECT_EQ(testing::read_file(store_.blob_path(*store::Digest::parse(d))), bytes);
}

// Through the server: the setting comes from the environment and the client sees the error as
// the stream's last line.
TEST_F(StallTest, ApiPullEndsWithTheStallError) {
  const std::string d = serve_model("m", testing::random_bytes(10000, 24), BlobFault::kStall);
  testing::TempDir models;
  auto server = testing::ServerProcess::start(models.path(), {{"CORRAL_PULL_STALL_TIMEOUT", "2"}});
  ASSERT_TRUE(server);
  const auto t0 = Clock::now();
  auto r = testing::http_post(server->url("/api/pull"), testing::transfer_body(fake_.name("m")));
  const double took = seconds_since(t0);
  ASSERT_EQ(r.status, 200) << r.body;
  const auto records = testing::ndjson(r.body);
  ASSERT_FALSE(records.empty());
  const std::string error = records.back().value("error", "");
  EXPECT_NE(error.find("the registry sent nothing for 2 s (CORRAL_PULL_STALL_TIMEOUT)"), std::string::npos) << r.body;
  EXPECT_GE(took, 2.0);
  EXPECT_LT(took, 6.0);
  EXPECT_TRUE(testing::committed_blobs(models.path()).empty());
  bool partial = false;
  for (const std::string& f : testing::files_in(models.path() + "/blobs"))
    partial |= f.rfind("sha256-" + d.substr(7) + "-partial", 0) == 0;
  EXPECT_TRUE(partial) << "the partial file is kept for the next pull";
}

}  // namespace
}  // namespace corral::registry
