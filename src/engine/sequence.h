// One sequence the engine serves: its tokens (prompt, then generated), how far it is in the KV
// cache, its sampler and streaming detokenizer, and its state. The scheduler decides which
// sequences exist; the step plan and apply (step_plan.h, step_apply.h) move them along:
// waiting -> prefilling -> decoding -> finished(reason).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "base/status.h"
#include "engine/kv_cache.h"
#include "model/config.h"
#include "sampling/sampler.h"
#include "sampling/sampling_params.h"
#include "tokenizer/stream_decoder.h"
#include "tokenizer/tokenizer.h"

namespace corral::engine {

using Clock = std::chrono::steady_clock;

enum class FinishReason {
  kStop,       // end-of-generation token, a stop sequence, or structured output complete
  kLength,     // num_predict reached or the context is full
  kCancelled,  // the caller went away
};

struct SequenceStats {
  int64_t prompt_tokens = 0;      // prompt tokens in total
  int64_t cached_tokens = 0;      // prompt tokens reused from the prefix cache
  int64_t prompt_eval_count = 0;  // prompt tokens actually evaluated (after prefix reuse)
  Clock::duration prompt_eval_duration{};
  int64_t eval_count = 0;  // generated tokens
  Clock::duration eval_duration{};
  Clock::duration time_to_first_token{};  // from `Sequence::created`
};

// One generated token's log-probability under the model: the log-softmax of the raw logits
// (before temperature, penalties and filters, as OpenAI and Ollama report them), with the most
// likely tokens of that position when asked.
struct TokenLogprob {
  int32_t token = 0;
  std::string text;  // the token's piece, control tokens shown
  float logprob = 0;
  std::vector<TokenLogprob> top;  // most likely first
};

// Largest number of alternatives per token: OpenAI's and Ollama's top_logprobs bound.
constexpr int kMaxTopLogprobs = 20;

struct Sequence {
  enum class State { kWaiting, kPrefilling, kDecoding, kFinished };
  State state = State::kWaiting;
  FinishReason finish_reason = FinishReason::kStop;  // once kFinished
  bool embedding = false;                            // ends after its prompt with the last hidden state
  bool embed_normalize = true;
  // An encoder's input (a non-causal model): its whole prompt goes through in one step, never
  // in chunks and never from a cached prefix, and every token's hidden state is pooled.
  bool encoder = false;
  model::Pooling pooling = model::Pooling::kLast;  // how an embedding is made of the hidden states

  SeqId kv = 0;                 // its KV cache sequence; 0 while waiting
  std::vector<int32_t> tokens;  // prompt + generated, in order
  size_t n_prompt = 0;          // prompt tokens
  size_t n_fed = 0;             // tokens already in the KV cache
  int64_t num_ctx = 0;          // context this sequence may fill (prompt + output)
  int64_t num_predict = -1;     // -1: until a stop condition or the context is full
  int64_t n_generated = 0;
  int top_logprobs = -1;  // -1: no logprobs; else the chosen token's plus this many alternatives
  uint64_t order = 0;     // admission order: round-robin prompt chunks
  // Set by the scheduler: prompt chunks of a better (lower) priority go first, and each tenant's
  // prompts share an equal part of a step's prompt budget (step_plan.h).
  int priority = 0;
  uint32_t tenant = 0;
  std::unique_ptr<sampling::Sampler> sampler;  // completions only
  std::unique_ptr<StreamDecoder> decoder;      // completions only
  SequenceStats stats;
  Clock::time_point created{};  // when the request arrived

  bool running() const { return state == State::kPrefilling || state == State::kDecoding; }
  size_t prompt_left() const { return n_prompt - n_fed; }
  void finish(FinishReason r) {
    state = State::kFinished;
    finish_reason = r;
  }
};

// What a caller asks the engine to run; make_sequence checks it once, here.
struct SequenceRequest {
  bool embedding = false;
  std::vector<int32_t> tokens;    // the prompt
  std::vector<std::string> stop;  // stop sequences
  bool render_special = false;    // stream control tokens' text too (raw mode)
  sampling::SamplingParams sampling;
  int64_t num_ctx = 0;
  int64_t num_predict = -1;
  int top_logprobs = -1;  // -1: none; 0..kMaxTopLogprobs alternatives per generated token
  bool embed_normalize = true;
  bool embed_truncate = true;  // cut an over-long embedding input to num_ctx instead of failing
  bool encoder = false;        // the model is an encoder (model::ModelConfig::causal false)
  model::Pooling pooling = model::Pooling::kLast;
  Clock::time_point created = Clock::now();
};

// Every id within [0, n_vocab): the one check of token ids, where they enter the engine (the
// forward pass trusts them).
Status check_token_ids(const std::vector<int32_t>& tokens, int64_t n_vocab);

// Validates the prompt (token ids within the vocabulary, not empty, room left in num_ctx; an
// embedding input may be cut to num_ctx, an encoder's keeping its closing [SEP]) and builds a
// waiting sequence: sampler and detokenizer for a completion. An encoder only makes
// embeddings. Errors are the caller's (kInvalidArgument).
Result<std::unique_ptr<Sequence>> make_sequence(SequenceRequest req, const Tokenizer& tok, int64_t n_vocab);

}  // namespace corral::engine
