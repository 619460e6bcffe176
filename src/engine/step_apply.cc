#include "engine/step_apply.h"

#include <algorithm>
#include <cmath>

namespace corral::engine {
namespace {

// The prompt tokens of a prefill feed are in the cache now; true when the sequence goes on to
// sample (its last chunk produced logits).
bool apply_prefill(Sequence& s, const PlannedFeed& f, const StepOutputs& out) {
  s.n_fed += static_cast<size_t>(f.n_tokens);
  s.stats.prompt_eval_count += f.n_tokens;
  s.stats.prompt_eval_duration += out.eval_time;
  if (f.outputs == Outputs::kNone) return false;
  if (s.embedding) return false;
  s.state = Sequence::State::kDecoding;
  return true;
}

// Token t's log-softmax over the row, and the `top` most likely tokens (by logit, ties by id).
// Sums in double: a 150k-entry row in float loses the small terms.
TokenLogprob logprob_of(const float* logits, int64_t n_vocab, int32_t t, int top, const Tokenizer& tok) {
  const float max = *std::max_element(logits, logits + n_vocab);
  double sum = 0;
  for (int64_t i = 0; i < n_vocab; ++i) sum += std::exp(static_cast<double>(logits[i]) - max);
  const double lse = max + std::log(sum);
  auto entry = [&](int32_t id) {
    return TokenLogprob{.token = id,
                        .text = std::string(tok.piece(id, /*render_special=*/true)),
                        .logprob = static_cast<float>(logits[id] - lse),
                        .top = {}};
  };
  TokenLogprob out = entry(t);
  if (top <= 0) return out;
  std::vector<int32_t> ids(static_cast<size_t>(n_vocab));
  for (int64_t i = 0; i < n_vocab; ++i) ids[static_cast<size_t>(i)] = static_cast<int32_t>(i);
  const auto k = static_cast<ptrdiff_t>(std::min<int64_t>(top, n_vocab));
  std::partial_sort(ids.begin(), ids.begin() + k, ids.end(),
                    [&](int32_t a, int32_t b) { return logits[a] > logits[b] || (logits[a] == logits[b] && a < b); });
  for (ptrdiff_t i = 0; i < k; ++i) out.top.push_back(entry(ids[static_cast<size_t>(i)]));
  return out;
}

// Samples and streams the next token of a completion from its logits row.
void sample_next(Sequence& s, const float* logits, int64_t n_vocab, const Tokenizer& tok, SequenceOutput& o,
                 int64_t* generated) {
  const int32_t t = s.sampler->sample(logits);
  if (t == sampling::Sampler::kNoToken) {
    // Only structured output leaves no token allowed: the vocabulary cannot spell a byte the
    // value may go on with (a vocabulary without byte tokens may have no "{").
    o.text = closing_text(s);
    return s.finish(FinishReason::kStop);
  }
  s.sampler->accept(t);
  if (s.n_generated == 0) s.stats.time_to_first_token = Clock::now() - s.created;
  if (tok.is_eog(t)) {
    o.text = s.decoder->finish();
    return s.finish(FinishReason::kStop);
  }
  ++s.n_generated;
  ++s.stats.eval_count;
  ++*generated;
  s.tokens.push_back(t);
  if (s.top_logprobs >= 0) o.logprobs.push_back(logprob_of(logits, n_vocab, t, s.top_logprobs, tok));
  o.text = s.decoder->push(t);
  if (s.decoder->stopped()) return s.finish(FinishReason::kStop);
  const bool out_of_budget = s.num_predict >= 0 && s.n_generated >= s.num_predict;
  const bool context_full = static_cast<int64_t>(s.n_fed) + 1 >= s.num_ctx;
  if (out_of_budget || context_full) {
    o.text += closing_text(s);
    s.finish(FinishReason::kLength);
  }
}

}  // namespace

void normalize(std::vector<float>& v) {
  double norm = 0;
  for (float x : v) norm += static_cast<double>(x) * x;
  norm = std::sqrt(norm);
  if (norm > 0)
    for (float& x : v) x = static_cast<float>(x / norm);
}

std::string closing_text(Sequence& s) {
  std::string tail = s.decoder->finish();
  if (auto* f = s.sampler->token_filter()) tail += f->bytes_to_complete();
  return tail;
}

std::vector<float> pool_hidden(const float* rows, int64_t n_rows, int64_t n_embd, model::Pooling pooling) {
  if (pooling == model::Pooling::kCls) return std::vector<float>(rows, rows + n_embd);
  if (pooling == model::Pooling::kLast) {
    const float* last = rows + (n_rows - 1) * n_embd;
    return std::vector<float>(last, last + n_embd);
  }
  // Mean over every row, summed in double: a float sum over thousands of rows loses the small
  // terms (ik_llama.cpp averages in float; for 200 rows the two agree to ~1e-14 nMSE).
  std::vector<double> sum(static_cast<size_t>(n_embd));
  for (int64_t r = 0; r < n_rows; ++r)
    for (int64_t i = 0; i < n_embd; ++i) sum[static_cast<size_t>(i)] += rows[r * n_embd + i];
  std::vector<float> mean(static_cast<size_t>(n_embd));
  for (size_t i = 0; i < mean.size(); ++i) mean[i] = static_cast<float>(sum[i] / static_cast<double>(n_rows));
  return mean;
}

StepResult apply_step(const StepPlan& plan, const StepOutputs& out, const Tokenizer& tok) {
  StepResult r;
  int64_t row = 0;  // output rows (logits and hidden alike) come in feed order
  for (const PlannedFeed& f : plan.feeds) {
    Sequence& s = *f.seq;
    const bool has_output = f.outputs != Outputs::kNone;
    const int64_t n_rows = f.outputs == Outputs::kAll ? f.n_tokens : has_output ? 1 : 0;
    const int64_t r_out = has_output ? row : -1;
    row += n_rows;
    if (s.state == Sequence::State::kPrefilling) {
      r.prompt_tokens += f.n_tokens;
      if (!apply_prefill(s, f, out)) {
        if (has_output && s.embedding) {
          SequenceOutput o{&s, {}, pool_hidden(out.hidden + r_out * out.n_embd, n_rows, out.n_embd, s.pooling), {}};
          if (s.embed_normalize) normalize(o.embedding);
          s.finish(FinishReason::kStop);
          r.outputs.push_back(std::move(o));
        }
        continue;
      }
    } else {
      s.n_fed += 1;
      s.stats.eval_duration += out.eval_time;
    }
    SequenceOutput o{&s, {}, {}, {}};
    sample_next(s, out.logits + r_out * out.n_vocab, out.n_vocab, tok, o, &r.generated);
    if (!o.text.empty() || !o.logprobs.empty() || o.finished()) r.outputs.push_back(std::move(o));
  }
  return r;
}

}  // namespace corral::engine
