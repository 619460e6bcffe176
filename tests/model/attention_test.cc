// Attention sinks (gpt-oss) against hand computations: the sink is one more logit in each
// head's softmax, unscaled and never masked, whose probability mass is dropped.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "base/thread_pool.h"
#include "model/attention.h"
#include "model/kv_storage.h"

namespace corral::model {
namespace {

// One layer, 2 query heads sharing 1 KV head of 2 dims, one sequence of n tokens at positions
// 0..n-1, all in one batch; returns s.attn [n][2 heads][2 dims].
std::vector<float> run(const std::vector<float>& q, const std::vector<float>& k, const std::vector<float>& v,
                       const float* sinks, int64_t window, float scale) {
  ModelConfig c;
  c.n_layer = 1;
  c.n_head = 2;
  c.n_head_kv = 1;
  c.head_dim = 2;
  c.n_embd = 4;
  const int64_t n = static_cast<int64_t>(k.size()) / 2;
  KvStorage kv(kv_layout(c), 1, 2, {1});
  const int32_t block = 0;
  ForwardBatch batch;
  BatchSeq seq;
  seq.blocks[0] = &block;  // one KV group (every layer attends in full), one block
  seq.n_blocks = 1;
  batch.seqs.push_back(seq);
  for (int64_t i = 0; i < n; ++i) batch.tokens.push_back({0, static_cast<int32_t>(i), 0, true});
  ForwardScratch s;
  ThreadPool pool(2);
  s.reserve(c, n, n, n, pool.size());
  std::copy(q.begin(), q.end(), s.q.begin());
  std::copy(k.begin(), k.end(), s.k.begin());
  std::copy(v.begin(), v.end(), s.v.begin());
  store_kv(c, 0, batch, kv, s);
  attention(c, 0, window, scale, sinks, batch, kv, s, pool);
  return {s.attn.begin(), s.attn.begin() + n * 4};
}

TEST(AttentionSinks, OneKeyAndAnEqualSinkHalveTheOutput) {
  // Score 0 and sink 0: the key gets exp(0) / (exp(0) + exp(0)) = 1/2 of its value.
  const float sinks[2] = {0.0f, std::log(3.0f)};  // head 1: the key gets 1 / (1 + 3)
  const auto out = run({0, 0, 0, 0}, {1, 2}, {4, -8}, sinks, 0, 1.0f);
  EXPECT_FLOAT_EQ(out[0], 2.0f);
  EXPECT_FLOAT_EQ(out[1], -4.0f);
  EXPECT_FLOAT_EQ(out[2], 1.0f);
  EXPECT_FLOAT_EQ(out[3], -2.0f);
  // Without sinks the single key takes all the mass.
  const auto plain = run({0, 0, 0, 0}, {1, 2}, {4, -8}, nullptr, 0, 1.0f);
  EXPECT_FLOAT_EQ(plain[0], 4.0f);
  EXPECT_FLOAT_EQ(plain[3], -8.0f);
}

// Reference: p_j = exp(s_j - m) / (sum_j exp(s_j - m) + exp(sink - m)) over the keys the
// window admits, in double.
std::vector<double> expected(const std::vector<float>& q, const std::vector<float>& k, const std::vector<float>& v,
                             const float* sinks, int64_t window, double scale) {
  const int64_t n = static_cast<int64_t>(k.size()) / 2;
  std::vector<double> out(static_cast<size_t>(n * 4), 0.0);
  for (int64_t i = 0; i < n; ++i) {
    for (int64_t h = 0; h < 2; ++h) {
      const int64_t first = window > 0 ? std::max<int64_t>(0, i - window + 1) : 0;
      std::vector<double> sc;
      double m = sinks[h];
      for (int64_t j = first; j <= i; ++j) {
        sc.push_back((q[i * 4 + h * 2] * k[j * 2] + q[i * 4 + h * 2 + 1] * k[j * 2 + 1]) * scale);
        m = std::max(m, sc.back());
      }
      double sum = std::exp(sinks[h] - m);
      for (double x : sc) sum += std::exp(x - m);
      for (int64_t j = first; j <= i; ++j) {
        const double p = std::exp(sc[static_cast<size_t>(j - first)] - m) / sum;
        out[i * 4 + h * 2] += p * v[j * 2];
        out[i * 4 + h * 2 + 1] += p * v[j * 2 + 1];
      }
    }
  }
  return out;
}

TEST(AttentionSinks, MatchTheFormulaWithAndWithoutAWindow) {
  // 5 tokens; sinks above and below the scores (a sink larger than every score sets the max).
  const std::vector<float> q = {0.5f, -1.0f, 2.0f, 0.25f, 1.0f,  1.0f, -0.5f, 0.75f, 0.0f, 3.0f,
                                1.5f, -2.0f, 0.3f, 0.6f,  -1.2f, 0.9f, 2.2f,  -0.4f, 0.1f, 0.7f};
  const std::vector<float> k = {1.0f, 0.5f, -0.5f, 2.0f, 0.25f, -1.0f, 1.5f, 1.5f, -2.0f, 0.1f};
  const std::vector<float> v = {3.0f, -1.0f, 0.5f, 2.0f, -4.0f, 1.0f, 2.5f, 0.0f, 1.0f, -3.0f};
  const float sinks[2] = {1.3f, 9.0f};
  for (int64_t window : {0, 2}) {
    const auto got = run(q, k, v, sinks, window, 0.7f);
    const auto want = expected(q, k, v, sinks, window, 0.7f);
    for (size_t i = 0; i < want.size(); ++i) EXPECT_NEAR(got[i], want[i], 1e-5) << "window " << window << " i " << i;
  }
}

}  // namespace
}  // namespace corral::model
