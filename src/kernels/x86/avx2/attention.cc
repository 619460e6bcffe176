// AVX2 blocked attention (flash-attention style) over a paged KV cache of F32, F16, Q8_0 or
// Q4_0 elements, the AVX-512 kernel's steps on 8-lane vectors: per KV block the K block is
// widened to f32 once for the GQA group (over a quantized K the query is rounded to q8 as at
// every level), each head's 16 scores come from two sets of 8 per-position partial-sum vectors
// folded by hadd trees, the online softmax keeps a running max and sum per head, and V is
// accumulated with the heads' accumulators in registers, each V row converted in registers
// (F16 with head_dim a multiple of 8: vcvtph2ps; Q8_0 / Q4_0: codes to f32, the row's scale
// folded into the probability); the next block's K and V are prefetched where the hardware
// prefetcher does not stream them.
// The scalar reference is generic/attention.cc; only the order of f32 additions differs.
#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "kernels/generic/attention_query.h"
#include "kernels/x86/avx2/exp_ps.h"
#include "kernels/x86/avx2/legacy.h"
#include "tensor/blocks.h"

#pragma GCC push_options
#pragma GCC target("avx2,fma,f16c,bmi2")

namespace corral::kernels::avx2 {
namespace {

constexpr int64_t kB = kAttnBlockTokens;

// All-ones in the lanes below n (8 or more: all lanes).
__m256i lanes_below(int64_t n) {
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(n < 8 ? n : 8)),
                            _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

// n elements of an F16 block as f32 in dst.
template <DType T>
void widen(const void* src, float* dst, int64_t n) {
  static_assert(T == DType::kF16);
  const auto* h = static_cast<const uint16_t*>(src);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    _mm256_storeu_ps(dst + i, _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(h + i))));
  for (; i < n; ++i) dst[i] = _cvtsh_ss(h[i]);
}

// Lane j of the result is the sum of the 8 lanes of v[j] (hadd trees within 128-bit halves,
// then the halves added).
__m256 sum_lanes8(const __m256 (&v)[8]) {
  const __m256 a = _mm256_hadd_ps(_mm256_hadd_ps(v[0], v[1]), _mm256_hadd_ps(v[2], v[3]));
  const __m256 b = _mm256_hadd_ps(_mm256_hadd_ps(v[4], v[5]), _mm256_hadd_ps(v[6], v[7]));
  return _mm256_add_ps(_mm256_permute2f128_ps(a, b, 0x20), _mm256_permute2f128_ps(a, b, 0x31));
}

// Scores of one head against 8 positions of a widened K block ([8][hd] f32), times scale.
__m256 scores8(const float* q, const float* k, int64_t hd, float scale) {
  __m256 acc[8];
#pragma GCC unroll 8
  for (int j = 0; j < 8; ++j) acc[j] = _mm256_setzero_ps();
  for (int64_t e = 0; e < hd; e += 8) {
    const __m256i m = lanes_below(hd - e);
    const __m256 qv = _mm256_maskload_ps(q + e, m);
#pragma GCC unroll 8
    for (int j = 0; j < 8; ++j) acc[j] = _mm256_fmadd_ps(qv, _mm256_maskload_ps(k + j * hd + e, m), acc[j]);
  }
  return _mm256_mul_ps(sum_lanes8(acc), _mm256_set1_ps(scale));
}

