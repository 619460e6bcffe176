#include "sampling/sampler_steps.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "base/check.h"

namespace corral::sampling {

void apply_penalties(float* logits, int n_vocab, std::span<const int32_t> window, float repeat, float frequency,
                     float presence, std::vector<int32_t>& scratch) {
  if (window.empty()) return;
  // Sorting a copy of the window groups equal tokens: O(w log w) with no vocabulary-sized
  // count table per sequence.
  scratch.assign(window.begin(), window.end());
  std::sort(scratch.begin(), scratch.end());
  for (size_t i = 0; i < scratch.size();) {
    size_t j = i + 1;
    while (j < scratch.size() && scratch[j] == scratch[i]) ++j;
    const int32_t token = scratch[i];
    const int count = static_cast<int>(j - i);
    i = j;
    if (token < 0 || token >= n_vocab) continue;
    float& l = logits[token];
    // Dividing a negative logit would raise it; multiplying lowers it (the usual fix to the
    // CTRL paper's rule, as llama.cpp does).
    l = l <= 0.0f ? l * repeat : l / repeat;
    l -= static_cast<float>(count) * frequency + presence;
  }
}

int32_t argmax(const float* logits, int n, const uint8_t* mask) {
  int32_t best = -1;
  float best_logit = 0.0f;
  for (int i = 0; i < n; ++i) {
    if (mask && !mask[i]) continue;
    // Strictly greater keeps the first (lowest id) of equal maxima.
    if (best < 0 || logits[i] > best_logit) {
      best = i;
      best_logit = logits[i];
    }
  }
  return best;
}

void softmax(Candidates& c) {
  CORRAL_CHECK(c.size > 0);
  float max_l = c.data[0].logit;
  for (size_t i = 1; i < c.size; ++i) max_l = std::max(max_l, c.data[i].logit);
  if (max_l == -std::numeric_limits<float>::infinity()) {
    for (size_t i = 0; i < c.size; ++i) c.data[i].p = 1.0f / static_cast<float>(c.size);
    return;
  }
  double sum = 0.0;
  for (size_t i = 0; i < c.size; ++i) {
    c.data[i].p = std::exp(c.data[i].logit - max_l);
    sum += c.data[i].p;
  }
  const float inv = static_cast<float>(1.0 / sum);
  for (size_t i = 0; i < c.size; ++i) c.data[i].p *= inv;
}

void top_k(Candidates& c, int k) {
  if (k <= 0 || static_cast<size_t>(k) >= c.size) return;
  // One pass with a k-element heap whose top is the worst kept candidate: O(n log k), and
  // most candidates cost one comparison against the top.
  TokenData* d = c.data;
  std::make_heap(d, d + k, ranks_before);
  for (size_t i = static_cast<size_t>(k); i < c.size; ++i) {
    if (ranks_before(d[i], d[0])) {
      std::pop_heap(d, d + k, ranks_before);
      d[k - 1] = d[i];
      std::push_heap(d, d + k, ranks_before);
    }
  }
  std::sort_heap(d, d + k, ranks_before);
  c.size = static_cast<size_t>(k);
  c.sorted = true;
}

void typical(Candidates& c, float p, StepScratch& scratch) {
  if (p >= 1.0f || c.size <= 1) return;
  softmax(c);
  double entropy = 0.0;
  for (size_t i = 0; i < c.size; ++i) {
    const float pi = c.data[i].p;
    if (pi > 0.0f) entropy -= pi * std::log(pi);
  }
  // Rank by |surprisal - entropy|; the id breaks ties so the order is reproducible.
  auto& score = scratch.floats;
  auto& order = scratch.ints;
  score.resize(c.size);
  order.resize(c.size);
  for (size_t i = 0; i < c.size; ++i) {
    const float pi = c.data[i].p;
    score[i] =
        pi > 0.0f ? static_cast<float>(std::fabs(-std::log(pi) - entropy)) : std::numeric_limits<float>::infinity();
    order[i] = static_cast<int32_t>(i);
  }
  std::sort(order.begin(), order.end(), [&](int32_t a, int32_t b) {
    return score[a] < score[b] || (score[a] == score[b] && c.data[a].id < c.data[b].id);
  });
  double cum = 0.0;
  size_t keep = c.size;
  for (size_t i = 0; i < c.size; ++i) {
    cum += c.data[order[i]].p;
    if (cum > p) {  // strictly more than p, as llama.cpp
      keep = i + 1;
      break;
    }
  }
  auto& tmp = scratch.tokens;
  tmp.resize(keep);
  for (size_t i = 0; i < keep; ++i) tmp[i] = c.data[order[i]];
  std::copy(tmp.begin(), tmp.end(), c.data);
  c.size = keep;
  c.sorted = false;
}

void top_p(Candidates& c, float p) {
  if (p >= 1.0f || c.size <= 1) return;
  softmax(c);
  // Rank lazily: the nucleus is usually a few dozen tokens, so sort a 256-candidate prefix
  // first and widen it (x8) only while the mass seen is still short of p.
  size_t ranked = c.sorted ? c.size : 0;
  double cum = 0.0;
  for (size_t i = 0; i < c.size; ++i) {
    if (i == ranked) {
      const size_t next = std::min(c.size, std::max<size_t>(256, ranked * 8));
      std::partial_sort(c.data + i, c.data + next, c.data + c.size, ranks_before);
      ranked = next;
    }
    cum += c.data[i].p;
    if (cum >= p) {
      c.size = i + 1;
      break;
    }
  }
  c.sorted = true;
}

void min_p(Candidates& c, float p) {
  if (p <= 0.0f || c.size <= 1) return;
  p = std::min(p, 1.0f);
  float max_l = c.data[0].logit;
  for (size_t i = 1; i < c.size; ++i) max_l = std::max(max_l, c.data[i].logit);
  // p_i >= p * p_max  <=>  logit_i >= max_logit + log(p): no softmax needed.
  const float threshold = max_l + std::log(p);
  size_t kept = 0;
  for (size_t i = 0; i < c.size; ++i) {
    if (c.data[i].logit >= threshold) c.data[kept++] = c.data[i];
  }
  c.size = std::max<size_t>(kept, 1);  // the maximum always passes, so kept >= 1
}

void temperature(Candidates& c, float t) {
  CORRAL_DCHECK(t > 0.0f);
  float max_l = c.data[0].logit;
  for (size_t i = 1; i < c.size; ++i) max_l = std::max(max_l, c.data[i].logit);
  if (max_l == -std::numeric_limits<float>::infinity()) return;
  // Shifting by the maximum first leaves softmax unchanged and keeps a tiny temperature from
  // overflowing the logits to inf (inf - inf would be NaN in the draw).
  const float inv = 1.0f / t;
  for (size_t i = 0; i < c.size; ++i) c.data[i].logit = (c.data[i].logit - max_l) * inv;
}

size_t draw(Candidates& c, double u) {
  CORRAL_CHECK(c.size > 0);
  float max_l = c.data[0].logit;
  for (size_t i = 1; i < c.size; ++i) max_l = std::max(max_l, c.data[i].logit);
  if (max_l == -std::numeric_limits<float>::infinity()) {
    return std::min(c.size - 1, static_cast<size_t>(u * static_cast<double>(c.size)));
  }
  double sum = 0.0;
  for (size_t i = 0; i < c.size; ++i) {
    c.data[i].p = std::exp(c.data[i].logit - max_l);
    sum += c.data[i].p;
  }
  const double target = u * sum;
  double run = 0.0;
  size_t last_nonzero = 0;
  for (size_t i = 0; i < c.size; ++i) {
    const float w = c.data[i].p;
    if (w == 0.0f) continue;  // never pick a token of probability zero
    last_nonzero = i;
    run += w;
    if (run > target) return i;
  }
  return last_nonzero;  // rounding left target just above the final sum
}

}  // namespace corral::sampling
