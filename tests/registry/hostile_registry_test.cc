// The pull client against a registry that lies: every hostile or broken answer ends in a clean
// error and nothing in the store (no manifest, no committed blob); transfers that break off
// resume where they stopped.
#include <gtest/gtest.h>

#include <future>

#include "common/test_data.h"
#include "registry/fake_registry.h"
#include "registry/pull.h"
#include "registry/test_util.h"

namespace corral::registry {
namespace {

using testing::BlobFault;

class HostileRegistry : public ::testing::Test {
 protected:
  testing::TempDir dir_;
  store::Store store_{dir_.path()};
  testing::FakeRegistry fake_;
  std::vector<Progress> seen_;

  // Retries are quick here: the faults are deterministic.
  static PullOptions options() {
    PullOptions o;
    o.insecure = true;
    o.download.retry_base_ms = 5;
    return o;
  }
  Status pull(const std::string& model, const PullOptions& opt = options()) {
    CancelFlag cancel{false};
    seen_.clear();
    return pull_model(
        store_, fake_.name(model), opt, [&](const Progress& p) { seen_.push_back(p); }, cancel);
  }
  void expect_nothing_committed() {
    EXPECT_TRUE(testing::all_files(dir_.path() + "/manifests").empty());
    EXPECT_TRUE(testing::committed_blobs(dir_.path()).empty());
  }
  // A model whose one layer is `bytes`, served with `fault`.
  std::string serve_model(const std::string& model, const std::string& bytes, BlobFault fault = BlobFault::kNone) {
    const std::string d = store::Sha256::of(bytes).str();
    fake_.set_blob(d, bytes, fault);
    fake_.set_manifest(model, testing::manifest_json({{d, static_cast<int64_t>(bytes.size())}}));
    return d;
  }
};

void expect_error(const Status& st, const std::string& part) {
  ASSERT_FALSE(st.is_ok());
  EXPECT_NE(st.message().find(part), std::string::npos) << st.message();
}

TEST_F(HostileRegistry, PathsAndNonHexDigestsAreRefusedBeforeTouchingTheDisk) {
  fake_.set_manifest("passwd", testing::manifest_json({{"sha256:../../etc/passwd", 10}}));
  expect_error(pull("passwd"), "pull model manifest: invalid manifest");
  fake_.set_manifest("nonhex", testing::manifest_json({{"sha256:" + std::string(64, 'z'), 10}}));
  expect_error(pull("nonhex"), "invalid manifest");
  fake_.set_manifest("upper", testing::manifest_json({{"sha256:" + std::string(64, 'A'), 10}}));
  expect_error(pull("upper"), "invalid manifest");
  fake_.set_manifest("cfg", testing::manifest_json({{"sha256:" + std::string(64, 'a'), 10}}, "sha256:..", 5));
  expect_error(pull("cfg"), "invalid manifest");
  EXPECT_TRUE(testing::all_files(dir_.path()).empty());
  EXPECT_EQ(fake_.blob_requests(), 0);
}

TEST_F(HostileRegistry, AHugeDeclaredSizeIsRefused) {
  fake_.set_manifest("huge", testing::manifest_json({{"sha256:" + std::string(64, 'a'), int64_t{1} << 50}}));
  expect_error(pull("huge"), "declares");
  EXPECT_TRUE(testing::all_files(dir_.path()).empty());
}

TEST_F(HostileRegistry, BadManifestAnswers) {
  fake_.set_manifest("html", "<html>not json</html>");
  expect_error(pull("html"), "invalid manifest");
  fake_.set_manifest("big", std::string(5 << 20, ' '));
  expect_error(pull("big"), "larger than");
  expect_error(pull("absent"), "pull model manifest: file does not exist");
  fake_.set_manifest("auth", R"({"errors":[{"code":"UNAUTHORIZED"}]})", 401);
  expect_error(pull("auth"), "401");
  fake_.set_manifest("down", "oops", 503);
  expect_error(pull("down"), "503");
  EXPECT_TRUE(testing::all_files(dir_.path()).empty());
}

TEST_F(HostileRegistry, BytesThatDoNotMatchTheDigestAreDeleted) {
  const std::string good = testing::random_bytes(5000, 7);
  std::string bad = good;
  bad[100] ^= 1;
  const std::string d = store::Sha256::of(good).str();
  fake_.set_blob(d, bad);
  fake_.set_manifest("m", testing::manifest_json({{d, 5000}}));
  expect_error(pull("m"), "digest mismatch");
  expect_nothing_committed();
  EXPECT_TRUE(testing::files_in(dir_.path() + "/blobs").empty());  // no partial worth resuming
}

TEST_F(HostileRegistry, ATruncatedBlobFailsAndTheNextPullResumes) {
  const std::string bytes = testing::random_bytes(10000, 3);
  const std::string d = serve_model("m", bytes, BlobFault::kTruncate);
  expect_error(pull("m"), "giving up");
  expect_nothing_committed();
  const int64_t first = fake_.bytes_served();
  EXPECT_EQ(first, 5000);  // the first half; every retry got nothing more

  fake_.set_blob(d, bytes, BlobFault::kNone);
  ASSERT_TRUE(pull("m").is_ok());
  EXPECT_EQ(fake_.bytes_served() - first, 5000) << "the resume fetched only the missing half";
  EXPECT_TRUE(store_.has_blob(*store::Digest::parse(d)));
  EXPECT_TRUE(store_.find(*store::ModelName::parse(fake_.name("m"))).is_ok());
}

TEST_F(HostileRegistry, AResumeWorksWithARegistryThatIgnoresRange) {
  const std::string bytes = testing::random_bytes(10000, 4);
  const std::string d = serve_model("m", bytes, BlobFault::kTruncate);
  EXPECT_FALSE(pull("m").is_ok());
  fake_.set_blob(d, bytes, BlobFault::kIgnoreRange);  // 200 with everything: the client skips
  ASSERT_TRUE(pull("m").is_ok());
  EXPECT_EQ(testing::committed_blobs(dir_.path()).size(), 1u);
}

TEST_F(HostileRegistry, MoreBytesThanDeclaredAreNotWritten) {
  const std::string bytes = testing::random_bytes(3000, 5);
  serve_model("m", bytes, BlobFault::kGarbageTail);
  ASSERT_TRUE(pull("m").is_ok());
  EXPECT_EQ(testing::read_file(store_.blob_path(store::Sha256::of(bytes))), bytes);
}

TEST_F(HostileRegistry, AWrongContentRangeFails) {
  PullOptions opt = options();
  opt.download.plan.min_part_size = 1000;  // several ranged requests
  serve_model("m", testing::random_bytes(3000, 6), BlobFault::kWrongRange);
  expect_error(pull("m", opt), "Content-Range");
  expect_nothing_committed();
}

TEST_F(HostileRegistry, ServerErrorsAreRetriedThenReported) {
  serve_model("m", testing::random_bytes(100, 8), BlobFault::kStatus500);
  expect_error(pull("m"), "500");
  EXPECT_EQ(fake_.blob_requests(), options().download.max_fruitless_tries);
  fake_.set_manifest("gone", testing::manifest_json({{"sha256:" + std::string(64, 'e'), 10}}));
  expect_error(pull("gone"), "404");  // a missing blob is not retried
  expect_nothing_committed();
}

TEST_F(HostileRegistry, ALargeBlobComesInRangedParts) {
  PullOptions opt = options();
  opt.download.plan.min_part_size = 1000;
  opt.download.max_connections = 4;
  const std::string bytes = testing::random_bytes(10500, 9);
  const std::string d = serve_model("m", bytes, BlobFault::kNone);
  ASSERT_TRUE(pull("m", opt).is_ok());
  EXPECT_EQ(fake_.blob_requests(), 11);  // ten 1000-byte parts and one of 500
  EXPECT_EQ(fake_.bytes_served(), 10500);
  EXPECT_EQ(testing::read_file(store_.blob_path(*store::Digest::parse(d))), bytes);
  // Ollama's sequence of statuses.
  ASSERT_FALSE(seen_.empty());
  EXPECT_EQ(seen_.front().status, "pulling manifest");
  EXPECT_EQ(seen_[1].status, "pulling " + d.substr(7, 12));
  EXPECT_EQ(seen_[1].digest, d);
  EXPECT_EQ(seen_[1].total, 10500);
  std::vector<std::string> tail;
  for (const Progress& p : seen_)
    if (p.digest.empty()) tail.push_back(p.status);
  EXPECT_EQ(tail,
            (std::vector<std::string>{"pulling manifest", "verifying sha256 digest", "writing manifest", "success"}));
}

TEST_F(HostileRegistry, PullsSharingBlobsInOppositeOrdersDoNotDeadlock) {
  const std::string a = testing::random_bytes(2000, 12), b = testing::random_bytes(2000, 13);
  const std::string da = store::Sha256::of(a).str(), db = store::Sha256::of(b).str();
  fake_.set_blob(da, a);
  fake_.set_blob(db, b);
  fake_.set_manifest("ab", testing::manifest_json({{da, 2000}, {db, 2000}}));
  fake_.set_manifest("ba", testing::manifest_json({{db, 2000}, {da, 2000}}));
  fake_.set_blob_delay(std::chrono::milliseconds(200));  // both pulls are mid-download together
  CancelFlag c1{false}, c2{false};
  auto run = [&](const std::string& model, CancelFlag& c) {
    return std::async(std::launch::async,
                      [&, model] { return pull_model(store_, fake_.name(model), options(), nullptr, c); });
  };
  auto f1 = run("ab", c1);
  auto f2 = run("ba", c2);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  const bool finished =
      f1.wait_until(deadline) == std::future_status::ready && f2.wait_until(deadline) == std::future_status::ready;
  c1 = c2 = true;  // unblocks a deadlock, if there was one, so the test can end
  EXPECT_TRUE(finished) << "the two pulls waited on each other";
  EXPECT_TRUE(f1.get().is_ok());
  EXPECT_TRUE(f2.get().is_ok());
  EXPECT_EQ(testing::committed_blobs(dir_.path()).size(), 2u);
}

TEST_F(HostileRegistry, ACancelledPullLeavesOnlyPartialFiles) {
  serve_model("m", testing::random_bytes(1000, 10));
  CancelFlag cancel{true};
  Status st = pull_model(store_, fake_.name("m"), options(), nullptr, cancel);
  expect_error(st, "cancelled");
  expect_nothing_committed();
}

}  // namespace
}  // namespace corral::registry
