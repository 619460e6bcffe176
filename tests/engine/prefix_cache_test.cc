// Prompt-prefix reuse over a real KV pool (no forward pass: positions are appended directly).
#include "engine/prefix_cache.h"

#include <gtest/gtest.h>

#include <numeric>

#include "common/test_data.h"
#include "model/kv_storage.h"
#include "model/model.h"

namespace corral::engine {
namespace {

std::shared_ptr<model::Model> tiny() {
  static auto m = model::load_model(testing::test_data_path("models/stories260K.gguf"));
  EXPECT_TRUE(m.is_ok()) << m.error();
  return m.value();
}

std::vector<int32_t> iota(int n, int32_t first = 1) {
  std::vector<int32_t> v(static_cast<size_t>(n));
  std::iota(v.begin(), v.end(), first);
  return v;
}

// A sequence holding `tokens` in the cache.
SeqId filled(KvCache& kv, const std::vector<int32_t>& tokens) {
  SeqId s = kv.create();
  const auto n = static_cast<int64_t>(tokens.size());
  EXPECT_TRUE(kv.prepare_append(s, n).is_ok());
  kv.commit_append(s, n);
  return s;
}

TEST(PrefixCache, AnEmptyCacheStartsAFreshSequence) {
  KvCache kv(*tiny(), 64 * model::kKvBlockTokens);
  PrefixCache pc(kv, 4);
  const auto s = pc.start(iota(20), {});
  EXPECT_EQ(s.reused, 0u);
  EXPECT_EQ(kv.length(s.kv), 0);
}

TEST(PrefixCache, ReusesTheLongestKeptPrefixAndDropsOneItContainsWhole) {
  KvCache kv(*tiny(), 64 * model::kKvBlockTokens);
  PrefixCache pc(kv, 4);
  std::vector<int32_t> shorter = iota(10), longer = iota(30), other = iota(40, 100);
  pc.keep(filled(kv, shorter), shorter);
  pc.keep(filled(kv, longer), longer);
  pc.keep(filled(kv, other), other);
  std::vector<int32_t> prompt = iota(25);
  prompt.push_back(999);
  const auto s = pc.start(prompt, {});
  EXPECT_EQ(s.reused, 25u);
  EXPECT_EQ(kv.length(s.kv), 25);
  EXPECT_EQ(pc.size(), 3u) << "the 30-token prefix is only partly inside the prompt: kept";

  std::vector<int32_t> extends = iota(31);
  const auto t = pc.start(extends, {});
  EXPECT_EQ(t.reused, 30u);
  EXPECT_EQ(pc.size(), 2u) << "the new sequence holds all of the 30-token prefix now";
}

TEST(PrefixCache, AlwaysLeavesOnePromptTokenToEvaluate) {
  KvCache kv(*tiny(), 64 * model::kKvBlockTokens);
  PrefixCache pc(kv, 4);
  const auto tokens = iota(20);
  pc.keep(filled(kv, tokens), tokens);
  const auto s = pc.start(tokens, {});
  EXPECT_EQ(s.reused, 19u);
  EXPECT_EQ(pc.size(), 1u);
}

TEST(PrefixCache, ReusesWhatARunningSequenceHasInTheCache) {
  KvCache kv(*tiny(), 64 * model::kKvBlockTokens);
  PrefixCache pc(kv, 4);
  std::vector<int32_t> running_tokens = iota(40);
  const SeqId running = filled(kv, std::vector<int32_t>(running_tokens.begin(), running_tokens.begin() + 24));
  const auto s = pc.start(iota(35), {HeldPrefix{running, &running_tokens, 24}});
  EXPECT_EQ(s.reused, 24u) << "only the positions already cached count";
  EXPECT_NE(s.kv, running);
}

TEST(PrefixCache, KeepsAtMostMaxEntriesAndFreesTheOldest) {
  KvCache kv(*tiny(), 64 * model::kKvBlockTokens);
  PrefixCache pc(kv, 2);
  for (int i = 0; i < 3; ++i) {
    const auto t = iota(16, 100 * i);
    pc.keep(filled(kv, t), t);
  }
  EXPECT_EQ(pc.size(), 2u);
  EXPECT_EQ(kv.used_blocks(), 2);
  EXPECT_EQ(pc.start(iota(17, 0), {}).reused, 0u) << "the oldest prefix is gone";
  EXPECT_EQ(pc.start(iota(17, 200), {}).reused, 16u);
}

TEST(PrefixCache, KeepingNothingFreesTheSequence) {
  KvCache kv(*tiny(), 64 * model::kKvBlockTokens);
  PrefixCache none(kv, 0);
  none.keep(filled(kv, iota(16)), iota(16));
  EXPECT_EQ(none.size(), 0u);
  EXPECT_EQ(kv.used_blocks(), 0);
}

TEST(PrefixCache, MakeRoomDropsPrefixesOldestFirstUntilBlocksAreFree) {
  KvCache kv(*tiny(), 4 * model::kKvBlockTokens);
  PrefixCache pc(kv, 8);
  for (int i = 0; i < 4; ++i) {
    const auto t = iota(model::kKvBlockTokens, 100 * i);
    pc.keep(filled(kv, t), t);
  }
  EXPECT_EQ(kv.free_blocks(), 0);
  EXPECT_TRUE(pc.make_room(2));
  EXPECT_EQ(pc.size(), 2u);
  EXPECT_EQ(pc.start(iota(model::kKvBlockTokens + 1, 300), {}).reused, static_cast<size_t>(model::kKvBlockTokens))
      << "the newest prefixes stay";
  EXPECT_FALSE(pc.make_room(5));
  EXPECT_EQ(pc.size(), 0u);
}

}  // namespace
}  // namespace corral::engine
