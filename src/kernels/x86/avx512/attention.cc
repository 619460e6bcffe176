// AVX-512 blocked attention (flash-attention style) over a paged KV cache of F32, F16, Q8_0 or
// Q4_0 elements: per KV block, the K block is widened to f32 once for the whole GQA group, the
// group's scores against its 16 positions come out as one vector per head (16 per-position
// partial-sum vectors folded by a transpose-and-add tree, no horizontal sum per position), the
// online softmax runs on those vectors, and V is accumulated as a [group x 16] by [16 x hd]
// product with the accumulators in registers. The steps and masks are the scalar reference's
// (generic/attention.cc); only the order of f32 additions differs.
#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <cstdint>

#include "kernels/x86/avx512/exp_ps.h"
#include "kernels/x86/avx512/legacy.h"
#include "tensor/blocks.h"

#pragma GCC push_options
#pragma GCC target("avx512f,avx512bw,avx512vl,avx512dq,avx512vnni,avx2,fma,f16c,bmi2")
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

namespace corral::kernels::avx512 {
namespace {

constexpr int64_t kB = kAttnBlockTokens;
static_assert(kB == 16, "one score vector per head and block");

__mmask16 lanes_below(int64_t n) { return n >= 16 ? __mmask16{0xFFFF} : static_cast<__mmask16>((1u << n) - 1); }

// n elements (a multiple of the type's block size) of a KV block as f32 in dst.
template <DType T>
void widen(const void* src, float* dst, int64_t n) {
  if constexpr (T == DType::kF16) {
    const auto* h = static_cast<const uint16_t*>(src);
    for (int64_t i = 0; i < n; i += 16) {
      const __mmask16 m = lanes_below(n - i);
      _mm512_mask_storeu_ps(dst + i, m, _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(m, h + i)));
    }
  } else if constexpr (T == DType::kQ8_0) {
    const auto* b = static_cast<const BlockQ8_0*>(src);
    for (int64_t i = 0; i < n / kQK8_0; ++i, dst += kQK8_0) {
      const __m512 d = _mm512_set1_ps(_cvtsh_ss(b[i].d));
      const __m256i q = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b[i].qs));
      _mm512_storeu_ps(dst, _mm512_mul_ps(d, _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm256_castsi256_si128(q)))));
      _mm512_storeu_ps(dst + 16,
                       _mm512_mul_ps(d, _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm256_extracti128_si256(q, 1)))));
    }
  } else {
    static_assert(T == DType::kQ4_0);
    const auto* b = static_cast<const BlockQ4_0*>(src);
    const __m128i low4 = _mm_set1_epi8(0x0F), eight = _mm_set1_epi8(8);
    for (int64_t i = 0; i < n / kQK4_0; ++i, dst += kQK4_0) {
      const __m512 d = _mm512_set1_ps(_cvtsh_ss(b[i].d));
      const __m128i q = _mm_loadu_si128(reinterpret_cast<const __m128i*>(b[i].qs));
      // Elements 0..15 in the low nibbles, 16..31 in the high ones; codes are q - 8.
      const __m128i lo = _mm_sub_epi8(_mm_and_si128(q, low4), eight);
      const __m128i hi = _mm_sub_epi8(_mm_and_si128(_mm_srli_epi16(q, 4), low4), eight);
      _mm512_storeu_ps(dst, _mm512_mul_ps(d, _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(lo))));
      _mm512_storeu_ps(dst + 16, _mm512_mul_ps(d, _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(hi))));
    }
  }
}

// Lane j of the result is the sum of the 16 lanes of v[j]: four levels, each adding the even
// and the odd lanes of two vectors into one (8 + 4 + 2 + 1 steps of two permutes and an add,
// instead of 16 horizontal sums). v is overwritten.
__m512 sum_lanes16(__m512 (&v)[16]) {
  const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
  const __m512i odd = _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
#pragma GCC unroll 4
  for (int n = 16; n > 1; n /= 2) {
#pragma GCC unroll 8
    for (int i = 0; i < n / 2; ++i) {
      v[i] = _mm512_add_ps(_mm512_permutex2var_ps(v[2 * i], even, v[2 * i + 1]),
                           _mm512_permutex2var_ps(v[2 * i], odd, v[2 * i + 1]));
    }
  }
  return v[0];
}

