// Who gives up a slot, without a model (scheduler/preemption.h), and how a preempted job goes
// back into the fair queue (FairQueue::requeue, peek).
#include "scheduler/preemption.h"

#include <gtest/gtest.h>

#include "scheduler/fair_queue.h"

namespace corral::scheduler {
namespace {

const std::string kA = "a", kB = "b", kC = "c";

SlotHolder holder(const std::string& tenant, uint64_t order, int priority = 0) {
  return SlotHolder{.priority = priority, .tenant = &tenant, .order = order};
}

std::map<std::string, int> held_by(const std::vector<SlotHolder>& running) {
  std::map<std::string, int> held;
  for (const SlotHolder& h : running) ++held[*h.tenant];
  return held;
}

constexpr PreemptionPolicy kShare{.by_share = true};
constexpr PreemptionPolicy kClass{.by_class = true};

TEST(Preemption, ATenantWithNoSlotTakesTheNewestOfOneHoldingThemAll) {
  const std::vector<SlotHolder> running = {holder(kA, 1), holder(kA, 4), holder(kA, 2), holder(kA, 3)};
  EXPECT_EQ(choose_victim(running, {0, &kB}, held_by(running), kShare), 1);
  // Nothing without the policy, and nothing for A's own next request.
  EXPECT_EQ(choose_victim(running, {0, &kB}, held_by(running), PreemptionPolicy{}), -1);
  EXPECT_EQ(choose_victim(running, {0, &kA}, held_by(running), kShare), -1);
}

TEST(Preemption, ShareNeedsAGapOfTwoSoTenantsNeverTakeTurns) {
  // One slot each for a and b, c waiting: moving a slot would only swap who has none.
  const std::vector<SlotHolder> one_each = {holder(kA, 1), holder(kB, 2)};
  EXPECT_EQ(choose_victim(one_each, {0, &kC}, held_by(one_each), kShare), -1);
  // a 3, b 1, b waiting: 3 >= 1 + 2, a gives one up; a 2, b 2 then stays.
  const std::vector<SlotHolder> skewed = {holder(kA, 1), holder(kA, 2), holder(kA, 3), holder(kB, 4)};
  EXPECT_EQ(choose_victim(skewed, {0, &kB}, held_by(skewed), kShare), 2);
  auto held = held_by(skewed);
  --held[kA];
  ++held[kB];
  EXPECT_EQ(choose_victim(skewed, {0, &kB}, held, kShare), -1);
}

TEST(Preemption, TheTenantHoldingMostGivesUpFirst) {
  const std::vector<SlotHolder> running = {holder(kA, 5), holder(kB, 1), holder(kB, 2), holder(kB, 3)};
  // c holds none: a (1 slot) is not 2 ahead, b (3) is; b's newest goes.
  EXPECT_EQ(choose_victim(running, {0, &kC}, held_by(running), kShare), 3);
}

TEST(Preemption, ShareNeverTakesABetterClassClassTakesOnlyWorseOnes) {
  const std::vector<SlotHolder> critical = {holder(kA, 1, -1), holder(kA, 2, -1)};
  EXPECT_EQ(choose_victim(critical, {0, &kB}, held_by(critical), kShare), -1);
  // A worse class is fair game for share preemption too.
  const std::vector<SlotHolder> sheddable = {holder(kA, 1, 1), holder(kA, 2, 1)};
  EXPECT_EQ(choose_victim(sheddable, {0, &kB}, held_by(sheddable), kShare), 1);
  // Class preemption: the worst class, whoever holds it, even one tenant.
  const std::vector<SlotHolder> mixed = {holder(kA, 1, 1), holder(kA, 2, 0), holder(kA, 3, 2)};
  EXPECT_EQ(choose_victim(mixed, {0, &kA}, held_by(mixed), kClass), 2);
  EXPECT_EQ(choose_victim(mixed, {1, &kA}, held_by(mixed), kClass), 2);
  EXPECT_EQ(choose_victim(mixed, {2, &kA}, held_by(mixed), kClass), -1);
}

TEST(Preemption, EmbeddingsAndGuardedResumedRequestsAreSpared) {
  std::vector<SlotHolder> running = {holder(kA, 1), holder(kA, 2), holder(kA, 3)};
  running[2].preemptable = false;  // an embedding
  running[1].generated = 30;       // resumed at 20 generated tokens, guarded until 36
  running[1].guard_until = 36;
  EXPECT_EQ(choose_victim(running, {0, &kB}, held_by(running), kShare), 0);
  running[0].preemptable = false;
  EXPECT_EQ(choose_victim(running, {0, &kB}, held_by(running), kShare), -1);
  running[1].generated = 36;  // it has made its progress
  EXPECT_EQ(choose_victim(running, {0, &kB}, held_by(running), kShare), 1);
  // The guard is against share preemption only: a better class still takes the slot.
  running[1].generated = 30;
  EXPECT_EQ(choose_victim(running, {-1, &kB}, held_by(running), kClass), 1);
}

std::shared_ptr<Job> job(const std::string& tenant, int id, Clock::time_point created) {
  auto j = std::make_shared<Job>();
  j->qos.tenant = tenant;
  j->options.num_predict = id;
  j->created = created;
  return j;
}

TEST(FairQueue, PeekIsWhatPopGivesAndARequeuedJobKeepsItsArrivalPlace) {
  FairQueue q;
  const auto t0 = Clock::now();
  q.push(job("a", 2, t0 + std::chrono::seconds(2)));
  q.push(job("a", 3, t0 + std::chrono::seconds(3)));
  q.push(job("b", 1, t0 + std::chrono::seconds(1)));
  ASSERT_EQ(q.peek()->options.num_predict, 2);
  auto first = q.pop();
  EXPECT_EQ(first->options.num_predict, 2);
  EXPECT_EQ(q.peek()->options.num_predict, 1);  // round robin: b next
  // a's job 0 arrived before everything and lost its slot: it goes before a's job 3, but b,
  // next in the round, still goes first.
  q.requeue(job("a", 0, t0));
  EXPECT_EQ(q.size(), 3u);
  std::vector<int> order;
  while (q.peek()) {
    const int peeked = static_cast<int>(q.peek()->options.num_predict);
    auto j = q.pop();
    EXPECT_EQ(j->options.num_predict, peeked);
    order.push_back(peeked);
  }
  EXPECT_EQ(order, (std::vector<int>{1, 0, 3}));
}

}  // namespace
}  // namespace corral::scheduler
