// One sequence's sampler: penalties over its own recent tokens, the llama.cpp chain
// (sampler_steps.h), an optional token filter for structured output, and its own seeded RNG,
// so the same seed and options give the same tokens however many other sequences run.
#pragma once

#include <cstdint>
#include <memory>
#include <random>
#include <span>
#include <vector>

#include "sampling/sampler_steps.h"
#include "sampling/sampling_params.h"
#include "sampling/token_filter.h"

namespace corral::sampling {

class Sampler {
 public:
  static constexpr int32_t kNoToken = -1;

  // params must have passed validate(). n_ctx resolves repeat_last_n = -1; when it is 0
  // (unknown) -1 means the whole history.
  Sampler(const SamplingParams& params, int n_vocab, int n_ctx = 0);

  // Prompt tokens: they count for the penalties but do not advance the token filter.
  void accept_prompt(std::span<const int32_t> tokens);
  // A generated token (normally the one sample() returned): remembered for the penalties and
  // passed to the token filter, if any. False when the filter rejected it (its state is then
  // unchanged).
  bool accept(int32_t token);

  // Chooses the next token from logits[n_vocab], which are not modified. Returns kNoToken only
  // when a token filter allows nothing. Allocates scratch on the first call only.
  int32_t sample(const float* logits);

  // Only tokens the filter allows can be chosen from now on.
  void set_token_filter(std::unique_ptr<TokenFilter> filter) { filter_ = std::move(filter); }
  TokenFilter* token_filter() const { return filter_.get(); }

  const SamplingParams& params() const { return params_; }
  // The seed in use (drawn from a random device when params.seed is -1), for reproduction.
  uint64_t seed() const { return seed_; }

 private:
  void remember(int32_t token);
  // Copies logits into work_ (NaN -> -inf) and applies the penalties.
  void prepare(const float* logits);
  int32_t sample_greedy();
  int32_t sample_chain();
  double next_uniform();

  SamplingParams params_;
  int n_vocab_;
  int64_t window_;  // penalty window in tokens; 0: penalties off
  uint64_t seed_;
  std::mt19937_64 rng_;
  std::vector<int32_t> history_;  // recent tokens, oldest first; trimmed to >= window_
  std::unique_ptr<TokenFilter> filter_;

  std::vector<float> work_;       // [n_vocab] penalised logits
  std::vector<uint8_t> mask_;     // [n_vocab] filter output
  std::vector<TokenData> cands_;  // [n_vocab] candidate storage
  std::vector<int32_t> penalty_scratch_;
  StepScratch step_scratch_;
};

}  // namespace corral::sampling
