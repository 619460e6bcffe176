// The step plan without a model: decode tokens first, prompt chunks shared round-robin within
// the token budget, and the KV pool's answers deciding what waits and what is evicted.
#include "engine/step_plan.h"

#include <gtest/gtest.h>

namespace corral::engine {
namespace {

Sequence decoding(uint64_t order, SeqId kv) {
  Sequence s;
  s.state = Sequence::State::kDecoding;
  s.order = order;
  s.kv = kv;
  s.tokens = {1, 2, 3};
  s.n_prompt = 2;
  s.n_fed = 2;
  return s;
}

Sequence prefilling(uint64_t order, SeqId kv, size_t prompt, size_t fed = 0) {
  Sequence s;
  s.state = Sequence::State::kPrefilling;
  s.order = order;
  s.kv = kv;
  s.tokens.assign(prompt, 7);
  s.n_prompt = prompt;
  s.n_fed = fed;
  return s;
}

// A pool where every token costs one block and `free` blocks are free; make_room counts calls.
struct FakePool {
  int64_t free = 1 << 20;
  int make_room_calls = 0;
  KvRoom room() {
    return KvRoom{[](const Sequence&, int64_t n) { return KvBlocks{{n}}; },
                  [this](const KvBlocks& blocks) {
                    ++make_room_calls;
                    return blocks.group[0] <= free;
                  }};
  }
};

TEST(StepPlan, DecodeFirstThenPromptChunksRoundRobinWithinTheBudget) {
  Sequence d1 = decoding(0, 1), p_old = prefilling(1, 2, 1000), p_new = prefilling(2, 3, 1000), d2 = decoding(3, 4);
  FakePool pool;
  // Admission order differs from the order of the prompts' arrival: round-robin goes by `order`.
  const StepPlan plan = plan_step({&d1, &p_new, &p_old, &d2}, 202, pool.room());
  ASSERT_EQ(plan.feeds.size(), 4u);
  EXPECT_EQ(plan.feeds[0].seq, &d1);
  EXPECT_EQ(plan.feeds[1].seq, &d2);
  EXPECT_EQ(plan.feeds[0].n_tokens, 1);
  EXPECT_EQ(plan.feeds[0].outputs, Outputs::kLast);
  EXPECT_EQ(plan.feeds[2].seq, &p_old);
  EXPECT_EQ(plan.feeds[3].seq, &p_new);
  // 200 tokens left after the decode tokens, shared evenly; neither chunk ends its prompt.
  EXPECT_EQ(plan.feeds[2].n_tokens, 100);
  EXPECT_EQ(plan.feeds[3].n_tokens, 100);
  EXPECT_EQ(plan.feeds[2].outputs, Outputs::kNone);
  EXPECT_TRUE(plan.evicted.empty());
}

TEST(StepPlan, TheLastPromptChunkAsksForLogitsAndLeavesTheRestToOthers) {
  Sequence short_prompt = prefilling(0, 1, 50, 40), long_prompt = prefilling(1, 2, 1000);
  FakePool pool;
  const StepPlan plan = plan_step({&short_prompt, &long_prompt}, 512, pool.room());
  ASSERT_EQ(plan.feeds.size(), 2u);
  EXPECT_EQ(plan.feeds[0].n_tokens, 10);
  EXPECT_EQ(plan.feeds[0].outputs, Outputs::kLast);
  EXPECT_EQ(plan.feeds[1].n_tokens, 502);
}

TEST(StepPlan, PromptsStillGetAMinimumChunkWhenDecodingFillsTheBudget) {
  std::vector<Sequence> ds;
  for (int i = 0; i < 8; ++i) ds.push_back(decoding(static_cast<uint64_t>(i), i + 1));
  Sequence p = prefilling(9, 20, 500);
  std::vector<Sequence*> running;
  for (auto& d : ds) running.push_back(&d);
  running.push_back(&p);
  FakePool pool;
  const StepPlan plan = plan_step(running, 8, pool.room());
  ASSERT_EQ(plan.feeds.size(), 9u);
  EXPECT_EQ(plan.feeds.back().n_tokens, kMinPromptChunk);
}

TEST(StepPlan, PromptChunksWaitWhenTheKvPoolIsShort) {
  Sequence d = decoding(0, 1), p = prefilling(1, 2, 100);
  FakePool pool;
  pool.free = 50;  // the decode token fits, the 100-token chunk does not
  const StepPlan plan = plan_step({&d, &p}, 512, pool.room());
  ASSERT_EQ(plan.feeds.size(), 1u);
  EXPECT_EQ(plan.feeds[0].seq, &d);
  EXPECT_TRUE(plan.evicted.empty());
  EXPECT_EQ(pool.make_room_calls, 2);
}

TEST(StepPlan, DecodingSequencesThatDoNotFitEvictTheNewest) {
  Sequence a = decoding(0, 1), b = decoding(1, 2), c = decoding(2, 3);
  FakePool pool;
  pool.free = 1;
  const StepPlan plan = plan_step({&a, &b, &c}, 512, pool.room());
  ASSERT_EQ(plan.feeds.size(), 1u);
  EXPECT_EQ(plan.feeds[0].seq, &a);
  ASSERT_EQ(plan.evicted.size(), 2u);
  EXPECT_EQ(plan.evicted[0], &c);
  EXPECT_EQ(plan.evicted[1], &b);
}

TEST(StepPlan, NothingRunningPlansNothing) {
  Sequence waiting;  // not admitted yet
  Sequence done = decoding(0, 1);
  done.finish(FinishReason::kStop);
  FakePool pool;
  const StepPlan plan = plan_step({&waiting, &done}, 512, pool.room());
  EXPECT_TRUE(plan.feeds.empty());
  EXPECT_EQ(pool.make_room_calls, 0);
}

TEST(StepPlan, FeedsCarryEachSequencesNextTokens) {
  Sequence d = decoding(0, 5), p = prefilling(1, 6, 4, 1);
  p.tokens = {10, 11, 12, 13};
  FakePool pool;
  const std::vector<SeqFeed> feeds = feeds_for(plan_step({&d, &p}, 512, pool.room()));
  ASSERT_EQ(feeds.size(), 2u);
  EXPECT_EQ(feeds[0].seq, 5);
  EXPECT_EQ(feeds[0].tokens, std::vector<int32_t>{3});
  EXPECT_EQ(feeds[1].seq, 6);
  EXPECT_EQ(feeds[1].tokens, (std::vector<int32_t>{11, 12, 13}));
  EXPECT_EQ(feeds[1].outputs, Outputs::kLast);
}

// An encoder's input goes whole, with every token's output: the oldest prompt even over the
// budget; a later one that does not fit waits rather than being cut.
TEST(StepPlan, EncoderInputsAreNeverChunked) {
  Sequence big = prefilling(0, 1, 300), small = prefilling(1, 2, 20), other = prefilling(2, 3, 250);
  for (Sequence* s : {&big, &small, &other}) s->encoder = true;
  FakePool pool;
  StepPlan plan = plan_step({&big, &small, &other}, 256, pool.room());
  ASSERT_EQ(plan.feeds.size(), 1u);  // the oldest alone fills more than the budget
  EXPECT_EQ(plan.feeds[0].seq, &big);
  EXPECT_EQ(plan.feeds[0].n_tokens, 300);
  EXPECT_EQ(plan.feeds[0].outputs, Outputs::kAll);

  big.state = Sequence::State::kFinished;
  plan = plan_step({&big, &small, &other}, 256, pool.room());
  ASSERT_EQ(plan.feeds.size(), 1u);  // 20 + 250 > 256: the second waits whole
  EXPECT_EQ(plan.feeds[0].seq, &small);
  EXPECT_EQ(plan.feeds[0].n_tokens, 20);

  plan = plan_step({&big, &small, &other}, 512, pool.room());
  ASSERT_EQ(plan.feeds.size(), 2u);  // both fit: one step
  EXPECT_EQ(plan.feeds[1].seq, &other);
  EXPECT_EQ(plan.feeds[1].n_tokens, 250);
  EXPECT_EQ(plan.feeds[1].outputs, Outputs::kAll);
}

// Tenants share the prompt budget equally, however many prompts each has; better priorities
// go first. With one tenant the plan is the plain round robin above.
TEST(StepPlan, TenantsShareThePromptBudgetEquallyBetterPrioritiesFirst) {
  Sequence a1 = prefilling(0, 1, 1000), a2 = prefilling(1, 2, 1000), a3 = prefilling(2, 3, 1000);
  Sequence b1 = prefilling(3, 4, 1000);
  a1.tenant = a2.tenant = a3.tenant = 1;
  b1.tenant = 2;
  FakePool pool;
  StepPlan plan = plan_step({&a1, &a2, &a3, &b1}, 300, pool.room());
  ASSERT_EQ(plan.feeds.size(), 4u);
  int64_t a_tokens = 0, b_tokens = 0;
  for (const PlannedFeed& f : plan.feeds) (f.seq == &b1 ? b_tokens : a_tokens) += f.n_tokens;
  EXPECT_EQ(a_tokens, 150);
  EXPECT_EQ(b_tokens, 150);

  // b's prompt has the better priority: it is planned first and takes its tenant's half.
  b1.priority = -1;
  plan = plan_step({&a1, &a2, &a3, &b1}, 300, pool.room());
  ASSERT_FALSE(plan.feeds.empty());
  EXPECT_EQ(plan.feeds[0].seq, &b1);
  EXPECT_EQ(plan.feeds[0].n_tokens, 150);

  // A tenant that needs less than its share leaves the rest to the others.
  Sequence c1 = prefilling(4, 5, 40);
  c1.tenant = 3;
  plan = plan_step({&c1, &a1}, 300, pool.room());
  ASSERT_EQ(plan.feeds.size(), 2u);
  EXPECT_EQ(plan.feeds[0].n_tokens + plan.feeds[1].n_tokens, 300);
}

}  // namespace
}  // namespace corral::engine
