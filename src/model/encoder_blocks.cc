#include "model/encoder_blocks.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <vector>

#include "base/check.h"
#include "kernels/api.h"

namespace corral::model {

void layer_norm(const float* x, const float* w, const float* b, float* y, int64_t n, float eps) {
  double sum = 0;
  for (int64_t i = 0; i < n; ++i) sum += x[i];
  const float mean = static_cast<float>(sum / static_cast<double>(n));
  double var = 0;
  for (int64_t i = 0; i < n; ++i) {
    const float d = x[i] - mean;
    var += static_cast<double>(d) * d;
  }
  const float scale = 1.0f / std::sqrt(static_cast<float>(var / static_cast<double>(n)) + eps);
  for (int64_t i = 0; i < n; ++i) y[i] = (x[i] - mean) * scale * w[i] + b[i];
}

void bidirectional_attention(const ModelConfig& c, float scale, const ForwardBatch& batch, ForwardScratch& s,
                             ThreadPool& pool) {
  const kernels::KernelTable& K = kernels::active();
  const int64_t n = static_cast<int64_t>(batch.tokens.size());
  // members[seq] = the batch rows of that sequence, by position.
  std::vector<std::vector<int64_t>> members(batch.seqs.size());
  for (int64_t i = 0; i < n; ++i) members[static_cast<size_t>(batch.tokens[i].seq)].push_back(i);
  for (const auto& m : members)
    for (size_t p = 0; p < m.size(); ++p)
      CORRAL_CHECK(batch.tokens[m[p]].pos == static_cast<int32_t>(p), "an encoder sequence must be whole in its batch");
  const int64_t group = c.n_head / c.n_head_kv, hd = c.head_dim, QD = c.q_dim(), KVD = c.kv_dim();
  const int64_t n_tasks = n * c.n_head;
  std::atomic<int64_t> next{0};
  pool.run([&](int ith, int) {
    float* scores = s.scores[ith].data();  // [span]: one head's weights over its sequence
    for (int64_t task; (task = next.fetch_add(1, std::memory_order_relaxed)) < n_tasks;) {
      const int64_t i = task / c.n_head, h = task % c.n_head, g = h / group;
      const std::vector<int64_t>& keys = members[static_cast<size_t>(batch.tokens[i].seq)];
      const int64_t span = static_cast<int64_t>(keys.size());
      const float* q = s.q.data() + i * QD + h * hd;
      for (int64_t j = 0; j < span; ++j) scores[j] = K.dot_f32(q, s.k.data() + keys[j] * KVD + g * hd, hd) * scale;
      K.softmax(scores, span);
      float* out = s.attn.data() + i * QD + h * hd;
      std::fill(out, out + hd, 0.0f);
      for (int64_t j = 0; j < span; ++j) K.axpy_f32(scores[j], s.v.data() + keys[j] * KVD + g * hd, out, hd);
    }
  });
}

}  // namespace corral::model