// acc[g][:] = acc[g][:] * corr[g] + sum_{j in [j0, j1)} p[g][j] * v[j][:] for G heads, 8
// columns at a time with the G accumulators in registers. F32 rows are read as they are;
// F16 rows (head_dim a multiple of 8) are converted in registers, no widened block stored.
template <int G, DType T>
void accumulate_v(float* acc, const float* p, const float* corr, const void* v, int64_t hd, int64_t j0, int64_t j1) {
  for (int64_t e = 0; e < hd; e += 8) {
    const __m256i m = lanes_below(hd - e);
    __m256 a[G];
#pragma GCC unroll 8
    for (int g = 0; g < G; ++g) a[g] = _mm256_mul_ps(_mm256_maskload_ps(acc + g * hd + e, m), _mm256_set1_ps(corr[g]));
    for (int64_t j = j0; j < j1; ++j) {
      __m256 vj;
      if constexpr (T == DType::kF32) {
        vj = _mm256_maskload_ps(static_cast<const float*>(v) + j * hd + e, m);
      } else {
        static_assert(T == DType::kF16);
        vj = _mm256_cvtph_ps(
            _mm_loadu_si128(reinterpret_cast<const __m128i*>(static_cast<const uint16_t*>(v) + j * hd + e)));
      }
#pragma GCC unroll 8
      for (int g = 0; g < G; ++g) a[g] = _mm256_fmadd_ps(_mm256_set1_ps(p[g * kB + j]), vj, a[g]);
    }
#pragma GCC unroll 8
    for (int g = 0; g < G; ++g) _mm256_maskstore_ps(acc + g * hd + e, m, a[g]);
  }
}

// The same over a Q8_0 / Q4_0 V block, 16 columns (half a quantization block) at a time: each
// row's codes are converted to f32 in registers and multiplied by pd[g][qb][j] = p[g][j] *
// d_v[j][qb], the row's scale folded into the probability (Q4_0's -8 applied to the codes).
// G <= 4: 2 accumulators per head, 2 V vectors and a broadcast fit 16 registers.
template <int G, DType T>
void accumulate_v_quant(float* acc, const float* pd, const float* corr, const void* v, int64_t hd, int64_t j0,
                        int64_t j1) {
  const int64_t nb = hd / kAttnQueryBlock;
  constexpr size_t kBytes = T == DType::kQ8_0 ? sizeof(BlockQ8_0) : sizeof(BlockQ4_0);
  const size_t row = static_cast<size_t>(nb) * kBytes;
  for (int64_t c = 0; c < 2 * nb; ++c) {
    const int64_t qb = c / 2, half = c % 2;
    float* ac = acc + c * 16;
    __m256 a0[G], a1[G];
#pragma GCC unroll 4
    for (int g = 0; g < G; ++g) {
      const __m256 f = _mm256_set1_ps(corr[g]);
      a0[g] = _mm256_mul_ps(_mm256_loadu_ps(ac + g * hd), f);
      a1[g] = _mm256_mul_ps(_mm256_loadu_ps(ac + g * hd + 8), f);
    }
    const uint8_t* qs = static_cast<const uint8_t*>(v) + qb * kBytes + 2;  // after the f16 d
    const float* pq = pd + qb * kB;
    for (int64_t j = j0; j < j1; ++j) {
      __m128i x;
      if constexpr (T == DType::kQ8_0) {
        x = _mm_loadu_si128(reinterpret_cast<const __m128i*>(qs + j * row + 16 * half));
      } else {
        // Byte i: element i in the low nibble, i + 16 in the high one.
        x = _mm_loadu_si128(reinterpret_cast<const __m128i*>(qs + j * row));
        if (half) x = _mm_srli_epi16(x, 4);
        x = _mm_sub_epi8(_mm_and_si128(x, _mm_set1_epi8(0x0F)), _mm_set1_epi8(8));
      }
      const __m256 v0 = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(x));
      const __m256 v1 = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_srli_si128(x, 8)));
#pragma GCC unroll 4
      for (int g = 0; g < G; ++g) {
        const __m256 w = _mm256_set1_ps(pq[g * nb * kB + j]);
        a0[g] = _mm256_fmadd_ps(w, v0, a0[g]);
        a1[g] = _mm256_fmadd_ps(w, v1, a1[g]);
      }
    }
#pragma GCC unroll 4
    for (int g = 0; g < G; ++g) {
      _mm256_storeu_ps(ac + g * hd, a0[g]);
      _mm256_storeu_ps(ac + g * hd + 8, a1[g]);
    }
  }
}

