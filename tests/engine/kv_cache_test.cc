#include "engine/kv_cache.h"

#include <gtest/gtest.h>

#include "common/test_data.h"
#include "model/model.h"

namespace corral::engine {
namespace {

using model::kKvBlockTokens;

std::shared_ptr<model::Model> tiny() {
  static auto m = model::load_model(testing::test_data_path("models/stories260K.gguf"));
  EXPECT_TRUE(m.is_ok()) << m.error();
  return m.value();
}

TEST(KvCache, AllocatesBlocksAsSequencesGrow) {
  KvCache kv(*tiny(), 10 * kKvBlockTokens);
  EXPECT_EQ(kv.capacity_blocks(), 10);
  SeqId a = kv.create();
  EXPECT_EQ(kv.blocks_needed(a, 1).group[0], 1);
  ASSERT_TRUE(kv.prepare_append(a, 20).is_ok());
  kv.commit_append(a, 20);
  EXPECT_EQ(kv.length(a), 20);
  EXPECT_EQ(kv.blocks(a).size(), 2u);
  EXPECT_EQ(kv.used_blocks(), 2);
  EXPECT_EQ(kv.blocks_needed(a, 12).group[0], 0);  // fits in the partial block
  EXPECT_EQ(kv.blocks_needed(a, 13).group[0], 1);
  kv.free(a);
  EXPECT_EQ(kv.used_blocks(), 0);
}

TEST(KvCache, FullPoolFailsWithoutChangingAnything) {
  KvCache kv(*tiny(), 2 * kKvBlockTokens);
  SeqId a = kv.create();
  ASSERT_TRUE(kv.prepare_append(a, kKvBlockTokens + 1).is_ok());
  kv.commit_append(a, kKvBlockTokens + 1);
  SeqId b = kv.create();
  Status s = kv.prepare_append(b, 1);
  EXPECT_FALSE(s.is_ok());
  EXPECT_NE(s.message().find("KV cache full"), std::string::npos);
  EXPECT_EQ(kv.blocks(b).size(), 0u);
  EXPECT_EQ(kv.used_blocks(), 2);
}

TEST(KvCache, HandsOutTheLowestFreeBlockFirst) {
  KvCache kv(*tiny(), 10 * kKvBlockTokens);
  std::vector<SeqId> seqs;
  for (int64_t tokens : {2 * kKvBlockTokens, 2 * kKvBlockTokens, 1}) {
    seqs.push_back(kv.create());
    ASSERT_TRUE(kv.prepare_append(seqs.back(), tokens).is_ok());
    kv.commit_append(seqs.back(), tokens);
  }
  EXPECT_EQ(kv.blocks(seqs[1]), (std::vector<int32_t>{2, 3}));
  kv.free(seqs[1]);
  SeqId d = kv.create();
  ASSERT_TRUE(kv.prepare_append(d, 3 * kKvBlockTokens).is_ok());
  EXPECT_EQ(kv.blocks(d), (std::vector<int32_t>{2, 3, 5}));
}

TEST(KvCache, AnExtentsPagesGoBackWhenItsLastBlockIsFreed) {
  KvCache kv(*tiny(), 200 * kKvBlockTokens);
  ASSERT_GE(kv.storage().blocks_per_extent(0), 2);
  SeqId a = kv.create(), b = kv.create();
  for (SeqId s : {a, b}) {
    ASSERT_TRUE(kv.prepare_append(s, 1).is_ok());
    kv.commit_append(s, 1);
    static_cast<float*>(kv.storage().k(kv.blocks(s)[0], 0, 0))[0] = 7.0f;
  }
  const int32_t ba = kv.blocks(a)[0], bb = kv.blocks(b)[0];
  ASSERT_EQ(ba / kv.storage().blocks_per_extent(0), bb / kv.storage().blocks_per_extent(0));
  kv.free(b);  // a still uses the extent: nothing is dropped
  EXPECT_EQ(static_cast<float*>(kv.storage().k(ba, 0, 0))[0], 7.0f);
  EXPECT_EQ(static_cast<float*>(kv.storage().k(bb, 0, 0))[0], 7.0f);
  kv.free(a);  // the extent's last block: its pages go back and read as zero
  EXPECT_EQ(static_cast<float*>(kv.storage().k(ba, 0, 0))[0], 0.0f);
  EXPECT_EQ(static_cast<float*>(kv.storage().k(bb, 0, 0))[0], 0.0f);
}

TEST(KvCache, ForkSharesBlocksAndCopiesOnWrite) {
  KvCache kv(*tiny(), 10 * kKvBlockTokens);
  SeqId a = kv.create();
  ASSERT_TRUE(kv.prepare_append(a, 20).is_ok());
  // Mark the data so the copy can be checked.
  auto* k = static_cast<float*>(kv.storage().k(kv.blocks(a)[1], 0, 0));
  k[0] = 42.0f;
  kv.commit_append(a, 20);
  SeqId b = kv.fork(a, 20);
  EXPECT_EQ(kv.used_blocks(), 2);  // shared
  EXPECT_EQ(kv.blocks(b), kv.blocks(a));
  // b appends into the shared partial block: it gets a private copy holding the same data.
  EXPECT_EQ(kv.blocks_needed(b, 1).group[0], 1);
  ASSERT_TRUE(kv.prepare_append(b, 1).is_ok());
  kv.commit_append(b, 1);
  EXPECT_EQ(kv.blocks(b)[0], kv.blocks(a)[0]);
  EXPECT_NE(kv.blocks(b)[1], kv.blocks(a)[1]);
  EXPECT_EQ(static_cast<const float*>(kv.storage().k(kv.blocks(b)[1], 0, 0))[0], 42.0f);
  EXPECT_EQ(kv.used_blocks(), 3);
  kv.free(a);
  EXPECT_EQ(kv.used_blocks(), 2);  // block 0 still used by b
  kv.free(b);
  EXPECT_EQ(kv.used_blocks(), 0);
}

TEST(KvCache, ForkOfAPrefixAndTruncate) {
  KvCache kv(*tiny(), 10 * kKvBlockTokens);
  SeqId a = kv.create();
  ASSERT_TRUE(kv.prepare_append(a, 40).is_ok());
  kv.commit_append(a, 40);
  SeqId b = kv.fork(a, 17);
  EXPECT_EQ(kv.length(b), 17);
  EXPECT_EQ(kv.blocks(b).size(), 2u);
  kv.truncate(a, 10);
  EXPECT_EQ(kv.length(a), 10);
  EXPECT_EQ(kv.blocks(a).size(), 1u);
  EXPECT_EQ(kv.used_blocks(), 2);  // block 2 of a freed; block 1 still held by b
  kv.truncate(b, 0);
  EXPECT_EQ(kv.blocks(b).size(), 0u);
  EXPECT_EQ(kv.used_blocks(), 1);
}

}  // namespace
}  // namespace corral::engine
