#include "scheduler/scheduler.h"

#include <algorithm>
#include <cmath>

#include <spdlog/spdlog.h>

#include "model/kv_storage.h"
#include "model/model.h"

namespace corral::scheduler {
namespace {

// Ollama's exact text for a full queue (two spaces after the period included).
constexpr const char* kQueueFull = "server busy, please try again.  maximum pending requests exceeded";

std::string gib(int64_t bytes) { return fmt::format("{:.1f} GiB", static_cast<double>(bytes) / (1ll << 30)); }

// Memory a model needs resident: its weights, the KV pools of its runner (every slot's full
// context in full-attention layers, each slot's window plus a step in sliding-window ones), and
// the activation buffers of a 512-token step (x, normed x, q/k/v/attn, gate/up, logits rows).
int64_t estimate_bytes(const model::Model& m, int num_parallel, int64_t num_ctx, DType kv_type) {
  const auto& c = m.config();
  RunnerConfig rc;
  rc.num_parallel = num_parallel;
  rc.num_ctx = num_ctx;
  rc.kv_type = kv_type;
  const int64_t kv = static_cast<int64_t>(engine::kv_capacity_bytes(m, engine::kv_sizing(engine_config(rc)), kv_type));
  const int64_t step = 512 * (4 * c.n_embd + 2 * c.n_ff + 2 * c.q_dim()) * 4 + num_parallel * c.n_vocab * 4;
  return static_cast<int64_t>(m.weight_bytes()) + kv + step;
}

// Whether a runner loaded for `loaded` can serve `wanted`: the same weights with the same slots
// and context. A name re-created or pulled with other weights (another blob), or with another
// num_parallel / num_ctx, needs a new runner; one whose template or system prompt changed does
// not (those are applied per request).
bool same_runner(const ModelSpec& loaded, const ModelSpec& wanted) {
  return loaded.model_path == wanted.model_path && loaded.num_parallel == wanted.num_parallel &&
         loaded.num_ctx == wanted.num_ctx;
}

}  // namespace

struct Scheduler::Entry {
  ModelSpec spec;
  enum class State { kLoading, kReady } state = State::kLoading;
  std::unique_ptr<Runner> runner;
  std::vector<std::shared_ptr<Job>> waiting;  // jobs that arrived while loading
  std::vector<std::function<void(Status, Duration)>> load_waiters;
  KeepAlive keep_alive{};
  Clock::time_point idle_since = Clock::now();
  Clock::time_point last_used = Clock::now();
  int64_t size_bytes = 0;  // reserved once the estimate fits
  int64_t num_ctx = 0;
  int num_parallel = 0;
  Duration load_duration{};
  bool unload_requested = false;  // keep_alive 0 from a request (metrics tell it from expiry)
  // Its name now points elsewhere ("replaced") or nowhere ("deleted"): no new requests; it
  // unloads as soon as it is idle, whatever its keep-alive. Null while live.
  const char* retired = nullptr;
};

Scheduler::Scheduler(SchedulerConfig config)
    : config_(config), pool_([&]() -> ThreadPool& {
        if (config.threads > 0) ThreadPool::set_global_threads(config.threads);
        return ThreadPool::global();
      }()) {
  reaper_ = std::thread([this] { reaper_loop(); });
}

Scheduler::~Scheduler() { shutdown(std::chrono::milliseconds(0)); }

// The time the queue ahead takes to drain: from each runner's measured drain rate (jobs
// finishing per second), else from the running average job time.
int Scheduler::retry_after_locked() const {
  int waiting = 0, slots = 0;
  double drain = 0;
  bool measured = true;
  for (const auto& e : entries_) {
    slots += std::max(1, e->num_parallel);
    if (e->state == Entry::State::kLoading) {
      waiting += static_cast<int>(e->waiting.size());
      measured = false;
    } else {
      const RunnerInfo i = e->runner->info();
      waiting += std::max(0, i.slots_busy + i.queued - i.slots_total);
      drain += i.drain_per_second;
      measured = measured && i.drain_per_second > 0;
    }
  }
  const double secs = measured && drain > 0 ? static_cast<double>(waiting + 1) / drain
                                            : static_cast<double>(waiting) * avg_job_seconds_ / std::max(1, slots);
  return static_cast<int>(std::clamp(std::ceil(secs), 1.0, 3600.0));
}

void Scheduler::observe_job(const std::shared_ptr<Job>& job, const std::string& model) {
  auto inner = std::move(job->on_event);
  const auto created = job->created;
  const JobKind kind = job->kind;
  std::shared_ptr<ModelMetrics> mm = metrics_.for_model(model);
  const std::string tenant = tenant_label(config_.fairness, job->qos.tenant);
  const std::string priority_class =
      job->qos.priority_class.empty() ? priority_label(config_.fairness, job->qos.priority) : job->qos.priority_class;
  job->on_event = [this, inner = std::move(inner), created, kind, model, mm, tenant,
                   priority_class](const JobEvent& e) {
    if (e.type != JobEvent::Type::kText) {
      const double s = std::chrono::duration<double>(Clock::now() - created).count();
      {
        std::lock_guard<std::mutex> lk(mu_);
        avg_job_seconds_ = 0.9 * avg_job_seconds_ + 0.1 * s;
      }
      record_finished(*mm, model, kind, created, e);
      fairness_metrics_.observe_finished(tenant, priority_class, e);
      if (e.deadline_missed()) fairness_metrics_.deadline_missed(model, "expired");
    }
    if (inner) inner(e);
  };
}

void Scheduler::record_finished(ModelMetrics& m, const std::string& model, JobKind kind, Clock::time_point created,
                                const JobEvent& e) {
  RequestRecord r;
  r.model = model;
  r.kind = kind;
  r.stats = e.stats;
  // Only a finished job's event carries statistics; the others get at least their duration.
  if (r.stats.total_duration == Clock::duration::zero()) r.stats.total_duration = Clock::now() - created;
  if (e.type == JobEvent::Type::kError) {
    r.code = e.error.code();
    r.error = e.error.message();
    m.finished_error.inc();
  } else if (e.done_reason == DoneReason::kCancelled) {
    r.code = StatusCode::kCancelled;
    m.cancellations.inc();
    m.finished_cancelled.inc();
  } else {
    r.done_reason = e.done_reason;
    (e.done_reason == DoneReason::kLength ? m.finished_length : m.finished_stop).inc();
    metrics_.observe_completed(m, e.stats, kind == JobKind::kCompletion);
  }
  if (observer_) observer_(r);
}

void Scheduler::record_rejection(const std::string& model, const Job& job, const Rejection& rej, bool queue_full) {
  if (queue_full) metrics_.for_model(model)->rejections.inc();
  else fairness_metrics_.deadline_missed(model, "predicted");
  if (!observer_) return;
  RequestRecord r;
  r.model = model;
  r.kind = job.kind;
  r.code = rej.status.code();
  r.error = rej.status.message();
  r.stats.total_duration = Clock::now() - job.created;
  observer_(r);
}

std::shared_ptr<Scheduler::Entry> Scheduler::live_locked(const std::string& key) const {
  for (const auto& e : entries_)
    if (!e->retired && e->spec.key == key) return e;
  return nullptr;
}

void Scheduler::retire_locked(const std::shared_ptr<Entry>& e, const char* reason) {
  spdlog::info("{} ({}) is {}: it takes no new requests and unloads once idle", e->spec.name, e->spec.digest, reason);
  e->retired = reason;
  reaper_cv_.notify_all();
}

std::shared_ptr<Scheduler::Entry> Scheduler::entry_for(const ModelSpec& spec, std::optional<KeepAlive> keep_alive,
                                                       bool* start_load) {
  *start_load = false;
  std::shared_ptr<Entry> e = live_locked(spec.key);
  if (e && !same_runner(e->spec, spec)) {
    // The name was re-created, copied over or pulled with other weights: requests from now on
    // get a runner for those; the old one finishes what it has and goes (the reaper sees to it).
    retire_locked(e, "replaced");
    e = nullptr;
  }
  if (e) {
    e->spec.digest = spec.digest;  // same weights, other manifest (template, system, ...)
  } else {
    e = std::make_shared<Entry>();
    e->spec = spec;
    entries_.push_back(e);
    *start_load = true;
  }
  // Every request sets the keep-alive (Ollama: the request's, else OLLAMA_KEEP_ALIVE) and
  // restarts it: an idle runner's old idle_since must not expire it in the moment between its
  // last job's end and the runner reporting idle (on_runner_idle).
  e->keep_alive = keep_alive.value_or(config_.keep_alive);
  e->last_used = Clock::now();
  e->idle_since = e->last_used;
  return e;
}

std::optional<Rejection> Scheduler::submit(const ModelSpec& spec, std::shared_ptr<Job> job,
                                           std::optional<KeepAlive> keep_alive) {
  std::unique_lock<std::mutex> lk(mu_);
  if (shutting_down_) return Rejection{Status::unavailable("server is shutting down"), 1};
  // Requests that must wait (for a load, or because every slot is taken) are bounded by
  // OLLAMA_MAX_QUEUE across all models; one that can start at once never counts.
  const std::shared_ptr<Entry> live = live_locked(spec.key);
  bool would_wait = true;
  if (live && live->state == Entry::State::kReady && same_runner(live->spec, spec)) {
    const RunnerInfo i = live->runner->info();
    would_wait = i.slots_busy + i.queued >= i.slots_total;
  }
  if (would_wait) {
    int waiting = 0;
    for (const auto& e : entries_) {
      if (e->state == Entry::State::kLoading) waiting += static_cast<int>(e->waiting.size());
      else {
        const RunnerInfo i = e->runner->info();
        waiting += std::max(0, i.slots_busy + i.queued - i.slots_total);
      }
    }
    if (waiting >= config_.max_queue) {
      Rejection rej{Status::exhausted(kQueueFull), retry_after_locked()};
      lk.unlock();
      record_rejection(spec.name, *job, rej);
      return rej;
    }
  }
  observe_job(job, spec.name);
  bool start = false;
  auto e = entry_for(spec, keep_alive, &start);
  if (e->state == Entry::State::kReady) {
    if (auto rej = e->runner->submit(job)) {
      lk.unlock();
      record_rejection(spec.name, *job, *rej, /*queue_full=*/false);
      return rej;
    }
  } else {
    // Waiting for the load: no rate of this model is measured yet, so no wait is predicted.
    job->placement = QueuePlacement{.known = true, .position = static_cast<int>(e->waiting.size()), .eta_ms = 0};
    // The reaper answers its deadline if it passes before the load ends.
    if (job->qos.ttft_deadline) reaper_cv_.notify_all();
    e->waiting.push_back(std::move(job));
  }
  if (start) loaders_.start([this, e] { load_entry(e); });
  return std::nullopt;
}

std::optional<Rejection> Scheduler::load(const ModelSpec& spec, std::optional<KeepAlive> keep_alive,
                                         std::function<void(Status, Duration)> done) {
  std::unique_lock<std::mutex> lk(mu_);
  if (shutting_down_) return Rejection{Status::unavailable("server is shutting down"), 1};
  bool start = false;
  auto e = entry_for(spec, keep_alive, &start);
  if (e->state == Entry::State::kReady) {
    // Already loaded: refreshing the keep-alive counts as use.
    if (e->runner->idle()) e->idle_since = Clock::now();
    lk.unlock();
    done(Status::ok(), Duration{});
    return std::nullopt;
  }
  e->load_waiters.push_back(std::move(done));
  if (start) loaders_.start([this, e] { load_entry(e); });
  return std::nullopt;
}

std::unique_ptr<Runner> Scheduler::detach_locked(const std::shared_ptr<Entry>& e, const char* reason) {
  std::erase(entries_, e);
  capacity_cv_.notify_all();
  spdlog::info("unloading model {} ({})", e->spec.name, reason);
  metrics_.model_unloaded(e->spec.name, reason);
  return std::move(e->runner);
}

struct Scheduler::LoadPlan {
  int64_t num_ctx = 0;
  int num_parallel = 0;
  int64_t need_bytes = 0;  // estimated resident memory
};

void Scheduler::load_entry(std::shared_ptr<Entry> e) {
  const auto t0 = Clock::now();
  // Planned on the mapping (nothing read yet); the resident copy is made only once other
  // models made room for it, so a swap never holds both models' weights at once.
  auto loaded = load_model_files(files_, e->spec.model_path, model::WeightPlacement::kMapped);
  if (!loaded) return fail_load(e, loaded.status());
  auto plan = plan_load(*e, *loaded->model);
  if (!plan) return fail_load(e, plan.status());
  if (Status s = make_room(e, plan->need_bytes); !s) return fail_load(e, s);
  if (!config_.mmap_weights) {
    loaded = load_model_files(files_, e->spec.model_path, model::WeightPlacement::kResident);
    if (!loaded) return fail_load(e, loaded.status());
  }
  start_runner(e, std::move(loaded).value(), *plan, t0);
}

void Scheduler::fail_load(const std::shared_ptr<Entry>& e, const Status& error) {
  std::vector<std::shared_ptr<Job>> jobs;
  std::vector<std::function<void(Status, Duration)>> waiters;
  {
    std::lock_guard<std::mutex> lk(mu_);
    std::erase(entries_, e);
    jobs.swap(e->waiting);
    waiters.swap(e->load_waiters);
    capacity_cv_.notify_all();
  }
  spdlog::error("loading {}: {}", e->spec.name, error.message());
  metrics_.model_load_failed(e->spec.name);
  for (auto& j : jobs) {
    JobEvent ev;
    ev.type = JobEvent::Type::kError;
    ev.error = error;
    j->finish(ev);
  }
  for (auto& w : waiters) w(error, Duration{});
}

Result<Scheduler::LoadPlan> Scheduler::plan_load(const Entry& e, const model::Model& m) const {
  LoadPlan p;
  const int64_t wanted = runner_num_ctx(config_, e.spec.num_ctx);
  const int64_t trained = trained_context_length(m.file());
  p.num_ctx = cap_num_ctx(wanted, trained);
  // Ollama's own words (llm/server.go) for the same cap.
  if (p.num_ctx < wanted)
    spdlog::warn("{}: requested context size too large for model: num_ctx {} lowered to n_ctx_train {}", e.spec.name,
                 wanted, trained);
  // The engine's own limit can be lower (phi3 LongRoPE files without long factors): then the
  // context is allowed with a warning, as llama.cpp does.
  if (p.num_ctx > m.config().n_ctx_train)
    spdlog::warn("{}: num_ctx {} is larger than the model's training context {}", e.spec.name, p.num_ctx,
                 m.config().n_ctx_train);
  p.num_parallel = e.spec.num_parallel > 0 ? e.spec.num_parallel : config_.num_parallel;
  if (p.num_parallel <= 0) {
    // Ollama's default: 4 parallel requests when memory allows, else 1.
    p.num_parallel = estimate_bytes(m, 4, p.num_ctx, config_.kv_cache_type) <= config_.memory_budget_bytes ? 4 : 1;
  }
  p.need_bytes = estimate_bytes(m, p.num_parallel, p.num_ctx, config_.kv_cache_type);
  // Ollama reports a model that cannot fit like any other load failure (kInternal).
  if (p.need_bytes > config_.memory_budget_bytes)
    return Status::internal(fmt::format("model requires more system memory ({}) than is available ({})",
                                        gib(p.need_bytes), gib(config_.memory_budget_bytes)));
  return p;
}

// Within the memory budget and OLLAMA_MAX_LOADED_MODELS. A retired runner still running
// requests holds its memory and its place until it is done.
Status Scheduler::make_room(const std::shared_ptr<Entry>& e, int64_t need) {
  std::unique_lock<std::mutex> lk(mu_);
  for (;;) {
    if (shutting_down_) return Status::internal("server is shutting down");
    int64_t used = 0;
    int loaded = 0;
    std::shared_ptr<Entry> victim;
    for (const auto& other : entries_) {
      if (other == e) continue;
      used += other->size_bytes;
      loaded += other->size_bytes > 0 || other->state == Entry::State::kReady;
      if (other->state != Entry::State::kReady || !other->runner->idle()) continue;
      if (!victim || (other->retired && !victim->retired) ||
          (!other->retired == !victim->retired && other->last_used < victim->last_used))
        victim = other;
    }
    if (used + need <= config_.memory_budget_bytes && loaded < config_.max_loaded_models) {
      e->size_bytes = need;
      return Status::ok();
    }
    if (victim) {
      std::unique_ptr<Runner> r = detach_locked(victim, victim->retired ? victim->retired : "evicted");
      lk.unlock();
      r.reset();  // joins its engine thread; must not hold mu_ (its callbacks take it)
      lk.lock();
      continue;
    }
    spdlog::info("{} waits for a busy model to go idle before it can load", e->spec.name);
    capacity_cv_.wait(lk);
  }
}

void Scheduler::start_runner(const std::shared_ptr<Entry>& e, LoadedModel loaded, const LoadPlan& plan,
                             Clock::time_point t0) {
  RunnerConfig rc;
  rc.num_parallel = plan.num_parallel;
  rc.num_ctx = plan.num_ctx;
  rc.kv_type = config_.kv_cache_type;
  rc.metrics = metrics_.for_model(e->spec.name);
  rc.fair_by_tenant = config_.fairness.by_tenant;
  rc.preempt = config_.fairness.preempt;
  rc.tenant_preempt = config_.fairness.tenant_preempt;
  rc.preemptions = &rc.metrics->preemptions;
  const auto& mc = loaded.model->config();
  auto runner = std::make_unique<Runner>(std::move(loaded.model), std::move(loaded.tokenizer), rc, pool_);
  std::weak_ptr<Entry> weak = e;
  runner->set_on_idle([this, weak] {
    if (auto s = weak.lock()) on_runner_idle(s);
  });
  const Duration load_duration = Clock::now() - t0;
  metrics_.model_loaded(e->spec.name);
  spdlog::info("loaded {} ({}, {} layers, num_parallel {}, num_ctx {}, ~{} resident at most) in {:.2f} s", e->spec.name,
               mc.arch, mc.n_layer, plan.num_parallel, plan.num_ctx, gib(plan.need_bytes),
               std::chrono::duration<double>(load_duration).count());
  std::vector<std::function<void(Status, Duration)>> waiters;
  std::vector<std::pair<std::shared_ptr<Job>, Rejection>> late;
  {
    std::lock_guard<std::mutex> lk(mu_);
    e->runner = std::move(runner);
    e->num_ctx = plan.num_ctx;
    e->num_parallel = plan.num_parallel;
    e->load_duration = load_duration;
    e->state = Entry::State::kReady;
    e->idle_since = Clock::now();
    for (auto& j : e->waiting) {
      j->load_duration = load_duration;
      if (auto rej = e->runner->submit(j)) late.emplace_back(j, *rej);
    }
    e->waiting.clear();
    waiters.swap(e->load_waiters);
    reaper_cv_.notify_all();
  }
  for (auto& w : waiters) w(Status::ok(), load_duration);
  // Jobs whose model loaded too late for their deadline: the same answer as a refusal (a 503
  // with Retry-After), as their terminal event (outside mu_: their observer takes it).
  for (auto& [job, rej] : late) {
    JobEvent ev;
    ev.type = JobEvent::Type::kError;
    ev.error = rej.status;
    ev.retry_after_seconds = rej.retry_after_seconds;
    job->finish(ev);
  }
}

Result<std::shared_ptr<const Tokenizer>> Scheduler::tokenizer_for(const ModelSpec& spec) {
  CORRAL_ASSIGN_OR_RETURN(ModelFile mf, files_.get(spec.model_path));
  return mf.tokenizer;
}

int64_t Scheduler::num_ctx_for(const ModelSpec& spec, int64_t requested_num_ctx) {
  // The same trained length the runner's load plan caps at (the file is parsed once, shared).
  auto mf = files_.get(spec.model_path);
  const int64_t trained = mf ? mf->context_length : 0;
  if (trained > 0 && requested_num_ctx > trained)
    spdlog::warn("{}: requested context size too large for model: num_ctx {} lowered to n_ctx_train {}", spec.name,
                 requested_num_ctx, trained);
  return effective_num_ctx(cap_num_ctx(runner_num_ctx(config_, spec.num_ctx), trained), requested_num_ctx);
}

void Scheduler::on_runner_idle(const std::shared_ptr<Entry>& e) {
  std::lock_guard<std::mutex> lk(mu_);
  e->idle_since = Clock::now();
  capacity_cv_.notify_all();
  reaper_cv_.notify_all();
}

void Scheduler::unload(const std::string& key) {
  std::unique_ptr<Runner> r;
  {
    std::lock_guard<std::mutex> lk(mu_);
    auto e = live_locked(key);
    if (!e) return;
    e->keep_alive = KeepAlive(0);
    e->unload_requested = true;
    if (e->state == Entry::State::kReady && e->runner->idle()) r = detach_locked(e, "requested");
    reaper_cv_.notify_all();
  }
}

void Scheduler::forget(const std::string& key) {
  files_.drop_missing();  // the name's blob may be gone from the disk now
  std::unique_ptr<Runner> r;
  std::lock_guard<std::mutex> lk(mu_);
  auto e = live_locked(key);
  if (!e) return;
  retire_locked(e, "deleted");
  // Destroyed after the lock is released (declared first): joining the engine thread must not
  // hold mu_, which its idle callback takes.
  if (e->state == Entry::State::kReady && e->runner->idle()) r = detach_locked(e, "deleted");
}

void Scheduler::reaper_loop() {
  std::unique_lock<std::mutex> lk(mu_);
  while (!shutting_down_) {
    const auto now = Clock::now();
    auto next = now + std::chrono::seconds(1);
    if (std::vector<std::shared_ptr<Job>> late = take_late_loading_locked(now, &next); !late.empty()) {
      const int retry = retry_after_locked();
      lk.unlock();  // their observers take mu_
      for (auto& job : late) {
        JobEvent ev;
        ev.type = JobEvent::Type::kError;
        ev.error = Status::unavailable(fmt::format(
            "the request's deadline for its first token ({} ms, x-llm-d-slo-ttft-ms) passed while the model was "
            "loading",
            std::chrono::duration_cast<std::chrono::milliseconds>(*job->qos.ttft_deadline - job->created).count()));
        ev.retry_after_seconds = retry;
        job->finish(ev);
      }
      lk.lock();
      continue;
    }
    std::vector<std::shared_ptr<Entry>> expired;
    for (const auto& e : entries_) {
      if (e->state != Entry::State::kReady || !e->runner->idle()) continue;
      if (e->retired) {
        expired.push_back(e);
        continue;
      }
      if (e->keep_alive < KeepAlive(0)) continue;
      const auto deadline = e->idle_since + e->keep_alive;
      if (deadline <= now) expired.push_back(e);
      else next = std::min(next, deadline);
    }
    if (!expired.empty()) {
      std::vector<std::unique_ptr<Runner>> dead;
      for (auto& e : expired)
        dead.push_back(detach_locked(e, e->retired ? e->retired : e->unload_requested ? "requested" : "expired"));
      lk.unlock();
      dead.clear();
      lk.lock();
      continue;
    }
    loaders_.reap();  // finished loads' threads (their work holds no lock any more)
    reaper_cv_.wait_until(lk, next);
  }
}

std::vector<std::shared_ptr<Job>> Scheduler::take_late_loading_locked(Clock::time_point now, Clock::time_point* next) {
  std::vector<std::shared_ptr<Job>> late;
  for (const auto& e : entries_) {
    if (e->state != Entry::State::kLoading) continue;
    std::erase_if(e->waiting, [&](const std::shared_ptr<Job>& j) {
      if (!j->qos.ttft_deadline) return false;
      if (*j->qos.ttft_deadline > now) {
        *next = std::min(*next, *j->qos.ttft_deadline);
        return false;
      }
      late.push_back(j);
      return true;
    });
  }
  return late;
}

std::string Scheduler::render_metrics() {
  // Per model name: a replaced model's retiring runner and its successor add up.
  struct Row {
    int running = 0, waiting = 0, slots = 0;
    int64_t kv_used = 0, kv_capacity = 0;  // tokens
  };
  std::map<std::string, Row> rows;
  {
    std::lock_guard<std::mutex> lk(mu_);
    for (const auto& e : entries_) {
      Row& r = rows[e->spec.name];
      if (e->state == Entry::State::kLoading) {
        r.waiting += static_cast<int>(e->waiting.size());
      } else {
        const RunnerInfo i = e->runner->info();
        r.running += i.slots_busy;
        r.waiting += i.queued;
        r.slots += i.slots_total;
        r.kv_used += i.kv_used_tokens;
        r.kv_capacity += i.kv_capacity_tokens;
      }
    }
  }
  // Gauges of models no longer loaded drop to 0 (their counters stay, as counters must).
  std::lock_guard<std::mutex> lk(render_mu_);
  metrics_.reset_gauges();
  for (const auto& [name, r] : rows) {
    ModelMetrics& m = *metrics_.for_model(name);
    m.running.set(r.running);
    m.waiting.set(r.waiting);
    m.slots.set(r.slots);
    m.kv_usage.set(r.kv_capacity > 0 ? static_cast<double>(r.kv_used) / static_cast<double>(r.kv_capacity) : 0);
    m.kv_blocks.set(static_cast<double>(r.kv_capacity / model::kKvBlockTokens));
  }
  return metrics_.registry().render();
}

std::vector<ModelStatus> Scheduler::status() const {
  std::lock_guard<std::mutex> lk(mu_);
  std::vector<ModelStatus> out;
  const auto now = Clock::now();
  const auto sys_now = std::chrono::system_clock::now();
  for (const auto& e : entries_) {
    ModelStatus s;
    s.spec = e->spec;
    s.loading = e->state == Entry::State::kLoading;
    s.size_bytes = e->size_bytes;
    s.num_ctx = e->num_ctx;
    s.num_parallel = e->num_parallel;
    s.retired = e->retired != nullptr;
    s.forever = !s.retired && e->keep_alive < KeepAlive(0);
    if (!s.loading) s.info = e->runner->info();
    else s.info.queued = static_cast<int>(e->waiting.size());
    const bool idle = !s.loading && e->runner->idle();
    // A retired runner goes the moment its last request ends.
    const auto remaining = s.retired ? Clock::duration::zero()
                           : idle    ? e->idle_since + e->keep_alive - now
                                     : Clock::duration(e->keep_alive);
    // Forever is the latest time the clock holds (adding centuries to now would overflow its
    // nanoseconds); the API prints Ollama's own far-future time for it (see `forever`).
    s.expires_at = s.forever ? std::chrono::system_clock::time_point::max()
                             : sys_now + std::chrono::duration_cast<std::chrono::system_clock::duration>(remaining);
    out.push_back(std::move(s));
  }
  return out;
}

void Scheduler::shutdown(std::chrono::milliseconds grace) {
  {
    std::lock_guard<std::mutex> lk(mu_);
    if (shutting_down_ && !reaper_.joinable()) return;
    shutting_down_ = true;
  }
  reaper_cv_.notify_all();
  capacity_cv_.notify_all();
  if (reaper_.joinable()) reaper_.join();
  // Let running work finish, up to the grace period.
  const auto deadline = Clock::now() + grace;
  for (;;) {
    bool busy = false;
    {
      std::lock_guard<std::mutex> lk(mu_);
      for (const auto& e : entries_) busy |= e->state == Entry::State::kLoading || !e->runner->idle();
    }
    if (!busy || Clock::now() >= deadline) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  loaders_.join_all();
  std::vector<std::unique_ptr<Runner>> dead;
  {
    std::lock_guard<std::mutex> lk(mu_);
    for (auto& e : entries_) {
      if (e->runner) dead.push_back(std::move(e->runner));
    }
    entries_.clear();
  }
  for (auto& r : dead) r->stop();  // fails what is still running
  dead.clear();
}

}  // namespace corral::scheduler
