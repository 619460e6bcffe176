#include "model/attention.h"

#include <algorithm>
#include <atomic>
#include <cstring>

#include "kernels/api.h"

namespace corral::model {
namespace {

// Writes n floats at element `offset` of a KV head row, in the cache's element type.
void store_kv_row(const KvStorage& kv, void* head, int64_t offset, const float* src, int64_t n) {
  if (kv.type() == DType::kF32) {
    std::memcpy(static_cast<float*>(head) + offset, src, static_cast<size_t>(n) * sizeof(float));
  } else {
    kernels::quantize_row(kv.type(), src, static_cast<uint16_t*>(head) + offset, n);
  }
}

// The first n elements of a KV head block as f32: in place for an F32 cache, else widened
// into `scratch` (one block at a time, so the f32 copy stays in L1).
const float* load_kv_block(const KvStorage& kv, const void* head, int64_t n, float* scratch) {
  if (kv.type() == DType::kF32) return static_cast<const float*>(head);
  kernels::dequantize_row(kv.type(), head, scratch, n);
  return scratch;
}

}  // namespace

void store_kv(const ModelConfig& c, int64_t il, const ForwardBatch& batch, const KvStorage& kv, ForwardScratch& s) {
  const int64_t hd = c.head_dim, KVD = c.kv_dim();
  for (size_t i = 0; i < batch.tokens.size(); ++i) {
    const BatchToken& t = batch.tokens[i];
    const int32_t block = batch.seqs[t.seq].blocks[kv.group_of(il)][t.pos / kKvBlockTokens];
    const int64_t slot = t.pos % kKvBlockTokens;
    const float* ki = s.k.data() + i * KVD;
    const float* vi = s.v.data() + i * KVD;
    for (int64_t g = 0; g < c.n_head_kv; ++g) {
      store_kv_row(kv, kv.k(block, il, g), slot * hd, ki + g * hd, hd);
      store_kv_row(kv, kv.v(block, il, g), slot * hd, vi + g * hd, hd);
    }
  }
}

// The batch's K/V were written to the cache first, so tokens of one sequence in the same batch
// see each other exactly as if they had been decoded one at a time.
void attention(const ModelConfig& c, int64_t il, int64_t window, float scale, const float* sinks,
               const ForwardBatch& batch, const KvStorage& kv, ForwardScratch& s, ThreadPool& pool) {
  const kernels::KernelTable& K = kernels::active();
  const int64_t n = static_cast<int64_t>(batch.tokens.size());
  const int64_t group = c.n_head / c.n_head_kv;
  const int64_t hd = c.head_dim;
  const int64_t n_tasks = n * c.n_head_kv;
  const int64_t group_of_layer = kv.group_of(il);
  std::atomic<int64_t> next{0};
  pool.run([&](int ith, int) {
    float* scores = s.scores[ith].data();       // [group][stride]: the group's heads
    float* block_f32 = s.kv_block[ith].data();  // an F16 cache's block, widened once for the group
    for (int64_t task; (task = next.fetch_add(1, std::memory_order_relaxed)) < n_tasks;) {
      const int64_t i = task / c.n_head_kv, g = task % c.n_head_kv;
      const BatchToken& t = batch.tokens[i];
      const int32_t* blocks = batch.seqs[t.seq].blocks[group_of_layer];  // [n_blocks]
      const int64_t n_ctx = t.pos + 1;
      // Positions [first, n_ctx) are attended; score of position p sits at p - first.
      const int64_t first = window > 0 ? std::max<int64_t>(0, n_ctx - window) : 0;
      const int64_t span = n_ctx - first;
      // A sink is one more softmax entry after the span's scores (only its share of the
      // normalisation matters, so its weight is never used).
      const int64_t stride = sinks ? span + 1 : span;
      const int64_t b0 = first / kKvBlockTokens;
      const int64_t n_blocks = (n_ctx + kKvBlockTokens - 1) / kKvBlockTokens;
      const float* q = s.q.data() + i * c.q_dim() + g * group * hd;  // [group][hd]
      float* out = s.attn.data() + i * c.q_dim() + g * group * hd;   // [group][hd]
      // Every head of the group reads the same K and V: each block is loaded (and widened)
      // once for all of them. Per head, the operations and their order do not depend on the
      // group, so results equal a head-by-head loop's exactly.
      for (int64_t b = b0; b < n_blocks; ++b) {
        const int64_t start = b * kKvBlockTokens;
        const int64_t len = std::min<int64_t>(kKvBlockTokens, n_ctx - start);
        const int64_t j0 = std::max<int64_t>(0, first - start);
        const float* kb = load_kv_block(kv, kv.k(blocks[b], il, g), len * hd, block_f32);
        for (int64_t h = 0; h < group; ++h) {
          float* sh = scores + h * stride + (start - first);
          for (int64_t j = j0; j < len; ++j) sh[j] = K.dot_f32(q + h * hd, kb + j * hd, hd) * scale;
        }
      }
      for (int64_t h = 0; h < group; ++h) {
        if (sinks) scores[h * stride + span] = sinks[g * group + h];
        K.softmax(scores + h * stride, stride);
      }
      std::fill(out, out + group * hd, 0.0f);
      for (int64_t b = b0; b < n_blocks; ++b) {
        const int64_t start = b * kKvBlockTokens;
        const int64_t len = std::min<int64_t>(kKvBlockTokens, n_ctx - start);
        const int64_t j0 = std::max<int64_t>(0, first - start);
        const float* vb = load_kv_block(kv, kv.v(blocks[b], il, g), len * hd, block_f32);
        for (int64_t h = 0; h < group; ++h) {
          const float* sh = scores + h * stride + (start - first);
          for (int64_t j = j0; j < len; ++j) K.axpy_f32(sh[j], vb + j * hd, out + h * hd, hd);
        }
      }
    }
  });
}

}  // namespace corral::model
