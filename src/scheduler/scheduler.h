// The scheduler: which models are loaded, the global queue bound, loading (never blocking
// requests to models already loaded), memory fit with LRU eviction of idle models, keep-alive
// expiry and per-model runners that batch their requests.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "scheduler/config.h"
#include "scheduler/fairness_metrics.h"
#include "scheduler/job.h"
#include "scheduler/model_loader.h"
#include "scheduler/runner.h"
#include "scheduler/serving_metrics.h"

namespace corral::scheduler {

// Which model to run, as the API layer resolved it from the store.
struct ModelSpec {
  std::string key;         // canonical name; one live runner per key
  std::string name;        // display name for /api/ps ("llama3.2:latest")
  std::string model_path;  // GGUF file (a content-addressed blob: other weights, other path)
  std::string digest;      // manifest digest (for /api/ps)
  int num_parallel = 0;    // the model's own PARAMETER num_parallel; 0: server default
  int64_t num_ctx = 0;     // the model's PARAMETER num_ctx; 0: server default
};

struct ModelStatus {
  ModelSpec spec;
  bool loading = false;
  bool retired = false;    // its name was replaced or deleted: finishing its requests, then gone
  int64_t size_bytes = 0;  // estimated resident memory: weights + KV for its context
  std::chrono::system_clock::time_point expires_at;  // time_point::max() when forever
  bool forever = false;                              // keep_alive < 0
  int64_t num_ctx = 0;
  int num_parallel = 0;
  RunnerInfo info;
};

// One finished request as the scheduler saw it, for the request log (server/request_log.h).
struct RequestRecord {
  std::string model;  // display name
  JobKind kind = JobKind::kCompletion;
  StatusCode code = StatusCode::kOk;           // kCancelled: the client went away
  DoneReason done_reason = DoneReason::kStop;  // when code is kOk
  JobStats stats;
  std::string error;  // when it failed
};
using RequestObserver = std::function<void(const RequestRecord&)>;

class Scheduler {
 public:
  explicit Scheduler(SchedulerConfig config);
  ~Scheduler();
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  const SchedulerConfig& config() const { return config_; }

  // Queues a job on the model, loading it first if needed, and sets its placement. Returns a
  // rejection when the queue bound (OLLAMA_MAX_QUEUE) is reached or its TTFT deadline cannot
  // be met; otherwise the job's events report the outcome.
  // keep_alive: the request's; nullopt means the server default.
  std::optional<Rejection> submit(const ModelSpec& spec, std::shared_ptr<Job> job, std::optional<KeepAlive> keep_alive);

  // Loads a model (or refreshes its keep-alive) without running anything; done(status,
  // load_duration) is called once it is ready or failed (from a scheduler thread).
  std::optional<Rejection> load(const ModelSpec& spec, std::optional<KeepAlive> keep_alive,
                                std::function<void(Status, Duration)> done);

  // keep_alive 0: unloads the model as soon as it is idle (now, if it is). Returns once an
  // idle model is gone; a busy one goes when its requests finish.
  void unload(const std::string& key);

  // The name no longer exists (deleted): its runner takes no new requests and unloads as soon
  // as it is idle (now, if it is). A name that is created again gets a new runner. Parsed
  // files whose blob was deleted are released, so their disk space is freed.
  void forget(const std::string& key);

  // The tokenizer of the model file `spec` names, parsed once (and shared with the model's
  // load): the API layer renders and tokenizes prompts with it on the request's thread.
  // Errors read "unable to load model: ..." (kInternal).
  Result<std::shared_ptr<const Tokenizer>> tokenizer_for(const ModelSpec& spec);
  // The context a request asking for `requested_num_ctx` (0: the default) gets on spec's
  // runner: what the API layer truncates chats to, and what the runner enforces. Both the
  // runner's context and the request's are capped at the model's trained length (logged when
  // the request asked for more).
  int64_t num_ctx_for(const ModelSpec& spec, int64_t requested_num_ctx);

  std::vector<ModelStatus> status() const;
  int pending() const { return pending_.load(); }

