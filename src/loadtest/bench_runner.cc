#include "loadtest/bench_runner.h"

#include <signal.h>

#include <chrono>
#include <mutex>
#include <thread>

#include <fmt/format.h>

namespace corral::cli::bench {
namespace {

using Clock = std::chrono::steady_clock;

// Common English words that byte-level BPE vocabularies (Llama 3, Qwen 2) keep as one token
// each, with their leading space, so N words make about N prompt tokens.
constexpr const char* kWords[] = {
    "the",   "of",    "and",   "to",    "in",    "is",   "was",   "for",  "on",    "that",  "with",
    "as",    "it",    "he",    "by",    "at",    "from", "his",   "an",   "are",   "were",  "which",
    "this",  "be",    "or",    "had",   "not",   "but",  "first", "one",  "their", "its",   "new",
    "after", "who",   "they",  "have",  "her",   "she",  "two",   "been", "other", "when",  "there",
    "all",   "into",  "time",  "may",   "years", "more", "most",  "only", "over",  "city",  "some",
    "world", "would", "where", "later", "up",    "such", "used",  "many", "can",   "state", "also",
};
constexpr uint64_t kNumWords = sizeof(kWords) / sizeof(kWords[0]);

std::atomic<bool> g_stop{false};
struct sigaction g_previous_sigint;

void on_sigint(int) { g_stop.store(true); }  // a lock-free atomic: safe in a signal handler

}  // namespace

StopOnInterrupt::StopOnInterrupt() {
  struct sigaction sa {};
  sa.sa_handler = on_sigint;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, &g_previous_sigint);
}

StopOnInterrupt::~StopOnInterrupt() { sigaction(SIGINT, &g_previous_sigint, nullptr); }

const std::atomic<bool>& stop_flag() { return g_stop; }

std::string synthetic_prompt(int tokens, uint64_t index) {
  std::string p = fmt::format("Request {}:", index);
  // A fixed linear congruential sequence per request: reproducible prompts across runs.
  uint64_t x = index * 0x9E3779B97F4A7C15ull + 1;
  for (int i = 0; i < tokens - 3; ++i) {
    x = x * 6364136223846793005ull + 1442695040888963407ull;
    p += ' ';
    p += kWords[(x >> 33) % kNumWords];
  }
  return p;
}

std::string prompt_for(const Workload& w, uint64_t index) {
  if (!w.prompts.empty()) return w.prompts[index % w.prompts.size()];
  return synthetic_prompt(w.prompt_tokens, index);
}

std::vector<RequestResult> run_level(const Workload& w, const LevelPlan& plan, uint64_t first_index,
                                     const std::atomic<bool>& abort, const ProgressFn& progress, double* wall_s) {
  std::vector<RequestResult> results;
  std::mutex mu;
  std::atomic<int> next{0}, done{0}, failed{0}, clients_left{plan.concurrency};
  std::atomic<int64_t> tokens{0};
  const auto t0 = Clock::now();
  const auto deadline =
      plan.duration_s > 0
          ? t0 + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(plan.duration_s))
          : Clock::time_point::max();
  std::atomic<double> last_end{0};
  auto worker = [&] {
    for (;;) {
      const int i = next.fetch_add(1);
      if (i >= plan.requests || abort.load() || Clock::now() >= deadline) {
        clients_left.fetch_sub(1);
        return;
      }
      RequestSpec spec = w.request;
      spec.prompt = prompt_for(w, first_index + static_cast<uint64_t>(i));
      const double start = std::chrono::duration<double>(Clock::now() - t0).count();
      RequestResult r = send_request(spec, &tokens, &abort);
      r.start_s = start;
      const double end = start + r.e2e_s;
      for (double prev = last_end.load(); end > prev && !last_end.compare_exchange_weak(prev, end);) {}
      if (!r.ok()) failed.fetch_add(1);
      done.fetch_add(1);
      std::lock_guard<std::mutex> lk(mu);
      results.push_back(std::move(r));
    }
  };
  std::vector<std::thread> threads;
  for (int c = 0; c < plan.concurrency; ++c) threads.emplace_back(worker);
  // The caller's thread draws the progress line until every client is done.
  while (clients_left.load() > 0) {
    if (progress)
      progress(Live{plan.concurrency, done.load(), failed.load(), plan.requests, tokens.load(),
                    std::chrono::duration<double>(Clock::now() - t0).count()});
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  for (auto& t : threads) t.join();
  if (progress)
    progress(Live{plan.concurrency, done.load(), failed.load(), plan.requests, tokens.load(),
                  std::chrono::duration<double>(Clock::now() - t0).count()});
  // Throughput is over the span the requests were running, not the joining afterwards.
  *wall_s = last_end.load();
  return results;
}

Result<std::vector<LevelStats>> run_sweep(const Workload& w, const SweepPlan& plan, const std::atomic<bool>& abort,
                                          const ProgressFn& progress,
                                          const std::function<void(const LevelStats&)>& level_done) {
  for (int i = 0; i < plan.warmup && !abort.load(); ++i) {
    RequestSpec spec = w.request;
    spec.prompt = prompt_for(w, 1'000'000'000ull + static_cast<uint64_t>(i));
    spec.num_predict = std::min<int64_t>(spec.num_predict, 4);  // loading is the point, not output
    RequestResult r = send_request(spec, nullptr, &abort);
    if (!r.ok()) return Status::errorf("warm-up request failed: {}", r.error.empty() ? "no response" : r.error);
  }
  std::vector<LevelStats> levels;
  uint64_t index = 0;
  for (int c : plan.concurrency) {
    if (abort.load()) break;
    LevelPlan lp{c, plan.requests > 0 ? plan.requests : std::max(4, 2 * c), plan.duration_s};
    double wall = 0;
    auto results = run_level(w, lp, index, abort, progress, &wall);
    index += static_cast<uint64_t>(lp.requests);
    levels.push_back(aggregate(c, results, wall, plan.slo));
    if (level_done) level_done(levels.back());
  }
  return levels;
}

}  // namespace corral::cli::bench
