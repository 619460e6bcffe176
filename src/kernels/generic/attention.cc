// Scalar reference of the blocked (flash-attention style) attention kernel over a paged KV
// cache of F32, F16, Q8_0 or Q4_0 elements; see AttentionArgs in kernels/api.h. The SIMD
// levels follow the same steps per block (scores of the group, online softmax, V
// accumulation) with vector sums in another order, and over a quantized K they multiply the
// integer codes of K and of the q8-rounded query, which this reference scores as the same
// products in floats (d_q * code_q * d_k * code_k); tests/kernels/attention_test.cc holds
// them to this and this to a double-precision two-pass softmax.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstring>

#include "base/fp16.h"
#include "kernels/generic/attention_query.h"
#include "kernels/generic/families.h"
#include "tensor/blocks.h"

namespace corral::kernels {
namespace {

// n elements (a multiple of the type's block size) of a KV block as f32.
template <DType T>
void widen(const void* src, float* dst, int64_t n) {
  if constexpr (T == DType::kF32) {
    std::copy_n(static_cast<const float*>(src), n, dst);
  } else if constexpr (T == DType::kF16) {
    const auto* h = static_cast<const uint16_t*>(src);
    for (int64_t i = 0; i < n; ++i) dst[i] = fp16_to_f32(h[i]);
  } else if constexpr (T == DType::kQ8_0) {
    const auto* b = static_cast<const BlockQ8_0*>(src);
    for (int64_t i = 0; i < n / kQK8_0; ++i) {
      const float d = fp16_to_f32(b[i].d);
      for (int j = 0; j < kQK8_0; ++j) dst[i * kQK8_0 + j] = d * static_cast<float>(b[i].qs[j]);
    }
  } else {
    static_assert(T == DType::kQ4_0);
    const auto* b = static_cast<const BlockQ4_0*>(src);
    for (int64_t i = 0; i < n / kQK4_0; ++i) {
      const float d = fp16_to_f32(b[i].d);
      for (int j = 0; j < kQK4_0 / 2; ++j) {
        dst[i * kQK4_0 + j] = d * static_cast<float>((b[i].qs[j] & 0x0F) - 8);
        dst[i * kQK4_0 + j + kQK4_0 / 2] = d * static_cast<float>((b[i].qs[j] >> 4) - 8);
      }
    }
  }
}

template <DType T>
void attention(const AttentionArgs& a) {
  const int64_t hd = a.head_dim, G = a.group, B = kAttnBlockTokens;
  const int64_t hd16 = (hd + 15) / 16 * 16;
  float* kf = a.scratch;                 // [B][hd] K block as f32
  float* vf = kf + B * hd16;             // [B][hd] V block as f32
  float* acc = vf + B * hd16;            // [G][hd] sum_j p_j v_j, relative to the running max
  float* mx = acc + G * hd16 + G * B;    // [G] running max of the scaled scores
  float* sum = mx + (G + 15) / 16 * 16;  // [G] running sum of exp(score - max)
  float* qr = sum + (G + 15) / 16 * 16;  // [G][hd] the query as scored: rounded to q8 over a quantized K
  const float* q_scored = a.q;
  if constexpr (T == DType::kQ8_0 || T == DType::kQ4_0) {
    int8_t codes[kAttnQueryBlock];
    for (int64_t i = 0; i < G * hd; i += kAttnQueryBlock) {
      const float d = round_query_block_q8(a.q + i, codes);
      for (int64_t e = 0; e < kAttnQueryBlock; ++e) qr[i + e] = d * static_cast<float>(codes[e]);
    }
    q_scored = qr;
  }
  std::fill(acc, acc + G * hd, 0.0f);
  std::fill(mx, mx + G, -INFINITY);
  std::fill(sum, sum + G, 0.0f);
  float s[kAttnBlockTokens];
  for (int64_t b = 0; b < a.n_blocks; ++b) {
    const int64_t j0 = b == 0 ? a.skip : 0;
    const int64_t j1 = b == a.n_blocks - 1 ? a.last_len : B;
    widen<T>(a.k[b], kf, j1 * hd);
    widen<T>(a.v[b], vf, j1 * hd);
    for (int64_t h = 0; h < G; ++h) {
      const float* q = q_scored + h * hd;
      float bmax = -INFINITY;
      for (int64_t j = j0; j < j1; ++j) {
        // The dot in double, as the reference dot_f32: the most exact of the levels.
        double d = 0;
        for (int64_t e = 0; e < hd; ++e) d += static_cast<double>(q[e]) * kf[j * hd + e];
        s[j] = static_cast<float>(d) * a.scale;
        bmax = std::fmax(bmax, s[j]);
      }
      // Online softmax: rescale what was summed against the old max to the new one.
      const float m = std::fmax(mx[h], bmax);
      const float corr = std::exp(mx[h] - m);  // exp(-inf) = 0 for the first block
      float* ah = acc + h * hd;
      float l = sum[h] * corr;
      for (int64_t e = 0; e < hd; ++e) ah[e] *= corr;
      for (int64_t j = j0; j < j1; ++j) {
        const float p = std::exp(s[j] - m);
        l += p;
        for (int64_t e = 0; e < hd; ++e) ah[e] += p * vf[j * hd + e];
      }
      mx[h] = m;
      sum[h] = l;
    }
  }
  for (int64_t h = 0; h < G; ++h) {
    const float f = output_factor(mx[h], sum[h], a.sinks, h);
    for (int64_t e = 0; e < hd; ++e) a.out[h * hd + e] = acc[h * hd + e] * f;
  }
}

}  // namespace

namespace {

// Rows in order: row `slot` of the block.
template <DType T>
void store_k_row_in_order(const void* row, void* block, int64_t slot, int64_t head_dim) {
  const size_t bytes = dtype_row_bytes(T, head_dim);
  std::memcpy(static_cast<std::byte*>(block) + static_cast<size_t>(slot) * bytes, row, bytes);
}

}  // namespace

void register_generic_attention(KernelTable& t) {
  t.store_k_row[static_cast<uint32_t>(DType::kF32)] = store_k_row_in_order<DType::kF32>;
  t.store_k_row[static_cast<uint32_t>(DType::kF16)] = store_k_row_in_order<DType::kF16>;
  t.store_k_row[static_cast<uint32_t>(DType::kQ8_0)] = store_k_row_in_order<DType::kQ8_0>;
  t.store_k_row[static_cast<uint32_t>(DType::kQ4_0)] = store_k_row_in_order<DType::kQ4_0>;
  t.attention[static_cast<uint32_t>(DType::kF32)] = attention<DType::kF32>;
  t.attention[static_cast<uint32_t>(DType::kF16)] = attention<DType::kF16>;
  t.attention[static_cast<uint32_t>(DType::kQ8_0)] = attention<DType::kQ8_0>;
  t.attention[static_cast<uint32_t>(DType::kQ4_0)] = attention<DType::kQ4_0>;
}

}  // namespace corral::kernels
