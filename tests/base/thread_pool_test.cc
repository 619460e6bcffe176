#include "base/thread_pool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

namespace corral {
namespace {

TEST(ThreadPool, RunCallsEveryThreadOnce) {
  ThreadPool pool(3);
  for (int rep = 0; rep < 200; ++rep) {
    std::vector<std::atomic<int>> hits(3);
    pool.run([&](int ith, int nth) {
      EXPECT_EQ(nth, 3);
      hits[ith]++;
    });
    for (auto& h : hits) ASSERT_EQ(h.load(), 1);
  }
}

TEST(ThreadPool, ParallelForCoversRangeExactlyOnce) {
  ThreadPool pool(2);
  std::vector<std::atomic<int>> seen(1001);
  pool.parallel_for(1001, 7, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) seen[i]++;
  });
  for (auto& s : seen) EXPECT_EQ(s.load(), 1);
}

TEST(ThreadPool, ConcurrentCallersTakeTurns) {
  ThreadPool pool(2);
  std::atomic<int> inside{0}, max_inside{0};
  auto body = [&] {
    for (int rep = 0; rep < 100; ++rep) {
      pool.run([&](int, int) {
        int now = ++inside;
        int m = max_inside.load();
        while (now > m && !max_inside.compare_exchange_weak(m, now)) {}
        --inside;
      });
    }
  };
  std::thread a(body), b(body);
  a.join();
  b.join();
  EXPECT_LE(max_inside.load(), 2);  // never more threads inside a job than the pool has
}

}  // namespace
}  // namespace corral
