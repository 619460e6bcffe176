// The waiting queue's order without a model: priority classes first, round robin over tenants
// within a class, arrival order within a tenant; one tenant (or CORRAL_FAIRNESS=fcfs) is plain
// arrival order.
#include "scheduler/fair_queue.h"

#include <gtest/gtest.h>

#include "scheduler/fairness_config.h"

namespace corral::scheduler {
namespace {

std::shared_ptr<Job> job(const std::string& tenant, int priority = 0, int id = 0) {
  auto j = std::make_shared<Job>();
  j->qos.tenant = tenant;
  j->qos.priority = priority;
  j->options.num_predict = id;  // tells the jobs apart
  return j;
}

std::vector<std::string> drain(FairQueue& q) {
  std::vector<std::string> order;
  while (auto j = q.pop()) order.push_back(j->qos.tenant + std::to_string(j->options.num_predict));
  return order;
}

TEST(FairQueue, RoundRobinOverTenantsArrivalOrderWithinEach) {
  FairQueue q;
  for (int i = 0; i < 4; ++i) q.push(job("a", 0, i));
  q.push(job("b", 0, 0));
  q.push(job("b", 0, 1));
  q.push(job("", 0, 0));  // the default tenant is a tenant like any other
  EXPECT_EQ(q.size(), 7u);
  EXPECT_EQ(drain(q), (std::vector<std::string>{"0", "a0", "b0", "a1", "b1", "a2", "a3"}));
  EXPECT_TRUE(q.empty());
}

TEST(FairQueue, ANewTenantGoesNextNotBehindTwentyQueuedJobs) {
  FairQueue q;
  for (int i = 0; i < 21; ++i) q.push(job("a", 0, i));
  EXPECT_EQ(q.pop()->options.num_predict, 0);  // a's first takes the free slot
  q.push(job("b", 0, 0));
  EXPECT_LE(q.position_for(job("b")->qos), 21);
  auto next = q.pop();
  EXPECT_EQ(next->qos.tenant, "b");
}

TEST(FairQueue, FcfsKeepsArrivalOrder) {
  FairQueue q(/*by_tenant=*/false);
  q.push(job("a", 0, 0));
  q.push(job("a", 0, 1));
  q.push(job("b", 0, 0));
  EXPECT_EQ(q.position_for(job("b")->qos), 3);
  EXPECT_EQ(drain(q), (std::vector<std::string>{"a0", "a1", "b0"}));
}

TEST(FairQueue, BetterClassesFirstWhateverTheirArrival) {
  FairQueue q;
  q.push(job("a", 1, 0));
  q.push(job("a", 0, 1));
  q.push(job("b", -1, 2));
  EXPECT_EQ(q.best_priority(), -1);
  EXPECT_EQ(q.position_for(job("c", -1)->qos), 1);
  EXPECT_EQ(q.position_for(job("c", 2)->qos), 3);
  EXPECT_EQ(drain(q), (std::vector<std::string>{"b2", "a1", "a0"}));
  EXPECT_EQ(q.best_priority(), std::nullopt);
}

TEST(FairQueue, RemoveIfTakesCancelledJobsOut) {
  FairQueue q;
  auto gone = job("a", 0, 0);
  q.push(gone);
  q.push(job("b", 0, 1));
  gone->cancel();
  std::vector<std::shared_ptr<Job>> out;
  q.remove_if([](const Job& j) { return j.cancelled(); }, &out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0], gone);
  EXPECT_EQ(q.size(), 1u);
  EXPECT_EQ(q.take_all().size(), 1u);
  EXPECT_TRUE(q.empty());
}

TEST(FairnessConfig, ObjectivesParseAndBadOnesNameTheProblem) {
  auto o = parse_objectives("critical=0, standard=1,sheddable=2");
  ASSERT_TRUE(o) << o.error();
  ASSERT_EQ(o->size(), 3u);
  EXPECT_EQ((*o)[2].name, "sheddable");
  EXPECT_EQ((*o)[2].priority, 2);
  EXPECT_FALSE(parse_objectives("critical"));
  EXPECT_FALSE(parse_objectives("critical=high"));
  EXPECT_FALSE(parse_objectives("a=1,a=2"));
  EXPECT_FALSE(parse_objectives("a b=1"));
  EXPECT_FALSE(parse_objectives("a=99999999"));
  EXPECT_FALSE(parse_objectives(""));
  EXPECT_FALSE(parse_tenant_names("ok,not ok", "CORRAL_TENANTS"));
  EXPECT_EQ(parse_tenant_names("alice, bob,,", "CORRAL_TENANTS")->size(), 2u);
}

TEST(FairnessConfig, LabelsAreBounded) {
  FairnessConfig c;
  c.metric_tenants = {"alice"};
  EXPECT_EQ(tenant_label(c, "alice"), "alice");
  EXPECT_EQ(tenant_label(c, ""), "default");
  EXPECT_EQ(tenant_label(c, "mallory-12345"), "other");
  EXPECT_EQ(priority_label(c, -1), "critical");
  EXPECT_EQ(priority_label(c, 0), "standard");
  EXPECT_EQ(priority_label(c, 7), "other");
}

}  // namespace
}  // namespace corral::scheduler
