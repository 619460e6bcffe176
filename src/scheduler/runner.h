// One loaded model being served: its engine (KV cache + forward pass), its slots and its queue.
// A dedicated engine thread runs continuous batching: every step it admits waiting jobs into
// free slots (each becomes an engine::Sequence), plans the step (engine/step_plan.h: one token
// for every decoding sequence plus prompt chunks of prefilling ones, within a per-step token
// budget shared fairly), runs ONE forward pass for all of them, applies the outputs
// (engine/step_apply.h: sample, detokenize, stop) and turns them into the jobs' events. Jobs
// join at the next step and leave the moment they finish.
#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "base/metrics.h"
#include "base/thread_pool.h"
#include "engine/engine.h"
#include "engine/prefix_cache.h"
#include "engine/sequence.h"
#include "engine/step_apply.h"
#include "model/model.h"
#include "scheduler/config.h"
#include "scheduler/fair_queue.h"
#include "scheduler/job.h"
#include "scheduler/serving_metrics.h"
#include "tokenizer/tokenizer.h"

namespace corral::scheduler {

struct RunnerConfig {
  int num_parallel = 4;    // slots: sequences decoded together
  int64_t num_ctx = 4096;  // context per sequence (prompt + output), capped at training length
  // Tokens per forward pass: decode tokens first, the rest for prompt chunks. 512 is where
  // prefill throughput flattens on CPU while keeping a step short enough (~1-2 s for a 1B
  // model on 2 cores) that decoding sequences are not stalled long by a new prompt.
  int64_t step_token_budget = 512;
  int max_cached_prefixes = 8;            // finished sequences kept for prompt-prefix reuse
  DType kv_type = DType::kF32;            // KV cache elements: F32, F16, Q8_0 or Q4_0
  std::shared_ptr<ModelMetrics> metrics;  // token counters, prefix hits, step times; may be null
  bool fair_by_tenant = true;             // CORRAL_FAIRNESS: round robin over tenants (else FCFS)
  bool preempt = false;                   // CORRAL_PREEMPT: better classes take worse ones' slots
  // CORRAL_TENANT_PREEMPT (with fair_by_tenant): a tenant two or more slots behind another
  // takes one of that tenant's slots (same or worse class).
  bool tenant_preempt = true;
  metrics::Counter* preemptions = nullptr;  // counts them; may be null
};

// The engine (KV pools) a runner of `config` runs: full-attention layers hold num_ctx for
// every slot, sliding-window layers each slot's window plus one step.
engine::EngineConfig engine_config(const RunnerConfig& config);

struct RunnerInfo {
  int slots_busy = 0;
  int slots_total = 0;
  int queued = 0;                // waiting for a slot in this runner
  double tokens_per_second = 0;  // recent aggregate generation speed
  int64_t kv_used_tokens = 0;    // positions held in the KV cache (including cached prefixes)
  int64_t kv_capacity_tokens = 0;
  int64_t prefix_hits = 0;  // jobs that reused a cached prefix
  int64_t prefix_tokens_reused = 0;
  // Measured (0 until a job has finished): jobs finishing per second with every slot busy, and
  // prompt tokens evaluated per second. They predict waits (ETA, deadlines, Retry-After).
  double drain_per_second = 0;
  double prefill_tokens_per_second = 0;
  int64_t queue_eta_ms = 0;  // predicted wait for a slot of a request arriving now
  int64_t preemptions = 0;
};

class Runner {
 public:
  Runner(std::shared_ptr<const model::Model> model, std::shared_ptr<const Tokenizer> tokenizer, RunnerConfig config,
         ThreadPool& pool);
  // Fails every queued and running job ("model unloaded") and joins the engine thread.
  ~Runner();
  Runner(const Runner&) = delete;
  Runner& operator=(const Runner&) = delete;

  // Queues a job (its placement set); it is admitted into a free slot at the start of a step,
  // in FairQueue's order. Refuses it (kUnavailable, with the predicted wait as Retry-After)
  // when its TTFT deadline cannot be met by the measured rates.
  std::optional<Rejection> submit(std::shared_ptr<Job> job);

  // Called (on the engine thread) when the runner has no queued and no running jobs left.
  void set_on_idle(std::function<void()> f) { on_idle_ = std::move(f); }

  bool idle() const { return busy_.load() == 0 && queued_.load() == 0; }
  RunnerInfo info() const;
  const RunnerConfig& config() const { return config_; }
  const model::Model& model() const { return *model_; }
  const Tokenizer& tokenizer() const { return *tokenizer_; }

  // Stops the engine thread: running jobs finish their current step and are failed.
  void stop();

