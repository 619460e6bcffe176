// Building blocks of BERT-style encoders (nomic-bert): LayerNorm, and bidirectional attention
// within each sequence of a batch, which needs no KV cache because an encoder's sequence is
// always whole in one forward pass.
#pragma once

#include <cstdint>

#include "base/thread_pool.h"
#include "model/batch.h"
#include "model/config.h"
#include "model/forward_scratch.h"

namespace corral::model {

// y = (x - mean(x)) / sqrt(var(x) + eps) * w + b over n elements (y may be x). Mean and
// variance are summed in double, as ggml's norm does.
void layer_norm(const float* x, const float* w, const float* b, float* y, int64_t n, float eps);

// s.attn [n][q_dim] = softmax(q k^T * scale) v for every batch token over every token of its
// own sequence in the batch (no mask, no cache), from s.q [n][q_dim], s.k and s.v
// [n][kv_dim]. Each sequence's tokens must all be in the batch, at positions 0..len-1.
void bidirectional_attention(const ModelConfig& c, float scale, const ForwardBatch& batch, ForwardScratch& s,
                             ThreadPool& pool);

}  // namespace corral::model