// Scores of one head against the 16 positions of a widened K block ([16][hd] f32), times scale.
__m512 block_scores(const float* q, const float* k, int64_t hd, float scale) {
  __m512 acc[16];
#pragma GCC unroll 16
  for (int j = 0; j < 16; ++j) acc[j] = _mm512_setzero_ps();
  for (int64_t e = 0; e < hd; e += 16) {
    const __mmask16 m = lanes_below(hd - e);
    const __m512 qv = _mm512_maskz_loadu_ps(m, q + e);
#pragma GCC unroll 16
    for (int j = 0; j < 16; ++j) acc[j] = _mm512_fmadd_ps(qv, _mm512_maskz_loadu_ps(m, k + j * hd + e), acc[j]);
  }
  return _mm512_mul_ps(sum_lanes16(acc), _mm512_set1_ps(scale));
}

// acc[g][:] = acc[g][:] * corr[g] + sum_{j in [j0, j1)} p[g][j] * v[j][:] for G heads: a
// [G x 16] by [16 x hd] product, 16 columns at a time with the G accumulators in registers.
template <int G>
void accumulate_v(float* acc, const float* p, const float* corr, const float* v, int64_t hd, int64_t j0, int64_t j1) {
  for (int64_t e = 0; e < hd; e += 16) {
    const __mmask16 m = lanes_below(hd - e);
    __m512 a[G];
#pragma GCC unroll 8
    for (int g = 0; g < G; ++g)
      a[g] = _mm512_mul_ps(_mm512_maskz_loadu_ps(m, acc + g * hd + e), _mm512_set1_ps(corr[g]));
    for (int64_t j = j0; j < j1; ++j) {
      const __m512 vj = _mm512_maskz_loadu_ps(m, v + j * hd + e);
#pragma GCC unroll 8
      for (int g = 0; g < G; ++g) a[g] = _mm512_fmadd_ps(_mm512_set1_ps(p[g * kB + j]), vj, a[g]);
    }
#pragma GCC unroll 8
    for (int g = 0; g < G; ++g) _mm512_mask_storeu_ps(acc + g * hd + e, m, a[g]);
  }
}

void accumulate_v_heads(int64_t n, float* acc, const float* p, const float* corr, const float* v, int64_t hd,
                        int64_t j0, int64_t j1) {
  // Up to 8 heads at a time keep 8 accumulators and the V vector in registers.
  for (int64_t h = 0; h < n; h += 8) {
    float* ah = acc + h * hd;
    const float* ph = p + h * kB;
    const float* ch = corr + h;
    switch (std::min<int64_t>(8, n - h)) {
      case 1: accumulate_v<1>(ah, ph, ch, v, hd, j0, j1); break;
      case 2: accumulate_v<2>(ah, ph, ch, v, hd, j0, j1); break;
      case 3: accumulate_v<3>(ah, ph, ch, v, hd, j0, j1); break;
      case 4: accumulate_v<4>(ah, ph, ch, v, hd, j0, j1); break;
      case 5: accumulate_v<5>(ah, ph, ch, v, hd, j0, j1); break;
      case 6: accumulate_v<6>(ah, ph, ch, v, hd, j0, j1); break;
      case 7: accumulate_v<7>(ah, ph, ch, v, hd, j0, j1); break;
      default: accumulate_v<8>(ah, ph, ch, v, hd, j0, j1); break;
    }
  }
}