// p: [n][16] probabilities, or for a quantized V [n][nb][16] pd. Float V: up to 8 heads at a
// time (8 accumulators, the V vector and a broadcast fit 16 registers); quantized: up to 4.
template <DType T>
void accumulate_v_heads(int64_t n, float* acc, const float* p, const float* corr, const void* v, int64_t hd, int64_t j0,
                        int64_t j1) {
  constexpr bool kQuantV = T == DType::kQ8_0 || T == DType::kQ4_0;
  constexpr int64_t kSlice = kQuantV ? 4 : 8;
  const int64_t p_stride = kQuantV ? hd / kAttnQueryBlock * kB : kB;  // floats per head
  for (int64_t h = 0; h < n; h += kSlice) {
    float* ah = acc + h * hd;
    const float* ph = p + h * p_stride;
    const float* ch = corr + h;
    const auto run = [&]<int G>() {
      if constexpr (kQuantV) {
        if constexpr (G <= 4) accumulate_v_quant<G, T>(ah, ph, ch, v, hd, j0, j1);
      } else {
        accumulate_v<G, T>(ah, ph, ch, v, hd, j0, j1);
      }
    };
    switch (std::min<int64_t>(kSlice, n - h)) {
      case 1: run.template operator()<1>(); break;
      case 2: run.template operator()<2>(); break;
      case 3: run.template operator()<3>(); break;
      case 4: run.template operator()<4>(); break;
      case 5: run.template operator()<5>(); break;
      case 6: run.template operator()<6>(); break;
      case 7: run.template operator()<7>(); break;
      default: run.template operator()<8>(); break;
    }
  }
}

// One block ahead where the hardware prefetcher does not stream the blocks: quantized blocks
// always, F32 / F16 ones only when they do not follow the previous one (the AVX-512 kernel
// has the measurements).
constexpr int64_t kPrefetchBlocks = 1;

void prefetch_block(const void* block, size_t bytes) {
  const auto* c = static_cast<const char*>(block);
  for (size_t i = 0; i < bytes; i += 64) _mm_prefetch(c + i, _MM_HINT_T0);
}

// ---- q.k on the integer codes of a Q8_0 / Q4_0 K block ----
//
// One quantization block of a row is 32 code bytes in element order (Q8_0: as stored; Q4_0:
// the 16 low nibbles then the 16 high ones, 0..15). 8 rows' blocks, transposed as an 8 x 8
// matrix of 4-byte groups, give t[i] = elements 4i..4i+3 of every row, lane j = row j, so
// pmaddubsw with the query's 4 codes of group i broadcast adds those products to the 8
// positions' sums without a horizontal sum. Q4_0: nibbles (unsigned) times q codes, at most
// 2 x 15 x 127 = 3,810 per 16-bit pair, so the 8 groups add up in 16 bits (<= 30,480) before
// one pmaddwd; the -8 comes off as 8 x the query block's code sum. Q8_0: pmaddubsw takes an
// unsigned side, so |k| times sign(q, k) (llama.cpp's AVX2 q8_0 trick); a pair can reach
// 2 x 127 x 127 = 32,258, so each group goes to 32 bits (pmaddwd) at once.

// r[j] lane i -> r[i] lane j for 8 vectors of 8 int32s (24 instructions).
void transpose8x8(__m256i (&r)[8]) {
  __m256i t[8], u[8];
#pragma GCC unroll 4
  for (int k = 0; k < 4; ++k) {
    t[2 * k] = _mm256_unpacklo_epi32(r[2 * k], r[2 * k + 1]);
    t[2 * k + 1] = _mm256_unpackhi_epi32(r[2 * k], r[2 * k + 1]);
  }
  // u[4m + k] in 128-bit lane L: rows 4m..4m+3 of column 4L + k.
#pragma GCC unroll 2
  for (int m = 0; m < 2; ++m) {
    u[4 * m + 0] = _mm256_unpacklo_epi64(t[4 * m], t[4 * m + 2]);
    u[4 * m + 1] = _mm256_unpackhi_epi64(t[4 * m], t[4 * m + 2]);
    u[4 * m + 2] = _mm256_unpacklo_epi64(t[4 * m + 1], t[4 * m + 3]);
    u[4 * m + 3] = _mm256_unpackhi_epi64(t[4 * m + 1], t[4 * m + 3]);
  }
#pragma GCC unroll 4
  for (int k = 0; k < 4; ++k) {
    r[k] = _mm256_permute2x128_si256(u[k], u[4 + k], 0x20);
    r[4 + k] = _mm256_permute2x128_si256(u[k], u[4 + k], 0x31);
  }
}

