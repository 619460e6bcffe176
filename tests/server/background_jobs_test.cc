// BackgroundJobs: jobs run on their own threads, a throwing job does not take the process down,
// and past max_running new jobs are refused (the handlers answer 503) until some finish.
#include "server/background_jobs.h"

#include <gtest/gtest.h>

#include <chrono>
#include <future>
#include <stdexcept>
#include <thread>

namespace corral::server {
namespace {

using namespace std::chrono_literals;

void wait_until_idle(const BackgroundJobs& jobs) {
  for (int i = 0; i < 500 && jobs.running() > 0; ++i) std::this_thread::sleep_for(10ms);
}

TEST(BackgroundJobs, RefusesPastTheLimitUntilJobsFinish) {
  BackgroundJobs jobs(2);
  std::promise<void> release;
  std::shared_future<void> gate = release.get_future().share();
  ASSERT_TRUE(jobs.run("a", [gate] { gate.wait(); }));
  ASSERT_TRUE(jobs.run("b", [gate] { gate.wait(); }));
  bool ran = false;
  EXPECT_FALSE(jobs.run("c", [&ran] { ran = true; }));
  EXPECT_EQ(jobs.running(), 2u);
  release.set_value();
  wait_until_idle(jobs);
  EXPECT_TRUE(jobs.run("d", [] {}));  // finished jobs are reaped: room again
  wait_until_idle(jobs);
  EXPECT_FALSE(ran);
}

TEST(BackgroundJobs, AThrowingJobIsLoggedNotFatal) {
  BackgroundJobs jobs;
  ASSERT_TRUE(jobs.run("throws", [] { throw std::runtime_error("boom"); }));
  wait_until_idle(jobs);
  EXPECT_EQ(jobs.running(), 0u);
}

}  // namespace
}  // namespace corral::server
