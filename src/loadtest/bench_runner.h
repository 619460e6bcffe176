// The load generator: N client threads (a concurrency level) each send one request after
// another until the level's request count or time is used up, like `hey -n R -c N`; a sweep
// runs several levels after a warm-up. Used by `corral bench` and `corral tune`.
#pragma once

#include <atomic>
#include <functional>
#include <string>
#include <vector>

#include "loadtest/bench_request.h"
#include "loadtest/bench_stats.h"

namespace corral::cli::bench {

// While one is alive, Ctrl-C (SIGINT) does not kill the process but sets stop_flag(): a sweep
// stops sending, ends the requests in flight and reports what it measured.
class StopOnInterrupt {
 public:
  StopOnInterrupt();
  ~StopOnInterrupt();
  StopOnInterrupt(const StopOnInterrupt&) = delete;
  StopOnInterrupt& operator=(const StopOnInterrupt&) = delete;
};
const std::atomic<bool>& stop_flag();

// What every request of a run sends; the prompt varies per request.
struct Workload {
  RequestSpec request;               // its prompt is ignored
  std::vector<std::string> prompts;  // cycled through; empty: synthetic prompts
  int prompt_tokens = 64;            // synthetic prompts' length (about one token per word)
};

// A synthetic prompt of about `tokens` tokens. The request's number comes first, so two
// requests share no more than their first few tokens: the prefix cache would otherwise make
// later requests cheaper than real, different, prompts are.
std::string synthetic_prompt(int tokens, uint64_t index);
std::string prompt_for(const Workload& w, uint64_t index);

struct LevelPlan {
  int concurrency = 1;
  int requests = 8;       // at most this many per level
  double duration_s = 0;  // > 0: no new request after this long (in-flight ones finish)
};

// What the progress line shows while a level runs.
struct Live {
  int concurrency = 0, done = 0, failed = 0, planned = 0;
  int64_t tokens = 0;  // token chunks received so far (streaming)
  double elapsed_s = 0;
};
using ProgressFn = std::function<void(const Live&)>;

// Runs one level. `abort` (e.g. Ctrl-C) stops new requests and ends those in flight.
// `first_index` numbers the requests (synthetic prompts differ across levels too).
std::vector<RequestResult> run_level(const Workload& w, const LevelPlan& plan, uint64_t first_index,
                                     const std::atomic<bool>& abort, const ProgressFn& progress, double* wall_s);

struct SweepPlan {
  std::vector<int> concurrency;  // levels, in order
  int requests = 0;              // per level; 0: 2 x concurrency, at least 4
  double duration_s = 0;         // per level; 0: no time limit
  int warmup = 1;                // requests before the first level (not measured): loads the model
  Slo slo;
};

// Warm-up, then every level; the level results go through aggregate(). A failed warm-up is an
// error (nothing listens, the model does not exist), so a sweep never measures only errors.
// `level_done` (optional) gets each level's statistics as soon as it finished.
Result<std::vector<LevelStats>> run_sweep(const Workload& w, const SweepPlan& plan, const std::atomic<bool>& abort,
                                          const ProgressFn& progress,
                                          const std::function<void(const LevelStats&)>& level_done = nullptr);

}  // namespace corral::cli::bench