// Quantization block qb of a row as 32 code bytes in element order (Q4_0: 0..15 unsigned).
template <DType T>
__m256i load_k_codes(const uint8_t* row, int64_t qb) {
  if constexpr (T == DType::kQ8_0) {
    return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(row + qb * sizeof(BlockQ8_0) + offsetof(BlockQ8_0, qs)));
  } else {
    const __m128i x =
        _mm_loadu_si128(reinterpret_cast<const __m128i*>(row + qb * sizeof(BlockQ4_0) + offsetof(BlockQ4_0, qs)));
    const __m128i low4 = _mm_set1_epi8(0x0F);
    return _mm256_inserti128_si256(_mm256_castsi128_si256(_mm_and_si128(x, low4)),
                                   _mm_and_si128(_mm_srli_epi16(x, 4), low4), 1);
  }
}

// Scores (times scale) of G heads against the 16 rows of a quantized K block into p ([G][16]),
// -inf outside the valid lanes. Rows from j1 on are not read (they may not exist yet).
// qc: [G][hd] the rounded query's codes; qoff: [G][nb] Q4_0's 8 x code sum; qd: [G][nb]
// d_q * scale; dk: [nb][16] scratch for K's scales.
template <DType T>
void quant_block_scores(const void* kblock, int64_t j0, int64_t j1, __m256 valid_lo, __m256 valid_hi, int64_t G,
                        int64_t hd, const int8_t* qc, const int32_t* qoff, const float* qd, float* dk, float* p) {
  const int64_t nb = hd / kAttnQueryBlock;
  constexpr size_t kBytes = T == DType::kQ8_0 ? sizeof(BlockQ8_0) : sizeof(BlockQ4_0);
  const size_t row = static_cast<size_t>(nb) * kBytes;
  const auto* base = static_cast<const uint8_t*>(kblock);
  for (int64_t qb = 0; qb < nb; ++qb)
    for (int64_t j = 0; j < kB; ++j)
      dk[qb * kB + j] =
          j >= j0 && j < j1 ? _cvtsh_ss(*reinterpret_cast<const uint16_t*>(base + j * row + qb * kBytes)) : 0.0f;
  for (int64_t h = 0; h < G; ++h) {
    _mm256_storeu_ps(p + h * kB, _mm256_setzero_ps());
    _mm256_storeu_ps(p + h * kB + 8, _mm256_setzero_ps());
  }
  const __m256i ones16 = _mm256_set1_epi16(1);
  for (int64_t half = 0; half < 2 && 8 * half < j1; ++half) {
    for (int64_t qb = 0; qb < nb; ++qb) {
      alignas(32) __m256i t[8], ta[8];  // transposed codes; Q8_0: |codes| in ta
      for (int64_t r = 0; r < 8; ++r) {
        const int64_t j = 8 * half + r;
        t[r] = j < j1 ? load_k_codes<T>(base + j * row, qb) : _mm256_setzero_si256();
      }
      transpose8x8(t);
      if constexpr (T == DType::kQ8_0) {
        for (int i = 0; i < 8; ++i) ta[i] = _mm256_abs_epi8(t[i]);
      }
      const __m256 dkv = _mm256_loadu_ps(dk + qb * kB + 8 * half);
      for (int64_t h = 0; h < G; ++h) {
        const int8_t* q = qc + h * hd + qb * kAttnQueryBlock;
        __m256i sum;
        if constexpr (T == DType::kQ4_0) {
          __m256i s16 = _mm256_setzero_si256();
#pragma GCC unroll 8
          for (int i = 0; i < 8; ++i) {
            int32_t q4;
            std::memcpy(&q4, q + 4 * i, 4);
            s16 = _mm256_add_epi16(s16, _mm256_maddubs_epi16(t[i], _mm256_set1_epi32(q4)));
          }
          sum = _mm256_sub_epi32(_mm256_madd_epi16(s16, ones16), _mm256_set1_epi32(qoff[h * nb + qb]));
        } else {
          sum = _mm256_setzero_si256();
#pragma GCC unroll 8
          for (int i = 0; i < 8; ++i) {
            int32_t q4;
            std::memcpy(&q4, q + 4 * i, 4);
            const __m256i prod = _mm256_maddubs_epi16(ta[i], _mm256_sign_epi8(_mm256_set1_epi32(q4), t[i]));
            sum = _mm256_add_epi32(sum, _mm256_madd_epi16(prod, ones16));
          }
        }
        float* ph = p + h * kB + 8 * half;
        _mm256_storeu_ps(ph, _mm256_fmadd_ps(_mm256_cvtepi32_ps(sum),
                                             _mm256_mul_ps(dkv, _mm256_set1_ps(qd[h * nb + qb])), _mm256_loadu_ps(ph)));
      }
    }
  }
  const __m256 minus_inf = _mm256_set1_ps(-INFINITY);
  for (int64_t h = 0; h < G; ++h) {
    _mm256_storeu_ps(p + h * kB, _mm256_blendv_ps(minus_inf, _mm256_loadu_ps(p + h * kB), valid_lo));
    _mm256_storeu_ps(p + h * kB + 8, _mm256_blendv_ps(minus_inf, _mm256_loadu_ps(p + h * kB + 8), valid_hi));
  }
}

