// Prompt positions shared between running sequences, over a real KV pool (no forward pass:
// positions are appended directly, as the step would).
#include "engine/prefill_sharing.h"

#include <gtest/gtest.h>

#include <numeric>

#include "common/test_data.h"
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

// What a step does to a sequence given n tokens.
void feed(KvCache& kv, Sequence& s, size_t n) {
  ASSERT_TRUE(kv.prepare_append(s.kv, static_cast<int64_t>(n)).is_ok());
  kv.commit_append(s.kv, static_cast<int64_t>(n));
  s.n_fed += n;
  if (s.n_fed >= s.n_prompt) s.state = Sequence::State::kDecoding;
}

// A prefilling sequence with `prompt`, its first n_fed positions cached.
std::unique_ptr<Sequence> prefilling(KvCache& kv, std::vector<int32_t> prompt, size_t n_fed = 0) {
  auto s = std::make_unique<Sequence>();
  s->state = Sequence::State::kPrefilling;
  s->tokens = std::move(prompt);
  s->n_prompt = s->tokens.size();
  s->kv = kv.create();
  feed(kv, *s, n_fed);
  return s;
}

TEST(PrefillSharing, SamePromptTogetherIsPrefilledOnceThenForked) {
  KvCache kv(*tiny(), 64 * model::kKvBlockTokens);
  auto a = prefilling(kv, iota(40));
  auto b = prefilling(kv, iota(40));
  auto c = prefilling(kv, iota(40));
  std::vector<Sequence*> all{a.get(), b.get(), c.get()};

  PrefillSharing p = share_prefills(all, kv);
  ASSERT_EQ(p.run, std::vector<Sequence*>{a.get()});  // b and c wait for a
  EXPECT_EQ(p.shared_tokens, 0);

  feed(kv, *a, 25);  // a chunk of a's prompt
  p = share_prefills(all, kv);
  EXPECT_EQ(p.run, std::vector<Sequence*>{a.get()});  // b and c took a's 25 and wait again
  EXPECT_EQ(b->n_fed, 25u);
  EXPECT_EQ(c->n_fed, 25u);
  EXPECT_EQ(kv.length(b->kv), 25);
  EXPECT_EQ(p.shared_tokens, 50);
  EXPECT_EQ(p.first_hits, 2);

  feed(kv, *a, 15);  // a is done with its prompt and decodes
  const int64_t used_before = kv.used_blocks();
  p = share_prefills(all, kv);
  EXPECT_EQ(p.run, all);
  // Each keeps its last prompt position to evaluate itself (its first logits).
  EXPECT_EQ(b->n_fed, 39u);
  EXPECT_EQ(c->n_fed, 39u);
  EXPECT_EQ(b->stats.cached_tokens, 39);
  EXPECT_EQ(p.shared_tokens, 28);
  EXPECT_EQ(p.first_hits, 0);  // b and c were counted when they first took a's positions
  // Shared copy-on-write: forking took no new blocks.
  EXPECT_LE(kv.used_blocks(), used_before);
}

TEST(PrefillSharing, DifferentPromptsRunSideBySide) {
  KvCache kv(*tiny(), 64 * model::kKvBlockTokens);
  auto a = prefilling(kv, iota(40));
  auto b = prefilling(kv, iota(40, 500));
  std::vector<Sequence*> all{a.get(), b.get()};
  const PrefillSharing p = share_prefills(all, kv);
  EXPECT_EQ(p.run, all);
  EXPECT_EQ(p.shared_tokens, 0);
  EXPECT_EQ(b->n_fed, 0u);
}

TEST(PrefillSharing, APartlySharedPromptTakesTheCommonPartAndGoesOn) {
  KvCache kv(*tiny(), 64 * model::kKvBlockTokens);
  auto a = prefilling(kv, iota(40), 40);  // decoding already
  std::vector<int32_t> mixed = iota(10);
  for (int32_t t : iota(30, 900)) mixed.push_back(t);
  auto b = prefilling(kv, mixed);
  std::vector<Sequence*> all{a.get(), b.get()};
  const PrefillSharing p = share_prefills(all, kv);
  EXPECT_EQ(p.run, all);
  EXPECT_EQ(b->n_fed, 10u);
  EXPECT_EQ(kv.length(b->kv), 10);
}

TEST(PrefillSharing, TakesFromALaterSequenceTooThenOnlyTheEarlierComputes) {
  KvCache kv(*tiny(), 64 * model::kKvBlockTokens);
  auto a = prefilling(kv, iota(40));
  auto b = prefilling(kv, iota(40), 16);  // admitted later, got 16 positions from the prefix cache
  std::vector<Sequence*> all{a.get(), b.get()};
  const PrefillSharing p = share_prefills(all, kv);
  // a goes on from b's 16 positions; then both stand at 16 and only a computes what follows.
  EXPECT_EQ(p.run, std::vector<Sequence*>{a.get()});
  EXPECT_EQ(a->n_fed, 16u);
  EXPECT_EQ(b->n_fed, 16u);
}

// gemma3's sliding-window layers (window 32 in the synthetic file) free blocks a sequence can
// no longer see: a fork is only taken where the window before it is still held.
TEST(PrefillSharing, SlidingWindowModelsForkOnlyWhereTheWindowIsHeld) {
  auto m = model::load_model(testing::test_data_path("models/synthetic/syn-gemma3-q8_0.gguf"));
  ASSERT_TRUE(m.is_ok()) << m.error();
  KvCache kv(*m.value(), 64 * model::kKvBlockTokens);
  auto a = prefilling(kv, iota(100));
  for (int i = 0; i < 10; ++i) feed(kv, *a, 10);  // step by step, as the engine appends
  // Same prompt: the fork at 99 needs positions >= 68, which a (at 100) still holds.
  auto b = prefilling(kv, iota(100));
  // Shares only the first 40 positions, whose window a gave back long ago.
  std::vector<int32_t> mixed = iota(40);
  for (int32_t t : iota(60, 700)) mixed.push_back(t);
  auto c = prefilling(kv, mixed);
  std::vector<Sequence*> all{a.get(), b.get(), c.get()};
  const PrefillSharing p = share_prefills(all, kv);
  EXPECT_EQ(p.run, all);
  EXPECT_EQ(b->n_fed, 99u);
  EXPECT_EQ(c->n_fed, 0u);
}

TEST(PrefillSharing, EmbeddingsAreLeftAlone) {
  KvCache kv(*tiny(), 64 * model::kKvBlockTokens);
  auto a = prefilling(kv, iota(40), 40);
  auto b = prefilling(kv, iota(40));
  b->embedding = true;
  std::vector<Sequence*> all{a.get(), b.get()};
  const PrefillSharing p = share_prefills(all, kv);
  EXPECT_EQ(p.run, all);
  EXPECT_EQ(b->n_fed, 0u);
}

}  // namespace
}  // namespace corral::engine
