// Resumable partial downloads on disk (Ollama's -partial / -partial-N layout) and the upload
// sessions of the registry's write side - no network.
#include <fcntl.h>
#include <unistd.h>

#include <future>
#include <thread>

#include "common/test_data.h"
#include "registry/partial_blob.h"
#include "registry/test_util.h"
#include "registry/upload_sessions.h"

namespace corral::registry {
namespace {

using testing::TempDir;

TEST(PartPlan, FollowsOllamasSplit) {
  PartPlan plan;  // 100 MB .. 1000 MB, 16 parts
  EXPECT_TRUE(plan_parts(0, plan).empty());
  EXPECT_EQ(plan_parts(5, plan).size(), 1u);
  auto parts = plan_parts(250'000'000, plan);
  ASSERT_EQ(parts.size(), 3u);  // 100 MB, 100 MB, 50 MB
  EXPECT_EQ(parts[2].offset, 200'000'000);
  EXPECT_EQ(parts[2].size, 50'000'000);
  EXPECT_EQ(plan_parts(int64_t{32} << 30, plan).size(), 35u);  // 1000 MB parts
  plan.min_part_size = 10;
  auto small = plan_parts(100, plan);
  ASSERT_EQ(small.size(), 10u);
  for (size_t i = 0; i < small.size(); ++i) EXPECT_EQ(small[i].n, static_cast<int>(i));
}

class PartialBlobTest : public ::testing::Test {
 protected:
  TempDir dir_;
  store::Store store_{dir_.path()};
  const std::string bytes_ = testing::random_bytes(1000, 1);
  const store::Digest digest_ = store::Sha256::of(bytes_);
  PartPlan plan_{.min_part_size = 300, .max_part_size = 300, .target_parts = 16};
  CancelFlag cancel_{false};