float hsum(__m256 v) {
  __m128 b = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  b = _mm_add_ps(b, _mm_movehl_ps(b, b));
  return _mm_cvtss_f32(_mm_add_ss(b, _mm_movehdup_ps(b)));
}

float hmax(__m256 v) {
  __m128 b = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  b = _mm_max_ps(b, _mm_movehl_ps(b, b));
  return _mm_cvtss_f32(_mm_max_ss(b, _mm_movehdup_ps(b)));
}

// The kernel's scratch (a.scratch), carved per call: f32 blocks and per-head state, then, over
// a quantized cache, the rounded query and per-block scales.
struct Scratch {
  float* kf;      // [16][hd] K block as f32 (F16 only)
  float* vf;      // [16][hd] V block as f32 (F16 with head_dim not a multiple of 8)
  float* acc;     // [G][hd] sum_j p_j v_j relative to the running max
  float* p;       // [G][16] the block's scores, then probabilities
  float* mx;      // [G16] running max of the scaled scores
  float* sum;     // [G16] running sum of exp(score - max)
  int8_t* qc;     // [G][hd] the rounded query's codes (Q8_0 / Q4_0)
  int32_t* qoff;  // [G][nb] Q4_0's offset share
  float* qd;      // [G][nb] d_q * scale
  float* dv;      // [nb][16] V's d per row
  float* dk;      // [nb][16] K's d per row
  float* pd;      // [G][nb][16] p_j * V's d_j

  Scratch(float* base, int64_t hd, int64_t G, int64_t nb) {
    const int64_t hd16 = (hd + 15) / 16 * 16, G16 = (G + 15) / 16 * 16;
    kf = base;
    vf = kf + kB * hd16;
    acc = vf + kB * hd16;
    p = acc + G * hd16;
    mx = p + G * kB;
    sum = mx + G16;
    qc = reinterpret_cast<int8_t*>(sum + G16);
    qoff = reinterpret_cast<int32_t*>(sum + G16 + G * hd16);
    qd = sum + G16 + G * hd16 + G * nb;
    dv = qd + G * nb;
    dk = dv + nb * kB;
    pd = dk + nb * kB;
  }
};

// The query rounded to q8 once per call (round_query_block_q8, as at every level).
void round_query(const float* q, int64_t G, int64_t hd, float scale, const Scratch& s) {
  const int64_t nb = hd / kAttnQueryBlock;
  for (int64_t h = 0; h < G; ++h) {
    for (int64_t b = 0; b < nb; ++b) {
      int8_t* c = s.qc + h * hd + b * kAttnQueryBlock;
      const float d = round_query_block_q8(q + h * hd + b * kAttnQueryBlock, c);
      int32_t sum = 0;
      for (int64_t e = 0; e < kAttnQueryBlock; ++e) sum += c[e];
      s.qoff[h * nb + b] = 8 * sum;
      s.qd[h * nb + b] = d * scale;
    }
  }
}

