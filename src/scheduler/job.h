// A unit of work for a loaded model (a completion or an embedding) and the events it reports
// back. The API layer builds a Job, the scheduler queues it, a model's runner executes it on its
// engine thread and reports through the job's callback.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "engine/sequence.h"
#include "sampling/sampling_params.h"
#include "sampling/token_filter.h"

namespace corral::scheduler {

using Clock = std::chrono::steady_clock;

// A job's prompt, rendered and tokenized by the API layer on the request's thread (with
// Scheduler::tokenizer_for) before the job is submitted.
struct PreparedPrompt {
  std::vector<int32_t> tokens;
  std::vector<std::string> stop;  // stop sequences (request's, else the template family's)
  bool render_special = false;    // stream control tokens' text too (raw mode)
};

enum class JobKind { kCompletion, kEmbedding };

struct JobOptions {
  sampling::SamplingParams sampling;
  int64_t num_predict = -1;   // -1: until a stop condition or the context is full
  int64_t num_ctx = 0;        // 0: the model's default
  int top_logprobs = -1;      // -1: no logprobs; else each token's plus this many alternatives
  bool want_context = false;  // report the final token sequence (generate's `context`)
  bool embed_normalize = true;
  bool embed_truncate = true;  // embeddings: cut an over-long input to num_ctx instead of failing
};

// Who a job runs for and how urgent it is (server/request_qos.h reads it from the request:
// the API key's tenant or x-llm-d-inference-fairness-id, x-llm-d-inference-objective or the
// body's `priority`, x-llm-d-slo-ttft-ms).
struct JobQos {
  std::string tenant;  // "": the default tenant every request without one shares
  // Lower runs first (vLLM's convention); 0 is vLLM's default and CORRAL_OBJECTIVES' "standard".
  int priority = 0;
  std::string priority_class;  // the metrics label: the objective's name, "default" or "other"
  // The first token must come by then: refused at once when predicted later, dropped when the
  // time passes while queued (both a 503 with Retry-After).
  std::optional<Clock::time_point> ttft_deadline;
};

// Where a job stood when it was queued: x-corral-queue-position / x-corral-queue-eta-ms.
struct QueuePlacement {
  bool known = false;  // set by the scheduler before the job can run
  int position = 0;    // jobs that go before it (0: a slot was free)
  int64_t eta_ms = 0;  // predicted wait for a slot, from measured rates (0 before any were measured)
};

// A request the scheduler would not take: the queue is full (kResourceExhausted), its deadline
// cannot be met or the server is shutting down (kUnavailable).
struct Rejection {
  Status status;
  int retry_after_seconds = 1;
};

enum class DoneReason { kStop, kLength, kCancelled };
const char* done_reason_name(DoneReason r);

struct JobStats {
  int64_t prompt_eval_count = 0;  // prompt tokens actually evaluated (after prefix reuse)
  int64_t prompt_tokens = 0;      // prompt tokens in total
  int64_t cached_tokens = 0;      // prompt tokens reused from the prefix cache
  Clock::duration prompt_eval_duration{};
  int64_t eval_count = 0;  // generated tokens
  Clock::duration eval_duration{};
  Clock::duration load_duration{};
  Clock::duration queue_duration{};  // waiting for a slot or a load
  Clock::duration total_duration{};
  Clock::duration time_to_first_token{};
};

struct JobEvent {
  enum class Type { kText, kDone, kError };
  Type type = Type::kText;
  std::string text;                            // kText: the next chunk of output
  std::vector<engine::TokenLogprob> logprobs;  // kText: the tokens behind it, when asked
  // kDone:
  DoneReason done_reason = DoneReason::kStop;
  std::string stop_sequence;  // the stop sequence that ended generation ("" if none)
  JobStats stats;
  std::vector<int32_t> context;  // when want_context: prompt + generated tokens
  std::vector<float> embedding;  // kEmbedding
  // kError: what went wrong; its code is the kind of failure (server/ maps it to a response).
  Status error;
  // kError: > 0 when the client should retry after this many seconds (a deadline that passed
  // in the queue or while the model loaded, kUnavailable; the KV cache full,
  // kResourceExhausted): answered like a Rejection, with Retry-After.
  int retry_after_seconds = 0;

  // The job's TTFT deadline passed before its first token (a 503 with Retry-After).
  bool deadline_missed() const {
    return type == Type::kError && retry_after_seconds > 0 && error.code() == StatusCode::kUnavailable;
  }
};

class Job {
 public:
  JobKind kind = JobKind::kCompletion;
  JobOptions options;
  PreparedPrompt prompt;
  std::unique_ptr<sampling::TokenFilter> filter;  // structured output; null: unconstrained
  // Called on the runner's thread (or the scheduler's, for errors before admission). After a
  // kDone or kError event no other event follows.
  std::function<void(const JobEvent&)> on_event;
  JobQos qos;
  QueuePlacement placement;  // written before the job is queued, read once it has events

  // The client went away: the runner drops the job within one engine step.
  void cancel() { cancelled_.store(true); }
  bool cancelled() const { return cancelled_.load(); }

  Clock::time_point created = Clock::now();
  // Set by the scheduler when this job had to wait for its model to load.
  Clock::duration load_duration{};

  // Delivers a terminal event once (later calls are ignored); returns whether it was delivered.
  bool finish(const JobEvent& e);
  bool finished() const { return finished_.load(); }

 private:
  std::atomic<bool> cancelled_{false};
  std::atomic<bool> finished_{false};
};

}  // namespace corral::scheduler