  // Called on the thread that finishes each submitted job (and for each rejection). Set
  // before the first submit.
  void set_request_observer(RequestObserver f) { observer_ = std::move(f); }
  ServingMetrics& metrics() { return metrics_; }
  // The registry in Prometheus text format, with the gauges (running, waiting, KV use, slots)
  // refreshed from the models' current state.
  std::string render_metrics();

  // Stops accepting work, waits up to `grace` for running jobs, then fails the rest and
  // unloads everything.
  void shutdown(std::chrono::milliseconds grace);

 private:
  struct Entry;
  // The runner that takes new requests for `key`, or null.
  std::shared_ptr<Entry> live_locked(const std::string& key) const;
  // The live entry for spec.key, made (start_load) when there is none or when the one there
  // serves other weights than `spec` names (that one is retired).
  std::shared_ptr<Entry> entry_for(const ModelSpec& spec, std::optional<KeepAlive> keep_alive, bool* start_load);
  // Takes no new requests from now on and unloads once idle; the caller detaches an idle one.
  void retire_locked(const std::shared_ptr<Entry>& e, const char* reason);
  // On a loader thread: reads the model, waits for room, starts its runner.
  void load_entry(std::shared_ptr<Entry> e);
  struct LoadPlan;
  Result<LoadPlan> plan_load(const Entry& e, const model::Model& m) const;
  // Evicts idle models (retired ones first, then least recently used) and waits for busy ones
  // until `need` bytes fit; fails only when the server shuts down.
  Status make_room(const std::shared_ptr<Entry>& e, int64_t need);
  void start_runner(const std::shared_ptr<Entry>& e, LoadedModel loaded, const LoadPlan& plan, Clock::time_point t0);
  void fail_load(const std::shared_ptr<Entry>& e, const Status& error);
  void on_runner_idle(const std::shared_ptr<Entry>& e);
  // Keep-alive expiry, and the TTFT deadlines of jobs waiting for a load, which are answered
  // when they pass rather than when the load ends.
  void reaper_loop();
  // Takes the jobs waiting for a load whose deadline has passed; lowers *next to the earliest
  // deadline still ahead.
  std::vector<std::shared_ptr<Job>> take_late_loading_locked(Clock::time_point now, Clock::time_point* next);
  // Removes an entry from the map; the caller destroys the returned runner outside the lock.
  std::unique_ptr<Runner> detach_locked(const std::shared_ptr<Entry>& e, const char* reason);
  int retry_after_locked() const;
  void observe_job(const std::shared_ptr<Job>& job, const std::string& model);
  // Metrics and the request observer for a job's terminal event.
  void record_finished(ModelMetrics& m, const std::string& model, JobKind kind, Clock::time_point created,
                       const JobEvent& e);
  // queue_full: OLLAMA_MAX_QUEUE (corral:request_rejections_total), else a deadline refusal.
  void record_rejection(const std::string& model, const Job& job, const Rejection& rej, bool queue_full = true);

  SchedulerConfig config_;
  // Before the entries: runners hold references into it until they are destroyed.
  ServingMetrics metrics_;
  FairnessMetrics fairness_metrics_{metrics_.registry()};
  std::mutex render_mu_;  // one scrape at a time sets the gauges
  RequestObserver observer_;
  ThreadPool& pool_;
  mutable std::mutex mu_;
  std::condition_variable capacity_cv_;  // an entry went idle or away
  std::condition_variable reaper_cv_;
  // Every loaded or loading runner: at most one live one per key, plus retired ones (their
  // name was replaced or deleted) that finish their requests, hold their memory until then,
  // and take no new work. Few entries (OLLAMA_MAX_LOADED_MODELS): searched linearly.
  std::vector<std::shared_ptr<Entry>> entries_;
  ModelFileCache files_;
  LoaderThreads loaders_;
  std::atomic<int> pending_{0};
  double avg_job_seconds_ = 5.0;  // running estimate for Retry-After
  bool shutting_down_ = false;
  std::thread reaper_;
};

}  // namespace corral::scheduler