// s.p[h][0..15] = the scaled scores of KV block b (positions [j0, j1) valid, the rest -inf);
// returns the V rows the block's products read (F16 with head_dim not a multiple of 8: widened
// into s.vf).
template <DType T>
[[gnu::always_inline]] inline const void* block_scores(const AttentionArgs& a, int64_t b, int64_t j0, int64_t j1,
                                                       __m256 valid_lo, __m256 valid_hi, const Scratch& s) {
  constexpr bool kQuant = T == DType::kQ8_0 || T == DType::kQ4_0;
  const int64_t hd = a.head_dim, G = a.group;
  const void* vb = a.v[b];
  if constexpr (kQuant) {
    constexpr size_t kBytes = T == DType::kQ8_0 ? sizeof(BlockQ8_0) : sizeof(BlockQ4_0);
    const int64_t nb = hd / kAttnQueryBlock;
    const size_t row = static_cast<size_t>(nb) * kBytes;  // quantized rows' bytes
    // V's scale per row and quantization block (rows outside [j0, j1) are never read).
    for (int64_t qb = 0; qb < nb; ++qb)
      for (int64_t j = j0; j < j1; ++j)
        s.dv[qb * kB + j] =
            _cvtsh_ss(*reinterpret_cast<const uint16_t*>(static_cast<const uint8_t*>(a.v[b]) + j * row + qb * kBytes));
    quant_block_scores<T>(a.k[b], j0, j1, valid_lo, valid_hi, G, hd, s.qc, s.qoff, s.qd, s.dk, s.p);
    return vb;
  } else {
    const float* kb = static_cast<const float*>(a.k[b]);
    if constexpr (T == DType::kF16) {
      // Rows past j1 may not exist yet: only the attended rows are widened.
      widen<T>(a.k[b], s.kf, j1 * hd);
      kb = s.kf;
      if (hd % 8 != 0) {  // tiny heads: V widened too (the in-register path loads 8 halves)
        widen<T>(a.v[b], s.vf, j1 * hd);
        vb = s.vf;
      }
    }
    const __m256 minus_inf = _mm256_set1_ps(-INFINITY);
    for (int64_t h = 0; h < G; ++h) {
      // Masked lanes become -inf whatever the rows past j1 hold.
      const __m256 lo = _mm256_blendv_ps(minus_inf, scores8(a.q + h * hd, kb, hd, a.scale), valid_lo);
      _mm256_storeu_ps(s.p + h * kB, lo);
      const __m256 hi =
          j1 > 8 ? _mm256_blendv_ps(minus_inf, scores8(a.q + h * hd, kb + 8 * hd, hd, a.scale), valid_hi) : minus_inf;
      _mm256_storeu_ps(s.p + h * kB + 8, hi);
    }
    return vb;
  }
}

// Online softmax for heads [h0, h0 + n) (n <= 8) of the block: the new running max, the
// factor corr that moves what was summed against the old max onto the new one (exp(-inf) = 0
// before the first block), the block's probabilities in s.p and the running sums.
[[gnu::always_inline]] inline void softmax_update(int64_t h0, int64_t n, __m256 valid_lo, __m256 valid_hi,
                                                  const Scratch& s, float* corr /*[8]*/) {
  alignas(32) float m_old[8] = {}, m_new[8] = {};
  for (int64_t i = 0; i < n; ++i) {
    const float* ph = s.p + (h0 + i) * kB;
    m_old[i] = s.mx[h0 + i];
    m_new[i] = std::fmax(m_old[i], hmax(_mm256_max_ps(_mm256_loadu_ps(ph), _mm256_loadu_ps(ph + 8))));
  }
  _mm256_store_ps(corr, exp_ps(_mm256_sub_ps(_mm256_load_ps(m_old), _mm256_load_ps(m_new))));
  for (int64_t i = 0; i < n; ++i) {
    float* ph = s.p + (h0 + i) * kB;
    const __m256 m = _mm256_set1_ps(m_new[i]);
    const __m256 e0 = _mm256_and_ps(valid_lo, exp_ps(_mm256_sub_ps(_mm256_loadu_ps(ph), m)));
    const __m256 e1 = _mm256_and_ps(valid_hi, exp_ps(_mm256_sub_ps(_mm256_loadu_ps(ph + 8), m)));
    _mm256_storeu_ps(ph, e0);
    _mm256_storeu_ps(ph + 8, e1);
    s.mx[h0 + i] = m_new[i];
    s.sum[h0 + i] = s.sum[h0 + i] * corr[i] + hsum(_mm256_add_ps(e0, e1));
  }
}

