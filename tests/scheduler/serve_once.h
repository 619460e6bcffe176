// Shared by the scheduler tests: one greedy generation through a real Scheduler.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <utility>

#include "common/test_data.h"
#include "scheduler/config.h"
#include "scheduler/scheduler.h"

namespace corral::scheduler {

// Loads `model` under config `c` (2 slots, context 2048, 8 GiB budget set here), generates 40
// greedy tokens from "Once upon a time", returns (text, the estimated size /api/ps shows).
inline std::pair<std::string, int64_t> serve_greedy_once(SchedulerConfig c, const char* model) {
  using namespace std::chrono_literals;
  c.num_parallel = 2;
  c.context_length = 2048;
  c.memory_budget_bytes = 8ll << 30;
  Scheduler s(c);
  ModelSpec m;
  m.model_path = testing::test_data_path(model);
  m.key = m.name = "tiny";
  std::mutex mu;
  std::condition_variable cv;
  std::string text;
  bool done = false;
  auto job = std::make_shared<Job>();
  job->options.num_predict = 40;
  job->options.sampling.temperature = 0;
  auto tok = s.tokenizer_for(m);
  EXPECT_TRUE(tok.is_ok()) << tok.error();
  if (!tok) return {};
  job->prompt.tokens = (*tok)->encode("Once upon a time", true, false);
  job->on_event = [&](const JobEvent& e) {
    std::lock_guard lk(mu);
    if (e.type == JobEvent::Type::kText) text += e.text;
    else done = e.type == JobEvent::Type::kDone, cv.notify_all();
    if (e.type == JobEvent::Type::kError) ADD_FAILURE() << e.error.message();
  };
  EXPECT_FALSE(s.submit(m, job, std::nullopt));
  {
    std::unique_lock lk(mu);
    EXPECT_TRUE(cv.wait_for(lk, 60s, [&] { return done; }));
  }
  const auto ps = s.status();
  EXPECT_EQ(ps.size(), 1u);
  return {text, ps.empty() ? 0 : ps[0].size_bytes};
}

}  // namespace corral::scheduler
