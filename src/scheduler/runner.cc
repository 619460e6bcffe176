#include "scheduler/runner.h"

#include <algorithm>
#include <cmath>

#include <spdlog/spdlog.h>

#include "base/quote.h"
#include "engine/prefill_sharing.h"
#include "engine/step_plan.h"
#include "model/kv_storage.h"
#include "scheduler/preemption.h"

namespace corral::scheduler {
namespace {

JobEvent text_event(std::string text, std::vector<engine::TokenLogprob> logprobs = {}) {
  JobEvent e;
  e.type = JobEvent::Type::kText;
  e.text = std::move(text);
  e.logprobs = std::move(logprobs);
  return e;
}

JobEvent error_event(Status error) {
  JobEvent e;
  e.type = JobEvent::Type::kError;
  e.error = std::move(error);
  return e;
}

// Tenant-share preemption spares a resumed sequence until it has generated this many more
// tokens: it recomputed its whole context to get here, and losing the slot again at once would
// throw that away (and, with a tenant sending one request after another, could starve it).
// 16 tokens is a few steps: short next to a typical answer, long next to a step.
constexpr int64_t kShareGuardTokens = 16;

double seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

int64_t millis(double seconds) { return static_cast<int64_t>(std::llround(seconds * 1000)); }

// Smoothed over the last few samples: recent enough to follow a change of load, steady enough
// that one odd request does not swing the prediction.
double smooth(double ema, double sample) { return ema == 0 ? sample : 0.8 * ema + 0.2 * sample; }

JobEvent cancelled_event() {
  JobEvent e;
  e.type = JobEvent::Type::kDone;
  e.done_reason = DoneReason::kCancelled;
  return e;
}

DoneReason done_reason(engine::FinishReason r) {
  switch (r) {
    case engine::FinishReason::kStop: return DoneReason::kStop;
    case engine::FinishReason::kLength: return DoneReason::kLength;
    case engine::FinishReason::kCancelled: return DoneReason::kCancelled;
  }
  return DoneReason::kStop;
}

void copy_stats(const engine::SequenceStats& s, JobStats* j) {
  j->prompt_tokens = s.prompt_tokens;
  j->cached_tokens = s.cached_tokens;
  j->prompt_eval_count = s.prompt_eval_count;
  j->prompt_eval_duration = s.prompt_eval_duration;
  j->eval_count = s.eval_count;
  j->eval_duration = s.eval_duration;
  j->time_to_first_token = s.time_to_first_token;
}

}  // namespace

engine::EngineConfig engine_config(const RunnerConfig& c) {
  engine::EngineConfig e;
  e.kv_capacity_tokens = c.num_parallel * c.num_ctx;
  e.kv_type = c.kv_type;
  // Sliding-window layers hold each slot's window plus one step's tokens (the plan never feeds
  // more in a step; prompt chunks that do not fit wait a step).
  e.kv_sequences = c.num_parallel;
  e.kv_step_tokens = c.step_token_budget;
  return e;
}

Runner::Runner(std::shared_ptr<const model::Model> model, std::shared_ptr<const Tokenizer> tokenizer,
               RunnerConfig config, ThreadPool& pool)
    : model_(std::move(model)),
      tokenizer_(std::move(tokenizer)),
      config_(config),
      engine_(model_, engine_config(config), pool),
      prefixes_(engine_.kv(), config.max_cached_prefixes),
      waiting_(config.fair_by_tenant) {
  running_.reserve(static_cast<size_t>(config_.num_parallel));
  info_.slots_total = config_.num_parallel;
  info_.kv_capacity_tokens = engine_.kv().capacity_blocks() * model::kKvBlockTokens;
  thread_ = std::thread([this] { loop(); });
}

Runner::~Runner() { stop(); }

void Runner::stop() {
  {
    std::lock_guard<std::mutex> lk(mu_);
    if (stop_ && !thread_.joinable()) return;
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

std::optional<Rejection> Runner::submit(std::shared_ptr<Job> job) {
  {
    std::lock_guard<std::mutex> lk(mu_);
    if (!stop_) {
      const int ahead = waiting_.position_for(job->qos);
      const int free_slots = std::max(0, config_.num_parallel - busy_.load());
      const double wait = ahead < free_slots || share_preemption_admits(job->qos)
                              ? 0.0
                              : predicted_wait_seconds(ahead - free_slots + 1);
      if (job->qos.ttft_deadline) {
        double prefill_tps = 0;
        {
          std::lock_guard<std::mutex> ilk(info_mu_);
          prefill_tps = info_.prefill_tokens_per_second;
        }
        const double prefill = prefill_tps > 0 ? static_cast<double>(job->prompt.tokens.size()) / prefill_tps : 0.0;
        const double allowed = seconds(*job->qos.ttft_deadline - Clock::now());
        if (wait + prefill > allowed) {
          return Rejection{
              Status::unavailable(fmt::format(
                  "predicted time to first token {} ms ({} requests ahead) exceeds the request's deadline of {} ms "
                  "(x-llm-d-slo-ttft-ms)",
                  millis(wait + prefill), ahead, millis(seconds(*job->qos.ttft_deadline - job->created)))),
              retry_after_seconds(wait)};
        }
      }
      job->placement = QueuePlacement{.known = true, .position = ahead, .eta_ms = millis(wait)};
      waiting_.push(std::move(job));
      queued_.fetch_add(1);
      job = nullptr;
    }
  }
  if (job) {
    job->finish(error_event(Status::internal("model is being unloaded")));
    return std::nullopt;
  }
  cv_.notify_one();
  return std::nullopt;
}

bool Runner::share_preemption_admits(const JobQos& qos) const {
  if (!config_.tenant_preempt || !waiting_.by_tenant()) return false;
  const std::string& tenant = waiting_.tenant_of(qos);
  const auto own_it = held_.find(tenant);
  const int own = (own_it == held_.end() ? 0 : own_it->second) + waiting_.queued_of(tenant);
  return std::any_of(held_.begin(), held_.end(),
                     [&](const auto& h) { return h.first != tenant && h.second >= own + 2; });
}

double Runner::predicted_wait_seconds(int slots_to_free) const {
  std::lock_guard<std::mutex> lk(info_mu_);
  if (info_.drain_per_second <= 0 || slots_to_free <= 0) return 0;
  return static_cast<double>(slots_to_free) / info_.drain_per_second;
}

int Runner::retry_after_seconds(double wait_seconds) const {
  // At least a second (Retry-After's unit), at most an hour: past that the estimate means little.
  return static_cast<int>(std::clamp(std::ceil(wait_seconds), 1.0, 3600.0));
}

RunnerInfo Runner::info() const {
  std::lock_guard<std::mutex> lk(info_mu_);
  RunnerInfo i = info_;
  i.slots_busy = busy_.load();
  i.queued = queued_.load();
  const int free_slots = std::max(0, i.slots_total - i.slots_busy);
  if (i.queued >= free_slots && i.drain_per_second > 0)
    i.queue_eta_ms = millis(static_cast<double>(i.queued - free_slots + 1) / i.drain_per_second);
  return i;
}

void Runner::publish_info() {
  std::lock_guard<std::mutex> lk(info_mu_);
  info_.slots_busy = busy_.load();
  info_.tokens_per_second = tps_ema_;
  info_.kv_used_tokens = engine_.kv().used_blocks() * model::kKvBlockTokens;
  info_.drain_per_second = service_seconds_ema_ > 0 ? config_.num_parallel / service_seconds_ema_ : 0;
}

void Runner::take_waiting(std::vector<std::shared_ptr<Job>>* admit_now, std::vector<Running>* resume_now,
                          std::vector<std::shared_ptr<Job>>* dropped, std::vector<std::shared_ptr<Job>>* expired) {
  const auto now = Clock::now();
  const size_t n_dropped = dropped->size();
  waiting_.remove_if([](const Job& j) { return j.cancelled(); }, dropped);
  for (size_t i = n_dropped; i < dropped->size(); ++i)
    if (Running* p = find_preempted((*dropped)[i].get())) take_preempted(p);
  // A preempted job has had its slot: its deadline (for the first token) is behind it.
  waiting_.remove_if(
      [&](const Job& j) { return j.qos.ttft_deadline && *j.qos.ttft_deadline <= now && !find_preempted(&j); }, expired);
  // Slots per tenant: running, plus those taken in this round.
  std::map<std::string, int> held;
  for (const Running& r : running_) ++held[waiting_.tenant_of(r.job->qos)];
  int free_slots = config_.num_parallel - static_cast<int>(running_.size());
  int taken = 0;
  while (!waiting_.empty()) {
    std::shared_ptr<Job> job;
    if (free_slots > 0) {
      job = waiting_.pop();
    } else {
      // Victims come from running_ only (this round's jobs join it after): at most one
      // preemption per slot and step.
      Running* victim = victim_for(*waiting_.peek(), held);
      if (!victim) break;
      // Popped before the victim is queued again, which could otherwise come first.
      job = waiting_.pop();
      --held[waiting_.tenant_of(victim->job->qos)];
      preempt(victim, *job);
      ++free_slots;
    }
    ++held[waiting_.tenant_of(job->qos)];
    --free_slots;
    ++taken;
    if (Running* p = find_preempted(job.get())) {
      resume_now->push_back(take_preempted(p));
    } else {
      admit_now->push_back(std::move(job));
    }
  }
  // The taken jobs' slots count as busy before the jobs stop counting as queued: idle() must
  // never read 0 and 0 in between (the scheduler's reaper would unload a keep_alive 0 model
  // under a request it is about to admit).
  busy_.fetch_add(static_cast<int>(taken));
  queued_.fetch_sub(static_cast<int>(taken + (dropped->size() - n_dropped) + expired->size()));
  held_ = std::move(held);
}

Runner::Running* Runner::find_preempted(const Job* job) {
  for (Running& p : preempted_)
    if (p.job.get() == job) return &p;
  return nullptr;
}

Runner::Running Runner::take_preempted(Running* p) {
  Running r = std::move(*p);
  if (p != &preempted_.back()) *p = std::move(preempted_.back());
  preempted_.pop_back();
  return r;
}

Runner::Running* Runner::victim_for(const Job& next, const std::map<std::string, int>& held) {
  const PreemptionPolicy policy{.by_class = config_.preempt,
                                .by_share = config_.tenant_preempt && waiting_.by_tenant()};
  if (!policy.by_class && !policy.by_share) return nullptr;
  std::vector<SlotHolder> holders;
  holders.reserve(running_.size());
  for (const Running& r : running_)
    holders.push_back(SlotHolder{.priority = r.job->qos.priority,
                                 .tenant = &waiting_.tenant_of(r.job->qos),
                                 .order = r.seq->order,
                                 .preemptable = !r.seq->embedding && !r.seq->encoder,
                                 .generated = r.seq->n_generated,
                                 .guard_until = r.share_guard_until});
  const int v = choose_victim(holders, SlotSeeker{next.qos.priority, &waiting_.tenant_of(next.qos)}, held, policy);
  return v < 0 ? nullptr : &running_[static_cast<size_t>(v)];
}

void Runner::preempt(Running* victim, const Job& for_job) {
  Running r = std::move(*victim);
  running_.erase(running_.begin() + (victim - running_.data()));
  engine_.kv().free(r.seq->kv);
  r.seq->kv = 0;
  r.seq->n_fed = 0;
  r.seq->state = engine::Sequence::State::kWaiting;
  busy_.fetch_sub(1);
  queued_.fetch_add(1);
  if (config_.preemptions) config_.preemptions->inc();
  {
    std::lock_guard<std::mutex> lk(info_mu_);
    ++info_.preemptions;
  }
  spdlog::debug("preempted a request (tenant {}, priority {}, {} tokens) for one of tenant {}, priority {}",
                quote_text(r.job->qos.tenant), r.job->qos.priority, r.seq->tokens.size(),
                quote_text(for_job.qos.tenant), for_job.qos.priority);
  waiting_.requeue(r.job);
  preempted_.push_back(std::move(r));
}

void Runner::loop() {
  bool was_busy = false;
  for (;;) {
    std::vector<std::shared_ptr<Job>> admit_now, dropped, expired;
    std::vector<Running> resume_now;
    {
      std::unique_lock<std::mutex> lk(mu_);
      cv_.wait(lk, [&] { return stop_ || !waiting_.empty() || busy_.load() > 0; });
      if (stop_) break;
      take_waiting(&admit_now, &resume_now, &dropped, &expired);
    }
    for (auto& job : dropped) job->finish(cancelled_event());
    if (!expired.empty()) {
      const int retry = retry_after_seconds(predicted_wait_seconds(queued_.load() + 1));
      for (auto& job : expired) {
        JobEvent e = error_event(Status::unavailable(
            fmt::format("the request's deadline for its first token ({} ms, x-llm-d-slo-ttft-ms) passed while it "
                        "was queued",
                        millis(seconds(*job->qos.ttft_deadline - job->created)))));
        e.retry_after_seconds = retry;
        job->finish(e);
      }
    }
    for (Running& r : resume_now) resume(std::move(r));
    for (auto& job : admit_now) admit(std::move(job));
    if (busy_.load() > 0) {
      was_busy = true;
      step();
    }
    publish_info();
    if (was_busy && busy_.load() == 0 && queued_.load() == 0) {
      was_busy = false;
      if (on_idle_) on_idle_();
    }
  }
  stop_all();
}

void Runner::resume(Running r) {  // its slot: reserved by take_waiting
  engine::Sequence& s = *r.seq;
  // Every token so far is recomputed as if it were prompt: the last one's logits then sample
  // the next token exactly as the decode step it missed would have.
  s.n_prompt = s.tokens.size();
  std::vector<engine::HeldPrefix> held;
  for (const Running& other : running_) held.push_back({other.seq->kv, &other.seq->tokens, other.seq->n_fed});
  const engine::PrefixCache::Start start = prefixes_.start(s.tokens, held);
  s.kv = start.kv;
  s.n_fed = start.reused;
  s.state = engine::Sequence::State::kPrefilling;
  r.admitted = Clock::now();
  r.share_guard_until = s.n_generated + kShareGuardTokens;
  running_.push_back(std::move(r));
}

// Stopping: everything still queued or running is failed.
void Runner::stop_all() {
  std::vector<std::shared_ptr<Job>> left;
  {
    std::lock_guard<std::mutex> lk(mu_);
    left = waiting_.take_all();  // preempted jobs included
    preempted_.clear();
    queued_.store(0);
  }
  for (auto& job : left) job->finish(error_event(Status::internal("model was unloaded before the request could run")));
  while (!running_.empty())
    fail(running_.back().seq.get(), Status::internal("model was unloaded while the request was running"));
  publish_info();
}

Result<std::unique_ptr<engine::Sequence>> Runner::make_sequence(Job& job) {
  const JobOptions& o = job.options;
  engine::SequenceRequest req;
  req.embedding = job.kind == JobKind::kEmbedding;
  req.num_ctx = effective_num_ctx(config_.num_ctx, o.num_ctx);
  req.tokens = std::move(job.prompt.tokens);
  req.stop = std::move(job.prompt.stop);
  req.render_special = job.prompt.render_special;
  req.sampling = o.sampling;
  req.num_predict = o.num_predict;
  req.top_logprobs = o.top_logprobs;
  req.embed_normalize = o.embed_normalize;
  req.embed_truncate = o.embed_truncate;
  req.created = job.created;
  req.encoder = !model_->config().causal;
  req.pooling = model_->config().pooling;
  CORRAL_ASSIGN_OR_RETURN(auto seq, engine::make_sequence(std::move(req), *tokenizer_, model_->config().n_vocab));
  if (!seq->embedding && job.filter) seq->sampler->set_token_filter(std::move(job.filter));
  return seq;
}

void Runner::admit(std::shared_ptr<Job> job) {
  const auto queued_for = Clock::now() - job->created;
  // The slot was reserved by take_waiting (busy_), so the runner is not idle from there on.
  auto seq = make_sequence(*job);
  if (!seq) {
    busy_.fetch_sub(1);
    job->finish(error_event(seq.status()));
    return;
  }
  engine::Sequence& s = **seq;
  if (s.encoder) {
    // A non-causal model's tokens depend on the whole input: no prefix can be reused.
    s.kv = engine_.kv().create();
  } else {
    std::vector<engine::HeldPrefix> held;
    for (const Running& r : running_) held.push_back({r.seq->kv, &r.seq->tokens, r.seq->n_fed});
    const engine::PrefixCache::Start start = prefixes_.start(s.tokens, held);
    s.kv = start.kv;
    s.n_fed = start.reused;
    s.stats.cached_tokens = static_cast<int64_t>(start.reused);
    if (start.reused > 0) count_prefix_hit(1, start.reused);
  }
  s.order = admit_counter_++;
  s.priority = job->qos.priority;
  // A hash, not a table: tenants come and go without bound; two that collide merely share a
  // prompt budget.
  s.tenant = static_cast<uint32_t>(std::hash<std::string>{}(job->qos.tenant));
  s.state = engine::Sequence::State::kPrefilling;
  running_.push_back(Running{std::move(job), std::move(seq).value(), queued_for, Clock::now()});
}

void Runner::count_prefix_hit(int64_t requests, size_t reused) {
  if (config_.metrics) {
    config_.metrics->prefix_cache_hits.inc(static_cast<double>(requests));
    config_.metrics->prefix_cache_hit_tokens.inc(static_cast<double>(reused));
  }
  std::lock_guard<std::mutex> lk(info_mu_);
  info_.prefix_hits += requests;
  info_.prefix_tokens_reused += static_cast<int64_t>(reused);
}

// The sequence is destroyed here: callers use nothing of it afterwards.
std::shared_ptr<Job> Runner::release(engine::Sequence* seq, bool keep_prefix, JobStats* stats) {
  auto it = std::find_if(running_.begin(), running_.end(), [&](const Running& r) { return r.seq.get() == seq; });
  Running r = std::move(*it);
  running_.erase(it);
  service_seconds_ema_ = smooth(service_seconds_ema_, seconds(Clock::now() - r.admitted));
  if (stats) {
    copy_stats(seq->stats, stats);
    stats->queue_duration = r.queue_duration;
  }
  if (keep_prefix) {
    const auto fed_end = seq->tokens.begin() + static_cast<long>(seq->n_fed);
    prefixes_.keep(seq->kv, std::vector<int32_t>(seq->tokens.begin(), fed_end));
  } else {
    engine_.kv().free(seq->kv);
  }
  busy_.fetch_sub(1);
  return std::move(r.job);
}

void Runner::fail(engine::Sequence* seq, const Status& error, int retry_after_seconds) {
  JobEvent e = error_event(error);
  e.retry_after_seconds = retry_after_seconds;
  release(seq, /*keep_prefix=*/false, nullptr)->finish(e);
}

void Runner::finish(engine::Sequence* seq, std::vector<float> embedding) {
  JobEvent done;
  done.type = JobEvent::Type::kDone;
  done.done_reason = done_reason(seq->finish_reason);
  if (seq->decoder) done.stop_sequence = seq->decoder->matched_stop();
  done.embedding = std::move(embedding);
  const bool cancelled = seq->finish_reason == engine::FinishReason::kCancelled;
  std::shared_ptr<Job> job = running_job(seq);
  if (job->options.want_context) done.context = seq->tokens;
  job = release(seq, /*keep_prefix=*/!cancelled && !seq->encoder, &done.stats);
  done.stats.total_duration = Clock::now() - job->created;
  done.stats.load_duration = job->load_duration;
  job->finish(done);
}

const std::shared_ptr<Job>& Runner::running_job(const engine::Sequence* seq) const {
  return std::find_if(running_.begin(), running_.end(), [&](const Running& r) { return r.seq.get() == seq; })->job;
}

void Runner::drop_cancelled() {
  std::vector<engine::Sequence*> gone;
  for (const Running& r : running_)
    if (r.job->cancelled()) gone.push_back(r.seq.get());
  for (engine::Sequence* s : gone) {
    s->finish(engine::FinishReason::kCancelled);
    finish(s, {});
  }
}

engine::StepPlan Runner::plan() {
  std::vector<engine::Sequence*> seqs;
  for (const Running& r : running_) seqs.push_back(r.seq.get());
  const engine::PrefillSharing sharing = engine::share_prefills(seqs, engine_.kv());
  if (sharing.shared_tokens > 0) count_prefix_hit(sharing.first_hits, static_cast<size_t>(sharing.shared_tokens));
  const engine::KvCache& kv = engine_.kv();
  const engine::KvRoom room{[&kv](const engine::Sequence& s, int64_t n) { return kv.blocks_needed(s.kv, n); },
                            [this](const engine::KvBlocks& blocks) { return prefixes_.make_room(blocks); }};
  return engine::plan_step(sharing.run, config_.step_token_budget, room);
}

engine::StepResult Runner::run(const engine::StepPlan& plan) {
  bool need_logits = false, need_hidden = false;
  for (const engine::PlannedFeed& f : plan.feeds)
    if (f.outputs != engine::Outputs::kNone) (f.seq->embedding ? need_hidden : need_logits) = true;
  std::vector<float> logits, hidden;
  const auto t0 = Clock::now();
  engine_.eval(engine::feeds_for(plan), need_logits ? &logits : nullptr, need_hidden ? &hidden : nullptr);
  engine::StepOutputs out;
  out.eval_time = Clock::now() - t0;
  out.logits = need_logits ? logits.data() : nullptr;
  out.hidden = need_hidden ? hidden.data() : nullptr;
  out.n_vocab = model_->config().n_vocab;
  out.n_embd = model_->config().n_embd;
  engine::StepResult result = engine::apply_step(plan, out, *tokenizer_);
  record_step(result, out.eval_time);
  return result;
}

// Streams each sequence's text, then ends the finished ones.
void Runner::deliver(engine::StepResult& result) {
  for (engine::SequenceOutput& o : result.outputs) {
    if (!o.text.empty() || !o.logprobs.empty())
      running_job(o.seq)->on_event(text_event(std::move(o.text), std::move(o.logprobs)));
    if (o.finished()) finish(o.seq, std::move(o.embedding));
  }
}

void Runner::step() {
  drop_cancelled();  // their KV blocks return to the pool at once
  const engine::StepPlan p = plan();
  if (!p.evicted.empty()) {
    // Like a full queue: retry once the work ahead has drained (every queued job plus this one
    // needs a slot's worth of the measured drain).
    const int retry = retry_after_seconds(predicted_wait_seconds(queued_.load() + 1));
    for (engine::Sequence* s : p.evicted) fail(s, Status::exhausted("KV cache is full; retry the request"), retry);
  }
  if (p.feeds.empty()) return;
  engine::StepResult result = run(p);
  deliver(result);
}

void Runner::record_step(const engine::StepResult& r, Clock::duration eval_time) {
  // Aggregate generation speed, smoothed over the last few steps.
  const double secs = std::chrono::duration<double>(eval_time).count();
  if (config_.metrics) {
    config_.metrics->prompt_tokens.inc(static_cast<double>(r.prompt_tokens));
    config_.metrics->generation_tokens.inc(static_cast<double>(r.generated));
    config_.metrics->step_duration.observe(secs);
  }
  if (secs > 0 && r.prompt_tokens > 0) {
    const double tps = static_cast<double>(r.prompt_tokens) / secs;
    const double ema = smooth(prefill_tps_ema_, tps);
    prefill_tps_ema_ = ema;
    std::lock_guard<std::mutex> lk(info_mu_);
    info_.prefill_tokens_per_second = ema;
  }
  if (secs > 0 && r.generated > 0) {
    const double tps = static_cast<double>(r.generated) / secs;
    tps_ema_ = tps_ema_ == 0 ? tps : 0.8 * tps_ema_ + 0.2 * tps;
  }
}

}  // namespace corral::scheduler