template <DType T>
void attention(const AttentionArgs& a) {
  const int64_t hd = a.head_dim, G = a.group;
  const int64_t G16 = (G + 15) / 16 * 16;
  constexpr bool kQuant = T == DType::kQ8_0 || T == DType::kQ4_0;
  const int64_t nb = hd / kAttnQueryBlock;
  const Scratch s(a.scratch, hd, G, nb);
  alignas(32) float corr[8];  // per head of an 8-head slice
  const size_t block_bytes = static_cast<size_t>(kB) * dtype_row_bytes(T, hd);
  if constexpr (kQuant) round_query(a.q, G, hd, a.scale, s);
  std::fill(s.acc, s.acc + G * hd, 0.0f);
  std::fill(s.mx, s.mx + G16, -INFINITY);
  std::fill(s.sum, s.sum + G16, 0.0f);
  for (int64_t b = 0; b < a.n_blocks; ++b) {
    const int64_t j0 = b == 0 ? a.skip : 0;
    const int64_t j1 = b == a.n_blocks - 1 ? a.last_len : kB;
    // Lanes [j0, j1) of each half of the block.
    const __m256 valid_lo = _mm256_castsi256_ps(_mm256_andnot_si256(lanes_below(j0), lanes_below(j1)));
    const __m256 valid_hi = _mm256_castsi256_ps(_mm256_andnot_si256(lanes_below(j0 - 8), lanes_below(j1 - 8)));
    if (b + kPrefetchBlocks < a.n_blocks &&
        (kQuant || !next_block_follows(a.k, a.v, b + kPrefetchBlocks, block_bytes))) {
      prefetch_block(a.k[b + kPrefetchBlocks], block_bytes);
      prefetch_block(a.v[b + kPrefetchBlocks], block_bytes);
    }
    const void* vb = block_scores<T>(a, b, j0, j1, valid_lo, valid_hi, s);
    for (int64_t h0 = 0; h0 < G; h0 += 8) {
      const int64_t n = std::min<int64_t>(8, G - h0);
      softmax_update(h0, n, valid_lo, valid_hi, s, corr);
      if constexpr (kQuant) {
        for (int64_t i = 0; i < n; ++i)
          for (int64_t qb = 0; qb < nb; ++qb)
            for (int64_t j = j0; j < j1; ++j)
              s.pd[((h0 + i) * nb + qb) * kB + j] = s.p[(h0 + i) * kB + j] * s.dv[qb * kB + j];
        accumulate_v_heads<T>(n, s.acc + h0 * hd, s.pd + h0 * nb * kB, corr, vb, hd, j0, j1);
      } else if (T == DType::kF16 && hd % 8 != 0) {
        accumulate_v_heads<DType::kF32>(n, s.acc + h0 * hd, s.p + h0 * kB, corr, vb, hd, j0, j1);
      } else {
        accumulate_v_heads<T>(n, s.acc + h0 * hd, s.p + h0 * kB, corr, vb, hd, j0, j1);
      }
    }
  }
  for (int64_t h = 0; h < G; ++h) {
    const __m256 f = _mm256_set1_ps(output_factor(s.mx[h], s.sum[h], a.sinks, h));
    for (int64_t e = 0; e < hd; e += 8) {
      const __m256i m = lanes_below(hd - e);
      _mm256_maskstore_ps(a.out + h * hd + e, m, _mm256_mul_ps(_mm256_maskload_ps(s.acc + h * hd + e, m), f));
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

}  // namespace corral::kernels::avx2

#pragma GCC pop_options