  std::unique_ptr<PartialBlob> acquire() {
    auto r = PartialBlob::acquire(store_, digest_, static_cast<int64_t>(bytes_.size()), plan_, cancel_);
    EXPECT_TRUE(r.is_ok()) << r.error();
    if (!r.is_ok() || !*r) return nullptr;
    return std::move(**r);
  }
  // Writes part i's first `n` bytes as a download would, and records them.
  void fill(PartialBlob& b, size_t i, int64_t n) {
    PartState& p = b.parts()[i];
    ASSERT_EQ(::pwrite(b.fd(), bytes_.data() + p.offset, static_cast<size_t>(n), p.offset), n);
    p.completed = n;
    ASSERT_TRUE(b.save_part(i).is_ok());
  }
};

TEST_F(PartialBlobTest, WritesOllamasPartFilesAndResumesFromThem) {
  {
    auto b = acquire();
    ASSERT_TRUE(b);
    ASSERT_EQ(b->parts().size(), 4u);  // 300, 300, 300, 100
    fill(*b, 0, 300);
    fill(*b, 2, 120);
  }
  const std::string hex = digest_.hex();
  EXPECT_EQ(testing::files_in(dir_.path() + "/blobs"),
            (std::vector<std::string>{"sha256-" + hex + "-partial", "sha256-" + hex + "-partial-0",
                                      "sha256-" + hex + "-partial-1", "sha256-" + hex + "-partial-2",
                                      "sha256-" + hex + "-partial-3"}));
  EXPECT_EQ(testing::read_file(dir_.path() + "/blobs/sha256-" + hex + "-partial-2"),
            "{\"N\":2,\"Offset\":600,\"Size\":300,\"Completed\":120}\n");
  auto b = acquire();
  ASSERT_TRUE(b);
  EXPECT_EQ(b->completed(), 420);
  EXPECT_EQ(b->parts()[2].completed, 120);
  fill(*b, 1, 300);
  fill(*b, 2, 300);
  fill(*b, 3, 100);
  ASSERT_TRUE(b->complete());
  ASSERT_TRUE(b->verify().is_ok());
  ASSERT_TRUE(b->commit().is_ok());
  EXPECT_EQ(testing::files_in(dir_.path() + "/blobs"), (std::vector<std::string>{"sha256-" + hex}));
  EXPECT_EQ(testing::read_file(store_.blob_path(digest_)), bytes_);
  // Now it is simply there.
  auto again = PartialBlob::acquire(store_, digest_, 1000, plan_, cancel_);
  ASSERT_TRUE(again.is_ok());
  EXPECT_FALSE(*again);
}

TEST_F(PartialBlobTest, InconsistentPartsStartOver) {
  {
    auto b = acquire();
    fill(*b, 0, 300);
  }
  // A part file that does not tile the blob (another plan, or damage): nothing is trusted.
  const std::string p1 = dir_.path() + "/blobs/sha256-" + digest_.hex() + "-partial-1";
  ASSERT_EQ(::truncate(p1.c_str(), 0), 0);
  auto b = acquire();
  ASSERT_TRUE(b);
  EXPECT_EQ(b->completed(), 0);
  // Another declared size: also afresh.
  b.reset();
  { fill(*acquire(), 0, 300); }
  auto other = PartialBlob::acquire(store_, digest_, 999, plan_, cancel_);
  ASSERT_TRUE(other.is_ok() && *other);
  EXPECT_EQ((**other)->completed(), 0);
}

TEST_F(PartialBlobTest, AMismatchDeletesThePartialFiles) {
  auto b = acquire();
  for (size_t i = 0; i < b->parts().size(); ++i) {
    PartState& p = b->parts()[i];
    std::string wrong(static_cast<size_t>(p.size), 'x');
    ASSERT_EQ(::pwrite(b->fd(), wrong.data(), wrong.size(), p.offset), p.size);
    p.completed = p.size;
  }
  Status st = b->verify();
  ASSERT_FALSE(st.is_ok());
  EXPECT_NE(st.message().find("digest mismatch"), std::string::npos) << st.message();
  EXPECT_TRUE(testing::files_in(dir_.path() + "/blobs").empty());
}

TEST_F(PartialBlobTest, OneDownloadPerBlobAtATime) {
  auto first = acquire();
  ASSERT_TRUE(first);
  auto second =
      std::async(std::launch::async, [&] { return PartialBlob::acquire(store_, digest_, 1000, plan_, cancel_); });
  EXPECT_EQ(second.wait_for(std::chrono::milliseconds(300)), std::future_status::timeout);
  for (size_t i = 0; i < first->parts().size(); ++i) fill(*first, i, first->parts()[i].size);
  ASSERT_TRUE(first->verify().is_ok());
  ASSERT_TRUE(first->commit().is_ok());
  first.reset();  // releases the lock: the waiter finds the committed blob
  auto r = second.get();
  ASSERT_TRUE(r.is_ok()) << r.error();
  EXPECT_FALSE(*r);
  // A cancelled waiter gives up.
  CancelFlag cancelled{true};
  EXPECT_FALSE(PartialBlob::acquire(store_, store::Sha256::of("other"), 5, plan_, cancelled).is_ok());
}

TEST(UploadSessions, OnlyAVerifiedUploadReachesTheStore) {
  TempDir dir;
  store::Store store(dir.path());
  UploadSessions uploads(store, 2);
  const std::string data = "hello, registry";
  const store::Digest d = store::Sha256::of(data);
  std::string id;
  ASSERT_TRUE(uploads.begin("library/m", &id).ok());
  EXPECT_TRUE(uploads.append(id, "library/m", 0, data.substr(0, 5)).ok());
  EXPECT_EQ(uploads.append(id, "library/m", 3, "xx").error, UploadError::kBadRange);     // not where it stands
  EXPECT_EQ(uploads.append(id, "library/other", 5, "xx").error, UploadError::kUnknown);  // another repository
  auto r = uploads.append(id, "library/m", 5, data.substr(5));
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(r.size, static_cast<int64_t>(data.size()));
  EXPECT_EQ(uploads.size(id, "library/m"), static_cast<int64_t>(data.size()));
  EXPECT_TRUE(uploads.finish(id, "library/m", d, "").ok());
  EXPECT_TRUE(store.has_blob(d));
  EXPECT_EQ(uploads.finish(id, "library/m", d, "").error, UploadError::kUnknown);  // finished

  // Wrong bytes for the digest: nothing is kept, not even a temp file.
  ASSERT_TRUE(uploads.begin("library/m", &id).ok());
  auto bad = uploads.finish(id, "library/m", store::Sha256::of("something else"), "not it");
  EXPECT_EQ(bad.error, UploadError::kDigestInvalid);
  EXPECT_EQ(testing::files_in(dir.path() + "/blobs"), (std::vector<std::string>{"sha256-" + d.hex()}));

  // Bounded, and abandoned sessions leave nothing.
  std::string a, b, c;
  ASSERT_TRUE(uploads.begin("library/m", &a).ok());
  ASSERT_TRUE(uploads.begin("library/m", &b).ok());
  EXPECT_EQ(uploads.begin("library/m", &c).error, UploadError::kBusy);
  uploads.cancel(a, "library/m");
  EXPECT_TRUE(uploads.begin("library/m", &c).ok());
}

}  // namespace
}  // namespace corral::registry
