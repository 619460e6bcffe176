#include "model/attention.h"

#include <algorithm>
#include <atomic>
#include <cstring>

#include "kernels/api.h"

namespace corral::model {

static_assert(kKvBlockTokens == kernels::kAttnBlockTokens, "the attention kernels walk the cache's blocks");

void store_kv(const ModelConfig& c, int64_t il, const ForwardBatch& batch, const KvStorage& kv, ForwardScratch& s) {
  const int64_t hd = c.head_dim, KVD = c.kv_dim();
  const size_t row = kv.row_bytes();
  // K rows go through the kernels' own block layout (store_k_row); V rows lie in order.
  const kernels::StoreKRowFn store_k = kernels::active().store_k_row[static_cast<uint32_t>(kv.type())];
  // One encoded K row before it is placed: in thread 0's attention scratch (free before the
  // attention runs; attention_scratch_floats holds far more than a row of head_dim floats).
  auto* k_row = reinterpret_cast<std::byte*>(s.kv_block[0].data());
  for (size_t i = 0; i < batch.tokens.size(); ++i) {
    const BatchToken& t = batch.tokens[i];
    const int32_t block = batch.seqs[t.seq].blocks[kv.group_of(il)][t.pos / kKvBlockTokens];
    const int64_t slot = t.pos % kKvBlockTokens;
    const float* ki = s.k.data() + i * KVD;
    const float* vi = s.v.data() + i * KVD;
    // Each row is encoded on its own (quantized types: its own 32-element blocks), so a
    // position's stored K/V do not depend on what else the batch holds.
    for (int64_t g = 0; g < c.n_head_kv; ++g) {
      kernels::quantize_row(kv.type(), ki + g * hd, k_row, hd);
      store_k(k_row, kv.k(block, il, g), slot, hd);
      kernels::quantize_row(kv.type(), vi + g * hd,
                            static_cast<std::byte*>(kv.v(block, il, g)) + static_cast<size_t>(slot) * row, hd);
    }
  }
}

// The batch's K/V were written to the cache first, so tokens of one sequence in the same batch
// see each other exactly as if they had been decoded one at a time. Each (token, KV head) is
// one call of the blocked kernel for the type of the cache; it walks the token's blocks in
// position order, so its result does not depend on the batch.
void attention(const ModelConfig& c, int64_t il, int64_t window, float scale, const float* sinks,
               const ForwardBatch& batch, const KvStorage& kv, ForwardScratch& s, ThreadPool& pool) {
  const kernels::AttentionFn attend = kernels::active().attention[static_cast<uint32_t>(kv.type())];
  const int64_t n = static_cast<int64_t>(batch.tokens.size());
  const int64_t group = c.n_head / c.n_head_kv;
  const int64_t hd = c.head_dim;
  const int64_t n_tasks = n * c.n_head_kv;
  const int64_t group_of_layer = kv.group_of(il);
  std::atomic<int64_t> next{0};
  pool.run([&](int ith, int) {
    const void** k_blocks = s.attn_blocks[ith].data();                 // [n_blocks] K of the task's blocks
    const void** v_blocks = k_blocks + s.attn_blocks[ith].size() / 2;  // [n_blocks] V
    for (int64_t task; (task = next.fetch_add(1, std::memory_order_relaxed)) < n_tasks;) {
      const int64_t i = task / c.n_head_kv, g = task % c.n_head_kv;
      const BatchToken& t = batch.tokens[i];
      const int32_t* blocks = batch.seqs[t.seq].blocks[group_of_layer];  // [n_blocks]
      const int64_t n_ctx = t.pos + 1;
      // Positions [first, n_ctx) are attended.
      const int64_t first = window > 0 ? std::max<int64_t>(0, n_ctx - window) : 0;
      const int64_t b0 = first / kKvBlockTokens;
      const int64_t b1 = (n_ctx + kKvBlockTokens - 1) / kKvBlockTokens;
      for (int64_t b = b0; b < b1; ++b) {
        k_blocks[b - b0] = kv.k(blocks[b], il, g);
        v_blocks[b - b0] = kv.v(blocks[b], il, g);
      }
      kernels::AttentionArgs a;
      a.group = group;
      a.head_dim = hd;
      a.scale = scale;
      a.q = s.q.data() + i * c.q_dim() + g * group * hd;  // [group][hd]
      a.sinks = sinks ? sinks + g * group : nullptr;
      a.k = k_blocks;
      a.v = v_blocks;
      a.n_blocks = b1 - b0;
      a.skip = first - b0 * kKvBlockTokens;
      a.last_len = n_ctx - (b1 - 1) * kKvBlockTokens;
      a.out = s.attn.data() + i * c.q_dim() + g * group * hd;  // [group][hd]
      a.scratch = s.kv_block[ith].data();
      attend(a);
    }
  });
}

}  // namespace corral::model
