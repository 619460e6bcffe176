#include "sampling/sampler.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "base/check.h"

namespace corral::sampling {
namespace {

uint64_t resolve_seed(int64_t seed) {
  if (seed != -1) return static_cast<uint64_t>(seed);
  std::random_device rd;
  return (static_cast<uint64_t>(rd()) << 32) ^ rd();
}

}  // namespace

Sampler::Sampler(const SamplingParams& params, int n_vocab, int n_ctx)
    : params_(params), n_vocab_(n_vocab), seed_(resolve_seed(params.seed)), rng_(seed_) {
  CORRAL_CHECK(n_vocab > 0);
  CORRAL_CHECK(validate(params).is_ok(), "{}", validate(params).message());
  const bool neutral =
      params.repeat_penalty == 1.0f && params.frequency_penalty == 0.0f && params.presence_penalty == 0.0f;
  if (neutral || params.repeat_last_n == 0) {
    window_ = 0;
  } else if (params.repeat_last_n == -1) {
    window_ = n_ctx > 0 ? n_ctx : std::numeric_limits<int64_t>::max();
  } else {
    window_ = params.repeat_last_n;
  }
}

void Sampler::remember(int32_t token) {
  if (window_ == 0) return;
  history_.push_back(token);
  // Trim in bulk once the history holds two windows (plus 64 tokens, so tiny windows do not
  // trim on every token): amortised O(1) per token.
  if (window_ < std::numeric_limits<int64_t>::max() / 2 && static_cast<int64_t>(history_.size()) >= 2 * window_ + 64) {
    history_.erase(history_.begin(), history_.end() - window_);
  }
}

void Sampler::accept_prompt(std::span<const int32_t> tokens) {
  for (int32_t t : tokens) remember(t);
}

bool Sampler::accept(int32_t token) {
  remember(token);
  return !filter_ || filter_->accept(token);
}

double Sampler::next_uniform() {
  // The top 53 bits as a double in [0, 1): defined bit-for-bit, unlike
  // std::uniform_real_distribution whose algorithm differs between standard libraries.
  return static_cast<double>(rng_() >> 11) * 0x1.0p-53;
}

void Sampler::prepare(const float* logits) {
  work_.resize(n_vocab_);
  constexpr float kNegInf = -std::numeric_limits<float>::infinity();
  for (int i = 0; i < n_vocab_; ++i) {
    // A NaN would break every comparison-based step; treat it as impossible.
    work_[i] = std::isnan(logits[i]) ? kNegInf : logits[i];
  }
  if (window_ > 0 && !history_.empty()) {
    const size_t w = static_cast<size_t>(std::min<int64_t>(window_, history_.size()));
    apply_penalties(work_.data(), n_vocab_, std::span<const int32_t>(history_.data() + history_.size() - w, w),
                    params_.repeat_penalty, params_.frequency_penalty, params_.presence_penalty, penalty_scratch_);
  }
}

int32_t Sampler::sample_greedy() {
  const int32_t best = argmax(work_.data(), n_vocab_, nullptr);
  // The unconstrained argmax is also the constrained one whenever the filter allows it, which
  // spares building the whole mask on most steps.
  if (!filter_ || filter_->allows(best)) return best;
  mask_.resize(n_vocab_);
  filter_->allowed(mask_);
  const int32_t t = argmax(work_.data(), n_vocab_, mask_.data());
  return t < 0 ? kNoToken : t;
}

int32_t Sampler::sample_chain() {
  cands_.resize(n_vocab_);
  size_t n = 0;
  if (filter_) {
    mask_.resize(n_vocab_);
    filter_->allowed(mask_);
    for (int i = 0; i < n_vocab_; ++i) {
      if (mask_[i]) cands_[n++] = TokenData{i, work_[i], 0.0f};
    }
    if (n == 0) return kNoToken;
  } else {
    for (int i = 0; i < n_vocab_; ++i) cands_[i] = TokenData{i, work_[i], 0.0f};
    n = n_vocab_;
  }
  Candidates c{cands_.data(), n, false};
  top_k(c, params_.top_k);
  typical(c, params_.typical_p, step_scratch_);
  top_p(c, params_.top_p);
  min_p(c, params_.min_p);
  temperature(c, params_.temperature);
  return c.data[draw(c, next_uniform())].id;
}

int32_t Sampler::sample(const float* logits) {
  prepare(logits);
  if (params_.temperature <= 0.0f) return sample_greedy();
  return sample_chain();
}

}  // namespace corral::sampling
