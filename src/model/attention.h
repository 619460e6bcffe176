// Causal self-attention over the paged KV cache, with grouped KV heads and an optional
// sliding window; and the writes of a batch's K/V into the cache.
#pragma once

#include <cstdint>

#include "base/thread_pool.h"
#include "model/batch.h"
#include "model/config.h"
#include "model/forward_scratch.h"
#include "model/kv_storage.h"

namespace corral::model {

// Stores K and V of every batch token (s.k, s.v: [n][kv_dim]) for layer il at its position.
void store_kv(const ModelConfig& c, int64_t il, const ForwardBatch& batch, const KvStorage& kv, ForwardScratch& s);

// s.attn [n][q_dim] = softmax(q k^T * scale) v for every batch token over its own sequence's
// positions [first, pos], first = 0 or, with window > 0, max(0, pos - window + 1) (keys with
// pos_q - pos_k >= window are masked, as llama.cpp's sliding-window layers do). q is s.q
// [n][q_dim]; the batch's K/V must already be stored (store_kv). With sinks ([n_head], gpt-oss's
// attn_sinks) head h's softmax has one more logit, sinks[h] (unscaled, never masked), whose
// probability mass is dropped: p_j = exp(s_j - m) / (sum_j exp(s_j - m) + exp(sinks[h] - m)).
void attention(const ModelConfig& c, int64_t il, int64_t window, float scale, const float* sinks,
               const ForwardBatch& batch, const KvStorage& kv, ForwardScratch& s, ThreadPool& pool);

}  // namespace corral::model