template <DType T>
void attention(const AttentionArgs& a) {
  const int64_t hd = a.head_dim, G = a.group;
  const int64_t hd16 = (hd + 15) / 16 * 16, G16 = (G + 15) / 16 * 16;
  float* kf = a.scratch;        // [16][hd] K block as f32 (not used for F32)
  float* vf = kf + kB * hd16;   // [16][hd] V block as f32 (not used for F32)
  float* acc = vf + kB * hd16;  // [G][hd] sum_j p_j v_j relative to the running max
  float* p = acc + G * hd16;    // [G][16] the block's scores, then probabilities
  float* mx = p + G * kB;       // [G16] running max of the scaled scores
  float* sum = mx + G16;        // [G16] running sum of exp(score - max)
  float bmax[16], corr[16];     // per head of a 16-head slice
  std::fill(acc, acc + G * hd, 0.0f);
  std::fill(mx, mx + G16, -INFINITY);
  std::fill(sum, sum + G16, 0.0f);
  for (int64_t b = 0; b < a.n_blocks; ++b) {
    const int64_t j0 = b == 0 ? a.skip : 0;
    const int64_t j1 = b == a.n_blocks - 1 ? a.last_len : kB;
    const __mmask16 valid = static_cast<__mmask16>(lanes_below(j1) & ~lanes_below(j0));
    const float* kb = static_cast<const float*>(a.k[b]);
    const float* vb = static_cast<const float*>(a.v[b]);
    if constexpr (T != DType::kF32) {
      // Rows past j1 may hold anything finite or not: their lanes are masked below, and only
      // the attended rows are widened (whole type blocks: a row is whole blocks).
      widen<T>(a.k[b], kf, j1 * hd);
      widen<T>(a.v[b], vf, j1 * hd);
      kb = kf;
      vb = vf;
    }
    for (int64_t h = 0; h < G; ++h) {
      const __m512 s =
          _mm512_mask_mov_ps(_mm512_set1_ps(-INFINITY), valid, block_scores(a.q + h * hd, kb, hd, a.scale));
      _mm512_storeu_ps(p + h * kB, s);
    }
    for (int64_t h0 = 0; h0 < G; h0 += 16) {
      const int64_t n = std::min<int64_t>(16, G - h0);
      for (int64_t i = 0; i < n; ++i) bmax[i] = _mm512_reduce_max_ps(_mm512_loadu_ps(p + (h0 + i) * kB));
      // Online softmax: the new running max, and the factor that moves what was summed
      // against the old max onto the new one (exp(-inf) = 0 before the first block).
      const __mmask16 hm = lanes_below(n);
      const __m512 m_old = _mm512_maskz_loadu_ps(hm, mx + h0);
      const __m512 m_new = _mm512_max_ps(m_old, _mm512_maskz_loadu_ps(hm, bmax));
      _mm512_storeu_ps(corr, _mm512_maskz_mov_ps(hm, exp_ps(_mm512_sub_ps(m_old, m_new))));
      _mm512_mask_storeu_ps(mx + h0, hm, m_new);
      for (int64_t i = 0; i < n; ++i) {
        float* ph = p + (h0 + i) * kB;
        const __m512 e =
            _mm512_maskz_mov_ps(valid, exp_ps(_mm512_sub_ps(_mm512_loadu_ps(ph), _mm512_set1_ps(mx[h0 + i]))));
        _mm512_storeu_ps(ph, e);
        sum[h0 + i] = sum[h0 + i] * corr[i] + _mm512_reduce_add_ps(e);
      }
      accumulate_v_heads(n, acc + h0 * hd, p + h0 * kB, corr, vb, hd, j0, j1);
    }
  }
  for (int64_t h = 0; h < G; ++h) {
    float l = sum[h], c = 1.0f;
    if (a.sinks) {
      // The sink joins the softmax's normalisation only.
      const float ms = std::fmax(mx[h], a.sinks[h]);
      c = std::exp(mx[h] - ms);
      l = l * c + std::exp(a.sinks[h] - ms);
    }
    const __m512 f = _mm512_set1_ps(c / l);
    for (int64_t e = 0; e < hd; e += 16) {
      const __mmask16 m = lanes_below(hd - e);
      _mm512_mask_storeu_ps(a.out + h * hd + e, m, _mm512_mul_ps(_mm512_maskz_loadu_ps(m, acc + h * hd + e), f));
    }
  }
}

}  // namespace

void register_attention(KernelTable& t) {
  t.attention[static_cast<uint32_t>(DType::kF32)] = attention<DType::kF32>;
  t.attention[static_cast<uint32_t>(DType::kF16)] = attention<DType::kF16>;
  t.attention[static_cast<uint32_t>(DType::kQ8_0)] = attention<DType::kQ8_0>;
  t.attention[static_cast<uint32_t>(DType::kQ4_0)] = attention<DType::kQ4_0>;
}

}  // namespace corral::kernels::avx512

#pragma GCC diagnostic pop
#pragma GCC pop_options