 private:
  // A job running in a slot: the engine's sequence and whom to tell about it.
  struct Running {
    std::shared_ptr<Job> job;
    std::unique_ptr<engine::Sequence> seq;
    Clock::duration queue_duration{};  // from arrival to (first) admission
    Clock::time_point admitted{};      // when it got its slot (last)
    // Tenant-share preemption leaves it alone until it has generated this many tokens in all
    // (set on resume): a resumed sequence makes progress before it can lose its slot again.
    int64_t share_guard_until = 0;
  };

  void loop();
  // Takes the queued jobs that get a slot this step, in FairQueue's order (drops cancelled
  // ones; deadline-expired ones go to `expired`): new jobs into `admit`, preempted ones into
  // `resume`. With every slot taken, the next job may take a running one's slot (victim_for),
  // at most one per slot and step. mu_ held.
  void take_waiting(std::vector<std::shared_ptr<Job>>* admit, std::vector<Running>* resume,
                    std::vector<std::shared_ptr<Job>>* dropped, std::vector<std::shared_ptr<Job>>* expired);
  // The running sequence whose slot `next` may take, or null (scheduler/preemption.h decides;
  // `held`: slots per tenant).
  Running* victim_for(const Job& next, const std::map<std::string, int>& held);
  // The victim leaves its slot, its KV freed; its job goes back into the queue. mu_ held.
  void preempt(Running* victim, const Job& for_job);
  Running* find_preempted(const Job* job);
  // Takes *p out of preempted_ (p points into it).
  Running take_preempted(Running* p);
  // A preempted job gets a slot back: its sequence (tokens so far, sampler, detokenizer kept)
  // recomputes every position from the longest cached prefix, then samples on as before.
  void resume(Running r);
  // Whether share preemption would give a job of `qos` a slot at the next step: its tenant
  // (counting its queued jobs) holds at least two slots fewer than another. mu_ held.
  bool share_preemption_admits(const JobQos& qos) const;
  // Predicted wait for a slot of a job `ahead` places back, from the measured drain rate;
  // info_mu_ not held.
  double predicted_wait_seconds(int ahead) const;
  int retry_after_seconds(double wait_seconds) const;
  // A slot for the job: its prompt checked, its KV sequence started from the longest cached
  // prefix.
  void admit(std::shared_ptr<Job> job);
  // The job's sequence (its prompt and filter move into it), checked.
  Result<std::unique_ptr<engine::Sequence>> make_sequence(Job& job);
  // `requests` reused a prefix for the first time, `reused` positions in all.
  void count_prefix_hit(int64_t requests, size_t reused);
  // One engine step: drop cancelled jobs, plan, run the forward pass, apply, deliver.
  void step();
  void drop_cancelled();
  engine::StepPlan plan();
  engine::StepResult run(const engine::StepPlan& plan);
  void deliver(engine::StepResult& result);
  void record_step(const engine::StepResult& result, Clock::duration eval_time);
  // finish and fail release the slot before delivering the final event, so whoever reacts to
  // it (a test, the next request) sees the slot free.
  void finish(engine::Sequence* seq, std::vector<float> embedding);
  // retry_after_seconds > 0: the client may retry then (answered as a 503 with Retry-After).
  void fail(engine::Sequence* seq, const Status& error, int retry_after_seconds = 0);
  // Takes the sequence out of its slot (its KV kept as a prefix or freed); fills `stats`.
  std::shared_ptr<Job> release(engine::Sequence* seq, bool keep_prefix, JobStats* stats);
  const std::shared_ptr<Job>& running_job(const engine::Sequence* seq) const;
  void stop_all();
  void publish_info();

  std::shared_ptr<const model::Model> model_;
  std::shared_ptr<const Tokenizer> tokenizer_;
  RunnerConfig config_;
  engine::Engine engine_;

  engine::PrefixCache prefixes_;  // engine thread only
  std::vector<Running> running_;  // at most num_parallel, in admission order; engine thread only
  uint64_t admit_counter_ = 0;    // round-robin order of prefill chunks
  // Jobs that lost their slot (preemption): their sequences, holding no KV, while the jobs
  // wait in waiting_ again. Engine thread only.
  std::vector<Running> preempted_;
  double service_seconds_ema_ = 0;  // a job's time in its slot, smoothed; engine thread only

  mutable std::mutex mu_;
  std::condition_variable cv_;
  FairQueue waiting_;  // guarded by mu_
  // Slots per tenant key after the last admission round (take_waiting): whether a job arriving
  // now would take a slot by share preemption. Guarded by mu_.
  std::map<std::string, int> held_;
  bool stop_ = false;  // guarded by mu_
  std::atomic<int> busy_{0};
  std::atomic<int> queued_{0};
  mutable std::mutex info_mu_;
  RunnerInfo info_;  // guarded by info_mu_
  double tps_ema_ = 0;
  double prefill_tps_ema_ = 0;  // engine thread; published in info_

  std::function<void()> on_idle_;
  std::thread thread_;
};

}  // namespace corral::scheduler
