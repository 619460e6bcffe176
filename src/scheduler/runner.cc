#include "scheduler/runner.h"

#include <algorithm>
#include <cmath>

#include <spdlog/spdlog.h>

#include "model/kv_storage.h"

namespace corral::scheduler {
namespace {

// Prompt chunks smaller than this make a step cost more in overhead than it gains in fairness.
constexpr int64_t kMinPromptChunk = 32;

size_t common_prefix(const std::vector<int32_t>& a, size_t a_len, const std::vector<int32_t>& b) {
  const size_t n = std::min(a_len, b.size());
  size_t i = 0;
  while (i < n && a[i] == b[i]) ++i;
  return i;
}

JobEvent text_event(std::string text) {
  JobEvent e;
  e.type = JobEvent::Type::kText;
  e.text = std::move(text);
  return e;
}

// What a sequence still owes when it ends before the model chose to: the text the detokenizer
// holds back, plus, under structured output, the fewest bytes that complete the value, so the
// text still parses.
std::string closing_text(Slot& s) {
  std::string tail = s.decoder->finish();
  if (auto* f = s.sampler->token_filter()) tail += f->bytes_to_complete();
  return tail;
}

JobEvent error_event(int status, std::string msg) {
  JobEvent e;
  e.type = JobEvent::Type::kError;
  e.http_status = status;
  e.error = std::move(msg);
  return e;
}

}  // namespace

Runner::Runner(std::shared_ptr<const model::Model> model, std::shared_ptr<const Tokenizer> tokenizer,
               RunnerConfig config, ThreadPool& pool)
    : model_(std::move(model)),
      tokenizer_(std::move(tokenizer)),
      config_(config),
      pool_(pool),
      engine_(model_, engine::EngineConfig{config.num_parallel * config.num_ctx, config.kv_type}, pool) {
  slots_.resize(static_cast<size_t>(config_.num_parallel));
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

void Runner::submit(std::shared_ptr<Job> job) {
  {
    std::lock_guard<std::mutex> lk(mu_);
    if (!stop_) {
      waiting_.push_back(std::move(job));
      queued_.fetch_add(1);
      job = nullptr;
    }
  }
  if (job) {
    if (on_dequeue_) on_dequeue_();
    job->finish(error_event(500, "model is being unloaded"));
    return;
  }
  cv_.notify_one();
}

RunnerInfo Runner::info() const {
  std::lock_guard<std::mutex> lk(info_mu_);
  RunnerInfo i = info_;
  i.slots_busy = busy_.load();
  i.queued = queued_.load();
  return i;
}

void Runner::publish_info() {
  std::lock_guard<std::mutex> lk(info_mu_);
  info_.slots_busy = busy_.load();
  info_.tokens_per_second = tps_ema_;
  info_.kv_used_tokens = engine_.kv().used_blocks() * model::kKvBlockTokens;
}

void Runner::loop() {
  bool was_busy = false;
  for (;;) {
    std::vector<std::shared_ptr<Job>> admit_now, dropped;
    {
      std::unique_lock<std::mutex> lk(mu_);
      cv_.wait(lk, [&] { return stop_ || !waiting_.empty() || busy_.load() > 0; });
      if (stop_) break;
      int free_slots = 0;
      for (const Slot& s : slots_) free_slots += !s.active();
      for (auto it = waiting_.begin(); it != waiting_.end();) {
        if ((*it)->cancelled()) {
          dropped.push_back(std::move(*it));
          it = waiting_.erase(it);
        } else if (free_slots > 0) {
          admit_now.push_back(std::move(*it));
          it = waiting_.erase(it);
          --free_slots;
        } else {
          ++it;
        }
      }
      queued_.fetch_sub(static_cast<int>(admit_now.size() + dropped.size()));
    }
    for (auto& job : dropped) {
      if (on_dequeue_) on_dequeue_();
      JobEvent e;
      e.type = JobEvent::Type::kDone;
      e.done_reason = DoneReason::kCancelled;
      job->finish(e);
    }
    for (auto& job : admit_now) {
      if (on_dequeue_) on_dequeue_();
      for (Slot& s : slots_) {
        if (!s.active()) {
          admit(std::move(job), s);
          break;
        }
      }
    }
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
  // Stopping: everything still queued or running is failed.
  std::deque<std::shared_ptr<Job>> left;
  {
    std::lock_guard<std::mutex> lk(mu_);
    left.swap(waiting_);
    queued_.store(0);
  }
  for (auto& job : left) {
    if (on_dequeue_) on_dequeue_();
    job->finish(error_event(500, "model was unloaded before the request could run"));
  }
  for (Slot& s : slots_)
    if (s.active()) fail_slot(s, 500, "model was unloaded while the request was running");
  publish_info();
}

void Runner::admit(std::shared_ptr<Job> job, Slot& slot) {
  const auto now = Clock::now();
  slot = Slot{};
  slot.job = std::move(job);
  slot.t_admitted = now;
  slot.stats.queue_duration = now - slot.job->created;
  const JobOptions& o = slot.job->options;
  slot.num_ctx = o.num_ctx > 0 ? std::min(o.num_ctx, config_.num_ctx) : config_.num_ctx;
  slot.num_predict = o.num_predict;
  busy_.fetch_add(1);
  slot.state = Slot::State::kPrefill;  // provisional; fail_slot frees it on error below

  auto prepared = slot.job->prepare ? slot.job->prepare(*tokenizer_, slot.num_ctx)
                                    : Result<PreparedPrompt>(Status::error("job has no prompt"));
  if (!prepared) return fail_slot(slot, 400, prepared.error());
  slot.tokens = std::move(prepared->tokens);
  const int64_t n_vocab = model_->config().n_vocab;
  for (int32_t t : slot.tokens)
    if (t < 0 || t >= n_vocab) return fail_slot(slot, 400, fmt::format("token id {} is out of range", t));
  if (slot.tokens.empty()) return fail_slot(slot, 400, "the prompt is empty");
  const bool embedding = slot.job->kind == JobKind::kEmbedding;
  if (embedding && static_cast<int64_t>(slot.tokens.size()) > slot.num_ctx) {
    if (!o.embed_truncate)
      return fail_slot(slot, 400, fmt::format("input length {} exceeds the context length {}", slot.tokens.size(), slot.num_ctx));
    slot.tokens.resize(static_cast<size_t>(slot.num_ctx));
  }
  if (!embedding && static_cast<int64_t>(slot.tokens.size()) >= slot.num_ctx)
    return fail_slot(slot, 400,
                     fmt::format("the prompt is {} tokens, which leaves no room in the context of {} tokens "
                                 "(raise num_ctx or shorten the prompt)",
                                 slot.tokens.size(), slot.num_ctx));
  slot.n_prompt = slot.tokens.size();
  slot.stats.prompt_tokens = static_cast<int64_t>(slot.n_prompt);

  if (!embedding) {
    slot.sampler = std::make_unique<sampling::Sampler>(o.sampling, static_cast<int>(n_vocab), static_cast<int>(slot.num_ctx));
    slot.sampler->accept_prompt(slot.tokens);
    if (slot.job->make_filter) {
      auto f = slot.job->make_filter(*tokenizer_);
      if (!f) return fail_slot(slot, 400, f.error());
      if (*f) slot.sampler->set_token_filter(std::move(f).value());
    }
    StreamDecoder::Options dopts;
    dopts.render_special = prepared->render_special;
    slot.decoder = std::make_unique<StreamDecoder>(*tokenizer_, prepared->stop, dopts);
  }

  // Reuse the longest cached prefix, from a finished sequence or one still running (e.g. the
  // same system prompt): its KV blocks are shared, not recomputed. At least one prompt token
  // is always evaluated, to produce the first logits.
  engine::KvCache& kv = engine_.kv();
  const size_t max_reuse = slot.n_prompt - 1;
  size_t best = 0;
  engine::SeqId best_seq = 0;
  auto best_prefix = prefixes_.end();
  for (auto it = prefixes_.begin(); it != prefixes_.end(); ++it) {
    const size_t c = std::min(common_prefix(it->tokens, it->tokens.size(), slot.tokens), max_reuse);
    if (c > best) best = c, best_seq = it->seq, best_prefix = it;
  }
  for (const Slot& other : slots_) {
    if (&other == &slot || !other.active() || other.n_fed == 0) continue;
    const size_t c = std::min(common_prefix(other.tokens, other.n_fed, slot.tokens), max_reuse);
    if (c > best) best = c, best_seq = other.seq, best_prefix = prefixes_.end();
  }
  if (best > 0) {
    slot.seq = kv.fork(best_seq, static_cast<int64_t>(best));
    slot.n_fed = best;
    slot.stats.cached_tokens = static_cast<int64_t>(best);
    if (config_.metrics) {
      config_.metrics->prefix_cache_hits.inc();
      config_.metrics->prefix_cache_hit_tokens.inc(static_cast<double>(best));
    }
    std::lock_guard<std::mutex> lk(info_mu_);
    ++info_.prefix_hits;
    info_.prefix_tokens_reused += static_cast<int64_t>(best);
  } else {
    slot.seq = kv.create();
  }
  // A cached prefix wholly contained in this prompt is now redundant: the new sequence holds
  // its blocks.
  if (best_prefix != prefixes_.end() && best == best_prefix->tokens.size()) {
    kv.free(best_prefix->seq);
    prefixes_.erase(best_prefix);
  }
  slot.admitted_order = admit_counter_++;
}

// Both release the slot before delivering the final event, so whoever reacts to it (a test,
// the next request) sees the slot free.
void Runner::fail_slot(Slot& slot, int http_status, const std::string& msg) {
  if (slot.seq && engine_.kv().exists(slot.seq)) engine_.kv().free(slot.seq);
  std::shared_ptr<Job> job = std::move(slot.job);
  slot = Slot{};
  busy_.fetch_sub(1);
  job->finish(error_event(http_status, msg));
}

void Runner::finish_slot(Slot& slot, const JobEvent& e, bool keep_prefix) {
  JobEvent done = e;
  done.stats = slot.stats;
  done.stats.total_duration = Clock::now() - slot.job->created;
  done.stats.load_duration = slot.job->load_duration;
  if (slot.job->options.want_context) done.context = slot.tokens;
  engine::KvCache& kv = engine_.kv();
  if (keep_prefix && slot.n_fed > 0 && config_.max_cached_prefixes > 0) {
    prefixes_.push_front(CachedPrefix{slot.seq, std::vector<int32_t>(slot.tokens.begin(), slot.tokens.begin() + static_cast<long>(slot.n_fed))});
    while (static_cast<int>(prefixes_.size()) > config_.max_cached_prefixes) drop_oldest_prefix();
  } else if (slot.seq) {
    kv.free(slot.seq);
  }
  std::shared_ptr<Job> job = std::move(slot.job);
  slot = Slot{};
  busy_.fetch_sub(1);
  job->finish(done);
}

void Runner::drop_oldest_prefix() {
  engine_.kv().free(prefixes_.back().seq);
  prefixes_.pop_back();
}

bool Runner::make_room(int64_t blocks) {
  while (blocks > engine_.kv().free_blocks() && !prefixes_.empty()) drop_oldest_prefix();
  return blocks <= engine_.kv().free_blocks();
}

void Runner::step() {
  // Drop jobs whose client went away; their KV blocks return to the pool at once.
  for (Slot& s : slots_) {
    if (s.active() && s.job->cancelled()) {
      JobEvent e;
      e.type = JobEvent::Type::kDone;
      e.done_reason = DoneReason::kCancelled;
      finish_slot(s, e, /*keep_prefix=*/false);
    }
  }

  std::vector<engine::SeqFeed> feeds;
  std::vector<Slot*> owners;
  int64_t n_decode = 0;
  for (Slot& s : slots_) {
    if (s.state != Slot::State::kDecode) continue;
    feeds.push_back({s.seq, {s.tokens[s.n_fed]}, engine::Outputs::kLast});
    owners.push_back(&s);
    ++n_decode;
  }
  // Prompt chunks share what the decode tokens leave of the budget, in round-robin order
  // from the oldest prompt, so one long prompt cannot starve the others.
  std::vector<Slot*> prefill;
  for (Slot& s : slots_)
    if (s.state == Slot::State::kPrefill) prefill.push_back(&s);
  std::sort(prefill.begin(), prefill.end(), [](Slot* a, Slot* b) { return a->admitted_order < b->admitted_order; });
  int64_t budget = std::max<int64_t>(config_.step_token_budget - n_decode, kMinPromptChunk);
  for (size_t i = 0; i < prefill.size() && budget > 0; ++i) {
    Slot& s = *prefill[i];
    const int64_t share = std::max<int64_t>(kMinPromptChunk, budget / static_cast<int64_t>(prefill.size() - i));
    const int64_t n = std::min<int64_t>(static_cast<int64_t>(s.n_prompt - s.n_fed), std::min(share, budget));
    const bool last = s.n_fed + static_cast<size_t>(n) == s.n_prompt;
    feeds.push_back({s.seq, {s.tokens.begin() + static_cast<long>(s.n_fed), s.tokens.begin() + static_cast<long>(s.n_fed + n)},
                     last ? engine::Outputs::kLast : engine::Outputs::kNone});
    owners.push_back(&s);
    budget -= n;
  }
  if (feeds.empty()) return;

  // Room in the KV pool: cached prefixes give way first; then prompt chunks wait a step.
  auto blocks_for = [&] {
    int64_t b = 0;
    for (const auto& f : feeds) b += engine_.kv().blocks_needed(f.seq, static_cast<int64_t>(f.tokens.size()));
    return b;
  };
  while (!make_room(blocks_for())) {
    if (feeds.size() > static_cast<size_t>(n_decode)) {
      feeds.pop_back();
      owners.pop_back();
      continue;
    }
    // Decoding sequences alone do not fit (only possible when requests asked for more context
    // than the pool was sized for): the newest one gives up its place.
    Slot* victim = owners.back();
    feeds.pop_back();
    owners.pop_back();
    --n_decode;
    fail_slot(*victim, 503, "KV cache is full; retry the request");
    if (feeds.empty()) return;
  }

  bool need_logits = false, need_hidden = false;
  for (size_t i = 0; i < feeds.size(); ++i) {
    if (feeds[i].outputs == engine::Outputs::kNone) continue;
    (owners[i]->job->kind == JobKind::kEmbedding ? need_hidden : need_logits) = true;
  }
  std::vector<float> logits, hidden;
  const auto t0 = Clock::now();
  Status st = engine_.eval(feeds, need_logits ? &logits : nullptr, need_hidden ? &hidden : nullptr);
  const auto t_eval = Clock::now() - t0;
  if (!st) {
    spdlog::error("engine step failed: {}", st.message());
    for (Slot* s : owners) fail_slot(*s, 500, "internal error: " + st.message());
    return;
  }

  const int64_t V = model_->config().n_vocab, E = model_->config().n_embd;
  int64_t row = 0, generated = 0, prompt_fed = 0;
  for (size_t i = 0; i < feeds.size(); ++i) {
    Slot& s = *owners[i];
    const size_t n = feeds[i].tokens.size();
    const bool has_output = feeds[i].outputs != engine::Outputs::kNone;
    const int64_t r = has_output ? row++ : -1;
    if (s.state == Slot::State::kPrefill) {
      s.n_fed += n;
      prompt_fed += static_cast<int64_t>(n);
      s.stats.prompt_eval_count += static_cast<int64_t>(n);
      s.stats.prompt_eval_duration += t_eval;
      if (!has_output) continue;
      if (s.job->kind == JobKind::kEmbedding) {
        JobEvent e;
        e.type = JobEvent::Type::kDone;
        e.embedding.assign(hidden.begin() + r * E, hidden.begin() + (r + 1) * E);
        if (s.job->options.embed_normalize) {
          double norm = 0;
          for (float v : e.embedding) norm += static_cast<double>(v) * v;
          norm = std::sqrt(norm);
          if (norm > 0)
            for (float& v : e.embedding) v = static_cast<float>(v / norm);
        }
        finish_slot(s, e, /*keep_prefix=*/true);
        continue;
      }
      s.state = Slot::State::kDecode;
    } else {
      s.n_fed += 1;
      s.stats.eval_duration += t_eval;
    }

    // Sample the next token from this sequence's logits.
    const int32_t tok = s.sampler->sample(logits.data() + r * V);
    JobEvent done;
    done.type = JobEvent::Type::kDone;
    if (tok == sampling::Sampler::kNoToken) {
      // Only structured output leaves no token allowed: the vocabulary cannot spell a byte the
      // value may go on with (a vocabulary without byte tokens may have no "{").
      std::string tail = closing_text(s);
      if (!tail.empty()) s.job->on_event(text_event(std::move(tail)));
      done.done_reason = DoneReason::kStop;
      finish_slot(s, done, true);
      continue;
    }
    s.sampler->accept(tok);
    if (s.n_generated == 0) s.stats.time_to_first_token = Clock::now() - s.job->created;
    if (tokenizer_->is_eog(tok)) {
      std::string tail = s.decoder->finish();
      if (!tail.empty()) s.job->on_event(text_event(std::move(tail)));
      done.done_reason = DoneReason::kStop;
      finish_slot(s, done, true);
      continue;
    }
    ++s.n_generated;
    ++s.stats.eval_count;
    ++generated;
    s.tokens.push_back(tok);
    std::string text = s.decoder->push(tok);
    if (!text.empty()) s.job->on_event(text_event(std::move(text)));
    if (s.decoder->stopped()) {
      done.done_reason = DoneReason::kStop;
      finish_slot(s, done, true);
      continue;
    }
    const bool out_of_budget = s.num_predict >= 0 && s.n_generated >= s.num_predict;
    const bool context_full = static_cast<int64_t>(s.n_fed) + 1 >= s.num_ctx;
    if (out_of_budget || context_full) {
      std::string tail = closing_text(s);
      if (!tail.empty()) s.job->on_event(text_event(std::move(tail)));
      done.done_reason = DoneReason::kLength;
      finish_slot(s, done, true);
    }
  }
  // Aggregate generation speed, smoothed over the last few steps.
  const double secs = std::chrono::duration<double>(t_eval).count();
  if (config_.metrics) {
    config_.metrics->prompt_tokens.inc(static_cast<double>(prompt_fed));
    config_.metrics->generation_tokens.inc(static_cast<double>(generated));
    config_.metrics->step_duration.observe(secs);
  }
  if (secs > 0 && generated > 0) {
    const double tps = static_cast<double>(generated) / secs;
    tps_ema_ = tps_ema_ == 0 ? tps : 0.8 * tps_ema_ + 0.2 * tps;
  }
}

}  // namespace corral::scheduler
