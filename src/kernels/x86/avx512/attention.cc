// AVX-512 blocked attention (flash-attention style) over a paged KV cache of F32, F16, Q8_0 or
// Q4_0 elements. Per softmax step (one KV block of 16 positions for F32 / F16, two for Q8_0 /
// Q4_0: kBlocksOf), for the whole GQA group:
// - scores: F32 / F16 K (F16 widened to f32 once) give each head's 16 scores as one vector (16
//   per-position partial-sum vectors folded by a transpose-and-add tree); a Q8_0 / Q4_0 K is
//   never widened: its codes, transposed to 4-byte groups, meet the q8-rounded query's codes
//   in vpdpbusd (64 products per instruction), one int32 lane per position;
// - an online softmax on those vectors, its max and sums over the heads in vectors (lane =
//   head: over_heads), not a scalar per head;
// - V accumulated as a [group x step] by [step x hd] product with the accumulators in
//   registers, each V row converted in registers (F16: vcvtph2ps), no widened V block
//   stored; a Q8_0 / Q4_0 V as integer dots (vpdpwssd) of its codes with the weights p_j x
//   d_j rounded to 15 bits (quantize_weights: within 1e-4 of max |v|, where V's own q8_0
//   rounding is 2e-3);
// - the next step's K and V prefetched where the hardware prefetcher does not stream them
//   (fetch_ahead).
// The steps and masks are the scalar reference's (generic/attention.cc); the order of f32
// additions differs, and over a quantized V the weights' 15-bit rounding.
#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "kernels/generic/attention_query.h"
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

// Scores of one head against the 16 positions of an F32 or F16 K block ([16][hd]), times
// scale; F16 rows are converted in registers (no widened block stored).
template <DType T>
__m512 block_scores(const float* q, const void* k, int64_t hd, float scale) {
  __m512 acc[16];
#pragma GCC unroll 16
  for (int j = 0; j < 16; ++j) acc[j] = _mm512_setzero_ps();
  for (int64_t e = 0; e < hd; e += 16) {
    const __mmask16 m = lanes_below(hd - e);
    const __m512 qv = _mm512_maskz_loadu_ps(m, q + e);
#pragma GCC unroll 16
    for (int j = 0; j < 16; ++j) {
      __m512 kj;
      if constexpr (T == DType::kF32) {
        kj = _mm512_maskz_loadu_ps(m, static_cast<const float*>(k) + j * hd + e);
      } else {
        static_assert(T == DType::kF16);
        kj = _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(m, static_cast<const uint16_t*>(k) + j * hd + e));
      }
      acc[j] = _mm512_fmadd_ps(qv, kj, acc[j]);
    }
  }
  return _mm512_mul_ps(sum_lanes16(acc), _mm512_set1_ps(scale));
}

// A softmax step spans up to kStep KV blocks: one running-max update, one rescale of the
// accumulators and one conversion of the integer V sums per 32 positions instead of per 16.
// The work of one block is a chain (scores, max, exp, sums, weights, V) that leaves the core
// idle between its links; two blocks' links side by side fill those gaps. kernels_bench
// attention/q8_0/0, alternating: 250 ns per block with one-block steps, ~188 with two, ~178
// with four, whose 8 blocks fetched ahead slowed the DRAM case (q8_0/1: 215-220 with two,
// 239-272 with four).
constexpr int kStep = 2;
constexpr int64_t kS = kStep * kB;  // positions per step

// The V side of one step: its blocks and the rows attended in each ([j0, j1)).
struct StepV {
  int n = 0;  // blocks in the step (the last step may hold fewer)
  const void* v[kStep] = {};
  int64_t j0[kStep] = {}, j1[kStep] = {};
  const char* pf_v[kStep] = {};  // quantized V: the blocks fetched ahead line by line, or nullptr
};

// acc[g][:] = acc[g][:] * corr[g] + sum_j p[g][j] * v[j][:] over the step's attended rows for
// G heads (p: [G][kS]): a [G x kS] by [kS x hd] product, 16 columns at a time with the G
// accumulators in registers. F32 rows are read as they are, F16 rows converted in registers
// (no widened block stored).
template <int G, DType T>
void accumulate_v(float* acc, const float* p, const float* corr, const StepV& sv, int64_t hd) {
  for (int64_t e = 0; e < hd; e += 16) {
    const __mmask16 m = lanes_below(hd - e);
    __m512 a[G];
#pragma GCC unroll 8
    for (int g = 0; g < G; ++g)
      a[g] = _mm512_mul_ps(_mm512_maskz_loadu_ps(m, acc + g * hd + e), _mm512_set1_ps(corr[g]));
    for (int t = 0; t < sv.n; ++t) {
      const float* pt = p + t * kB;
      for (int64_t j = sv.j0[t]; j < sv.j1[t]; ++j) {
        __m512 vj;
        if constexpr (T == DType::kF32) {
          vj = _mm512_maskz_loadu_ps(m, static_cast<const float*>(sv.v[t]) + j * hd + e);
        } else {
          static_assert(T == DType::kF16);
          vj = _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(m, static_cast<const uint16_t*>(sv.v[t]) + j * hd + e));
        }
#pragma GCC unroll 8
        for (int g = 0; g < G; ++g) a[g] = _mm512_fmadd_ps(_mm512_set1_ps(pt[g * kS + j]), vj, a[g]);
      }
    }
#pragma GCC unroll 8
    for (int g = 0; g < G; ++g) _mm512_mask_storeu_ps(acc + g * hd + e, m, a[g]);
  }
}

// The same over a Q8_0 / Q4_0 V as integer dots. The weights w[g][qb][j] = p[g][j] *
// d_v[j][qb] (the row's scale folded into the probability) arrive as 15-bit integers wq
// (quantize_weights: w ~ wq * unit[qb][g]); two rows' codes are interleaved as 16-bit pairs
// so that one vpdpwssd adds w_j v_j + w_j+1 v_j+1 to each column's int32 sum, half the
// instructions of an f32 FMA per row and head. The int32 sums are exact (a step's 32 rows:
// at most 32 x 32767 x 128 < 2^31); per step they are scaled by the unit into the f32
// accumulators.
// The accumulators of each 32-column block lie permuted, as the in-lane byte interleave
// leaves the columns: [0-7, 16-23][8-15, 24-31] (unpermute_quant_acc puts them back). Rows
// are taken in pairs from j0 rounded down to even; a row outside [j0, j1) in a pair has
// weight 0 (its probability is 0 and its scale was gathered as 0), and lies inside the block.
template <DType T>
__m256i v_row_codes(const uint8_t* r) {
  if constexpr (T == DType::kQ8_0) {
    return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(r));
  } else {
    // Byte i: element i in the low nibble, i + 16 in the high one; -8 to the signed value.
    const __m128i x = _mm_loadu_si128(reinterpret_cast<const __m128i*>(r));
    const __m256i y = _mm256_and_si256(_mm256_set_m128i(_mm_srli_epi16(x, 4), x), _mm256_set1_epi8(0x0F));
    return _mm256_sub_epi8(y, _mm256_set1_epi8(8));
  }
}

template <int G, DType T>
void accumulate_v_quant(float* acc, const int16_t* wq, const float* unit, const float* corr, const StepV& sv,
                        int64_t hd) {
  const int64_t nb = hd / kAttnQueryBlock;
  constexpr size_t kBytes = T == DType::kQ8_0 ? sizeof(BlockQ8_0) : sizeof(BlockQ4_0);
  const size_t row = static_cast<size_t>(nb) * kBytes;
  for (int64_t qb = 0; qb < nb; ++qb) {
    __m512i s0[G], s1[G];  // the permuted columns [0-7, 16-23] and [8-15, 24-31]
#pragma GCC unroll 8
    for (int g = 0; g < G; ++g) s0[g] = s1[g] = _mm512_setzero_si512();
    for (int t = 0; t < sv.n; ++t) {
      const uint8_t* qs = static_cast<const uint8_t*>(sv.v[t]) + qb * kBytes + 2;  // after the f16 d
      const int16_t* wb = wq + qb * kS + t * kB;
      const char* pf = sv.pf_v[t];
      for (int64_t j = sv.j0[t] & ~int64_t{1}; j < sv.j1[t]; j += 2) {
        const size_t line = static_cast<size_t>(qb * 8 + j / 2) * 64;  // of the block fetched ahead
        if (pf && line < kB * row) _mm_prefetch(pf + line, _MM_HINT_T0);
        const __m256i x = v_row_codes<T>(qs + j * row), y = v_row_codes<T>(qs + (j + 1) * row);
        const __m512i x0 = _mm512_cvtepi8_epi16(_mm256_unpacklo_epi8(x, y));
        const __m512i x1 = _mm512_cvtepi8_epi16(_mm256_unpackhi_epi8(x, y));
#pragma GCC unroll 8
        for (int g = 0; g < G; ++g) {
          int32_t pair;  // w_j, w_j+1
          std::memcpy(&pair, wb + g * nb * kS + j, 4);
          const __m512i w = _mm512_set1_epi32(pair);
          s0[g] = _mm512_dpwssd_epi32(s0[g], x0, w);
          s1[g] = _mm512_dpwssd_epi32(s1[g], x1, w);
        }
      }
    }
    float* ac = acc + qb * kAttnQueryBlock;
#pragma GCC unroll 8
    for (int g = 0; g < G; ++g) {
      const __m512 c = _mm512_set1_ps(corr[g]), u = _mm512_set1_ps(unit[qb * kB + g]);
      _mm512_storeu_ps(ac + g * hd,
                       _mm512_fmadd_ps(_mm512_cvtepi32_ps(s0[g]), u, _mm512_mul_ps(_mm512_loadu_ps(ac + g * hd), c)));
      _mm512_storeu_ps(ac + g * hd + 16, _mm512_fmadd_ps(_mm512_cvtepi32_ps(s1[g]), u,
                                                         _mm512_mul_ps(_mm512_loadu_ps(ac + g * hd + 16), c)));
    }
  }
  for (int t = 0; t < sv.n; ++t)  // the lines of the blocks fetched ahead that the pairs did not cover
    if (sv.pf_v[t])
      for (size_t i = static_cast<size_t>(nb) * 8 * 64; i < kB * row; i += 64)
        _mm_prefetch(sv.pf_v[t] + i, _MM_HINT_T0);
}

// One level of the fold: v[i] = op over the even and odd lanes of v[2i], v[2i+1] (i < M / 2),
// then the next level.
template <int M, class Op>
[[gnu::always_inline]] inline void fold_pairs(__m512* v, Op op) {
  if constexpr (M > 1) {
    const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    const __m512i odd = _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
#pragma GCC unroll 8
    for (int i = 0; i < M / 2; ++i)
      v[i] =
          op(_mm512_permutex2var_ps(v[2 * i], even, v[2 * i + 1]), _mm512_permutex2var_ps(v[2 * i], odd, v[2 * i + 1]));
    fold_pairs<M / 2>(v, op);
  }
}

// Lane i of the result (i < n <= 16) is op over the 16 lanes of x[i] (lanes from n on: op
// over `identity`). Pairs of vectors are folded into one (even and odd lanes, as in
// sum_lanes16) until one vector holds each head's partial results in a group of 16 / NH
// adjacent lanes; the groups are folded in place and their first lanes gathered. For 4 heads:
// 14 instructions and no scalar, against 4 horizontal reductions ending in scalars that the
// next step reloads as a vector (a store-forwarding stall each).
template <int NH, class Op>
[[gnu::always_inline]] inline __m512 over_heads_n(const __m512* x, int64_t n, Op op, float identity) {
  __m512 v[NH];
#pragma GCC unroll 16
  for (int i = 0; i < NH; ++i) v[i] = i < n ? x[i] : _mm512_set1_ps(identity);
  fold_pairs<NH>(v, op);
  constexpr int kW = 16 / NH;  // lanes per head
  __m512 r = v[0];
  // Neighbours first, then pairs, 128-bit lanes and halves: the association of the folds
  // across vectors, so that a head's sum is the same bits for every NH (its group's size).
  if constexpr (kW >= 2) r = op(r, _mm512_permute_ps(r, 0xB1));         // neighbours
  if constexpr (kW >= 4) r = op(r, _mm512_permute_ps(r, 0x4E));         // 64-bit pairs
  if constexpr (kW >= 8) r = op(r, _mm512_shuffle_f32x4(r, r, 0xB1));   // 128-bit lanes
  if constexpr (kW >= 16) r = op(r, _mm512_shuffle_f32x4(r, r, 0x4E));  // 256-bit halves
  if constexpr (kW == 1) return r;
  const __m512i first = _mm512_mullo_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
                                           _mm512_set1_epi32(kW));
  return _mm512_permutexvar_ps(first, r);
}

template <class Op>
[[gnu::always_inline]] inline __m512 over_heads(const __m512* x, int64_t n, Op op, float identity) {
  if (n <= 1) return over_heads_n<1>(x, n, op, identity);
  if (n <= 2) return over_heads_n<2>(x, n, op, identity);
  if (n <= 4) return over_heads_n<4>(x, n, op, identity);
  if (n <= 8) return over_heads_n<8>(x, n, op, identity);
  return over_heads_n<16>(x, n, op, identity);
}

struct Max {
  __m512 operator()(__m512 x, __m512 y) const { return _mm512_max_ps(x, y); }
};
struct Add {
  __m512 operator()(__m512 x, __m512 y) const { return _mm512_add_ps(x, y); }
};

// Lane i of v to every lane.
__m512 lane(__m512 v, int64_t i) { return _mm512_permutexvar_ps(_mm512_set1_epi32(static_cast<int>(i)), v); }

// w = e * d_v (e: one head's 16 probabilities, d_v: the rows' scales of one 32-column block)
// as 15-bit integers, w ~ code * unit, for inv = 1 / unit = 32767 / top, top = max e * max
// |d_v| >= every |w| (float products round monotonically, so no code exceeds 32767; the
// saturating pack guards it anyway). Each weight is off by at most half a unit: over a block
// at most 16 x unit / 2 x 127 (q8_0's largest code; q4_0's 8) <= 16 / 65534 of max |v| times
// the block's largest probability, which is no more than the block's share of the softmax
// sum: 2.4e-4 of max |v| in the worst case and ~1e-5 when the roundings do not all fall one
// way, against V's own rounding of up to 1 / 254 of max |v| in q8_0 (1 / 16 in q4_0).
void quantize_weights(__m512 e, __m512 dv, __m512 inv, int16_t* wq) {
  const __m512 w = _mm512_mul_ps(_mm512_mul_ps(e, dv), inv);
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(wq), _mm512_cvtsepi32_epi16(_mm512_cvtps_epi32(w)));
}

// The accumulators of a quantized V in column order (see accumulate_v_quant), in place.
void unpermute_quant_acc(float* acc, int64_t n) {
  const __m512i first = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23);
  const __m512i second = _mm512_setr_epi32(8, 9, 10, 11, 12, 13, 14, 15, 24, 25, 26, 27, 28, 29, 30, 31);
  for (int64_t i = 0; i < n; i += kAttnQueryBlock) {
    const __m512 lo = _mm512_loadu_ps(acc + i), hi = _mm512_loadu_ps(acc + i + 16);
    _mm512_storeu_ps(acc + i, _mm512_permutex2var_ps(lo, first, hi));
    _mm512_storeu_ps(acc + i + 16, _mm512_permutex2var_ps(lo, second, hi));
  }
}

// Up to 8 heads at a time keep their accumulators (Q8_0 / Q4_0: two per head) and the V
// vectors in registers. w: [n][16] probabilities (F32 / F16 V), or for a quantized V the
// weights [n][nb][16] as 15-bit integers with their units [n][nb] (quantize_weights).
template <DType T>
void accumulate_v_heads(int64_t n, float* acc, const void* w, const float* unit, const float* corr, const StepV& sv,
                        int64_t hd) {
  const int64_t nb = hd / kAttnQueryBlock;
  for (int64_t h = 0; h < n; h += 8) {
    float* ah = acc + h * hd;
    const float* ch = corr + h;
    const auto run = [&]<int G>() {
      if constexpr (T == DType::kQ8_0 || T == DType::kQ4_0) {
        accumulate_v_quant<G, T>(ah, static_cast<const int16_t*>(w) + h * nb * kS, unit + h, ch, sv, hd);
      } else {
        accumulate_v<G, T>(ah, static_cast<const float*>(w) + h * kS, ch, sv, hd);
      }
    };
    switch (std::min<int64_t>(8, n - h)) {
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

// ---- q.k on the integer codes of a Q8_0 / Q4_0 K block ----
//
// A 64-element chunk of a K row (quantization blocks 2c and 2c + 1) is 64 code bytes, made
// unsigned for vpdpbusd: Q8_0's codes + 128 (xor 0x80), Q4_0's nibbles as stored (0..15, the
// -8 applied below). vpdpbusd sums 4 byte products per 32-bit lane, so t[i] = group i (4
// bytes) of the chunk of every row, lane j = row j, meets the query's 4 codes of group i
// broadcast and adds 4 products to each of the 16 positions' sums: no horizontal sum. A Q8_0
// block stores its rows in order and the 16 rows' chunks are transposed as a 16 x 16 matrix of
// 4-byte groups, once per chunk for the whole GQA group; a Q4_0 block stores the groups
// already side by side (store_k_row_native, kGroupedK): one load per t[i] pair. Per
// quantization block the integer sum minus the offset's share (128 or 8 times the query
// block's code sum, exact in int32) is scaled by d_k (a vector over the 16 rows: gathered,
// or for Q4_0 side by side) times d_q * scale. The largest sum, 64 x 255 x 127, fits.

template <DType T>
constexpr size_t kKvBlockBytes = T == DType::kQ8_0 ? sizeof(BlockQ8_0) : sizeof(BlockQ4_0);

// Byte p of a row's chunk c holds element chunk_element_of(p) of quantization block
// 2c + chunk_block_of(p).
template <DType T>
constexpr int chunk_block_of(int p) {
  if constexpr (T == DType::kQ8_0) return p / 32;  // [block 2c's 32 codes][block 2c+1's]
  return (p / 16) % 2;                             // [lo 2c][lo 2c+1][hi 2c][hi 2c+1]
}
template <DType T>
constexpr int chunk_element_of(int p) {
  if constexpr (T == DType::kQ8_0) return p % 32;
  return p % 16 + (p >= 32 ? 16 : 0);
}

// Row's chunk c as 64 unsigned code bytes in the layout above; block 2c + 1 zero if absent.
template <DType T>
__m512i load_k_chunk(const uint8_t* row, int64_t c, bool second) {
  if constexpr (T == DType::kQ8_0) {
    const uint8_t* b0 = row + 2 * c * sizeof(BlockQ8_0) + offsetof(BlockQ8_0, qs);
    const __m256i lo = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b0));
    const __m256i hi =
        second ? _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b0 + sizeof(BlockQ8_0))) : _mm256_setzero_si256();
    return _mm512_xor_si512(_mm512_inserti64x4(_mm512_castsi256_si512(lo), hi, 1), _mm512_set1_epi8(-128));
  } else {
    const uint8_t* b0 = row + 2 * c * sizeof(BlockQ4_0) + offsetof(BlockQ4_0, qs);
    const __m128i lo = _mm_loadu_si128(reinterpret_cast<const __m128i*>(b0));
    const __m128i hi =
        second ? _mm_loadu_si128(reinterpret_cast<const __m128i*>(b0 + sizeof(BlockQ4_0))) : _mm_setzero_si128();
    const __m256i y = _mm256_inserti128_si256(_mm256_castsi128_si256(lo), hi, 1);
    const __m256i low4 = _mm256_set1_epi8(0x0F);
    return _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_and_si256(y, low4)),
                              _mm256_and_si256(_mm256_srli_epi16(y, 4), low4), 1);
  }
}

// r[j] lane i -> r[i] lane j, for 16 vectors of 16 int32s: 32-bit and 64-bit interleaves
// within 128-bit lanes, then two rounds of 128-bit lane shuffles (64 instructions).
void transpose16x16(__m512i (&r)[16]) {
  __m512i t[16], u[16];
#pragma GCC unroll 8
  for (int k = 0; k < 8; ++k) {
    t[2 * k] = _mm512_unpacklo_epi32(r[2 * k], r[2 * k + 1]);
    t[2 * k + 1] = _mm512_unpackhi_epi32(r[2 * k], r[2 * k + 1]);
  }
  // u[4m + k] in 128-bit lane L: rows 4m..4m+3 of column 4L + k.
#pragma GCC unroll 4
  for (int m = 0; m < 4; ++m) {
    u[4 * m + 0] = _mm512_unpacklo_epi64(t[4 * m], t[4 * m + 2]);
    u[4 * m + 1] = _mm512_unpackhi_epi64(t[4 * m], t[4 * m + 2]);
    u[4 * m + 2] = _mm512_unpacklo_epi64(t[4 * m + 1], t[4 * m + 3]);
    u[4 * m + 3] = _mm512_unpackhi_epi64(t[4 * m + 1], t[4 * m + 3]);
  }
#pragma GCC unroll 4
  for (int k = 0; k < 4; ++k) {
    const __m512i v = _mm512_shuffle_i32x4(u[k], u[4 + k], 0x88);       // lanes 0, 2 of rows 0-3, 4-7
    const __m512i w = _mm512_shuffle_i32x4(u[k], u[4 + k], 0xDD);       // lanes 1, 3
    const __m512i x = _mm512_shuffle_i32x4(u[8 + k], u[12 + k], 0x88);  // rows 8-11, 12-15
    const __m512i y = _mm512_shuffle_i32x4(u[8 + k], u[12 + k], 0xDD);
    r[k] = _mm512_shuffle_i32x4(v, x, 0x88);
    r[8 + k] = _mm512_shuffle_i32x4(v, x, 0xDD);
    r[4 + k] = _mm512_shuffle_i32x4(w, y, 0x88);
    r[12 + k] = _mm512_shuffle_i32x4(w, y, 0xDD);
  }
}

// Which K layout the kernel reads (kernels/api.h StoreKRowFn): rows in order for Q8_0, the
// transposed groups for Q4_0. Measured with every attention call timed inside
// long_context_bench (8 x 4,096, three alternating runs): the layout took a Q4_0 call from
// 57-90 to 48-53 us, but a Q8_0 call from 65-76 to 71-78 us (in cache, where both gain 13-14%
// per block, kernels_bench in one process, the two layouts alternating call by call: from
// DRAM Q4_0 still -15%, Q8_0 +1% to +6%). The Q8_0 side of the grouped layout stays written
// (store_k_row_native, load_k_chunk_groups) so that a machine that measures otherwise (the
// AMD EPYC VM above is the only one measured) can switch it here.
template <DType T>
constexpr bool kGroupedK = T == DType::kQ4_0;

// 4-byte groups of a quantization block's codes: Q8_0 32 codes; Q4_0 16 packed bytes.
template <DType T>
constexpr int kGroupsPerBlock = T == DType::kQ8_0 ? 8 : 4;

// The grouped K block layout (kernels/api.h StoreKRowFn; AVX-512 Q4_0): [nb][16] f16 scales,
// then group g of the rows ([nb x kGroupsPerBlock][16 rows][4 bytes]). A row's bytes, moved:
// a block is as large as in row order.
template <DType T>
void store_k_row_native(const void* row, void* block, int64_t slot, int64_t hd) {
  const int64_t nb = hd / kAttnQueryBlock;
  const auto* src = static_cast<const uint8_t*>(row);
  auto* dst = static_cast<uint8_t*>(block);
  uint8_t* codes = dst + nb * kB * 2;
  for (int64_t qb = 0; qb < nb; ++qb) {
    const uint8_t* q = src + qb * kKvBlockBytes<T>;
    std::memcpy(dst + (qb * kB + slot) * 2, q, 2);  // the f16 d
    for (int k = 0; k < kGroupsPerBlock<T>; ++k)
      std::memcpy(codes + ((qb * kGroupsPerBlock<T> + k) * kB + slot) * 4, q + 2 + 4 * k, 4);
  }
}

// Lines of codes a chunk of the layout reads: 16 (Q8_0) or 8 (Q4_0) 64-byte lines.
template <DType T>
constexpr int64_t kChunkLines = 2 * kGroupsPerBlock<T>;

// The 16 rows' chunk c (blocks 2c and 2c + 1, the second zero if absent) as t[i] = group i
// of the chunk's 64 unsigned code bytes (see chunk_block_of) of every row, lane j = row j.
// Before the chunk's i-th line, line c * kChunkLines + i of `ahead` (a block fetched ahead,
// `ahead_bytes` long; nullptr: none) is fetched.
template <DType T>
void load_k_chunk_groups(const uint8_t* codes, int64_t c, bool second, const char* ahead, size_t ahead_bytes,
                         __m512i (&t)[16]) {
  const auto line = [&](int64_t i, int64_t g) {
    const size_t at = static_cast<size_t>(c * kChunkLines<T> + i) * 64;
    if (ahead && at < ahead_bytes) _mm_prefetch(ahead + at, _MM_HINT_T0);
    return _mm512_loadu_si512(codes + g * kB * 4);
  };
  if constexpr (T == DType::kQ8_0) {
#pragma GCC unroll 16
    for (int i = 0; i < 16; ++i)
      t[i] = i < 8 || second ? _mm512_xor_si512(line(i, c * 16 + i), _mm512_set1_epi8(-128)) : _mm512_setzero_si512();
  } else {
    // Packed bytes 4k..4k+3 of block 2c + h: low nibbles are group 4h + k of the chunk, high
    // nibbles group 8 + 4h + k.
    const __m512i low4 = _mm512_set1_epi8(0x0F);
#pragma GCC unroll 2
    for (int h = 0; h < 2; ++h) {
#pragma GCC unroll 4
      for (int k = 0; k < 4; ++k) {
        const __m512i x = h == 0 || second ? line(4 * h + k, (2 * c + h) * 4 + k) : _mm512_setzero_si512();
        t[4 * h + k] = _mm512_and_si512(x, low4);
        t[8 + 4 * h + k] = _mm512_and_si512(_mm512_srli_epi16(x, 4), low4);
      }
    }
  }
}

// The 16 rows' f16 scale of quantization block qb as f32, rows outside `rows` 0.
template <DType T>
__m512 gather_scales(const void* block, size_t row, int64_t qb, __mmask16 rows) {
  const __m512i idx =
      _mm512_add_epi32(_mm512_mullo_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
                                          _mm512_set1_epi32(static_cast<int>(row))),
                       _mm512_set1_epi32(static_cast<int>(qb * kKvBlockBytes<T>)));
  // 4 bytes from each d (it and the first 2 codes); vpmovdw keeps d's 16 bits.
  const __m512i d = _mm512_mask_i32gather_epi32(_mm512_setzero_si512(), rows, idx, block, 1);
  return _mm512_cvtph_ps(_mm512_cvtepi32_epi16(d));
}

// The query of G heads rounded to q8 (round_query_block_q8) for the integer dot: codes in the
// chunk byte layout of T (qc: [G][n_chunks * 64]), per quantization block the offset's share
// (qoff: [G][nb] 128 or 8 times the code sum) and d_q * scale (qd: [G][nb]).
template <DType T>
void prepare_query(const float* q, int64_t G, int64_t hd, float scale, int8_t* qc, int32_t* qoff, float* qd) {
  const int64_t nb = hd / kAttnQueryBlock, n_chunks = (nb + 1) / 2;
  int8_t codes[kAttnQueryBlock];
  for (int64_t h = 0; h < G; ++h) {
    int8_t* qh = qc + h * n_chunks * 64;
    std::fill(qh, qh + n_chunks * 64, int8_t{0});
    for (int64_t b = 0; b < nb; ++b) {
      const float d = round_query_block_q8(q + h * hd + b * kAttnQueryBlock, codes);
      int32_t sum = 0;
      for (int i = 0; i < kAttnQueryBlock; ++i) sum += codes[i];
      qoff[h * nb + b] = (T == DType::kQ8_0 ? 128 : 8) * sum;
      qd[h * nb + b] = d * scale;
      for (int p = 0; p < 64; ++p)
        if (chunk_block_of<T>(p) == b % 2) qh[(b / 2) * 64 + p] = codes[chunk_element_of<T>(p)];
    }
  }
}

// Adds to the scores s[h] (16 positions each, h < G) quantization block 2c + half's share of
// q.k: the 8 groups of t it spans, by vpdpbusd with the query's codes.
template <DType T>
__m512 chunk_half_score(const __m512i (&t)[16], const int8_t* qh, int half, int32_t qoff, __m512 dk_times_dq,
                        __m512 s) {
  __m512i acc = _mm512_setzero_si512();
#pragma GCC unroll 8
  for (int k = 0; k < 8; ++k) {
    // The k-th 4-byte group of block `half`: Q8_0 8 * half + k; Q4_0 4 groups of low
    // nibbles then 4 of high ones.
    const int i = T == DType::kQ8_0 ? 8 * half + k : (k / 4) * 8 + 4 * half + k % 4;
    int32_t q4;
    std::memcpy(&q4, qh + 4 * i, 4);
    acc = _mm512_dpbusd_epi32(acc, t[i], _mm512_set1_epi32(q4));
  }
  acc = _mm512_sub_epi32(acc, _mm512_set1_epi32(qoff));
  return _mm512_fmadd_ps(_mm512_cvtepi32_ps(acc), dk_times_dq, s);
}

// Scores (times scale) of G heads against the 16 rows of a quantized K block (in the layout
// kGroupedK picks) into p ([G][16]), -inf outside `valid`. Rows outside it (also those not
// written yet) are read with the others: their scales are taken as 0 and their lanes masked.
template <DType T>
void quant_block_scores(const void* kblock, __mmask16 valid, int64_t G, int64_t hd, const int8_t* qc,
                        const int32_t* qoff, const float* qd, float* dk, float* p, int64_t p_stride, const char* pf_k) {
  const int64_t nb = hd / kAttnQueryBlock, n_chunks = (nb + 1) / 2;
  const size_t row = static_cast<size_t>(nb) * kKvBlockBytes<T>;
  const auto* base = static_cast<const uint8_t*>(kblock);
  for (int64_t b = 0; b < nb; ++b) {
    const __m512 d =
        kGroupedK<T>
            ? _mm512_maskz_mov_ps(
                  valid, _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(base + b * kB * 2))))
            : gather_scales<T>(kblock, row, b, valid);
    _mm512_storeu_ps(dk + b * kB, d);
  }
  for (int64_t h = 0; h < G; ++h) _mm512_storeu_ps(p + h * p_stride, _mm512_setzero_ps());
  for (int64_t c = 0; c < n_chunks; ++c) {
    const bool second = 2 * c + 1 < nb;
    __m512i t[16];
    if constexpr (kGroupedK<T>) {
      load_k_chunk_groups<T>(base + nb * kB * 2, c, second, pf_k, kB * row, t);
    } else {
      for (int64_t j = 0; j < kB; ++j) {
        const size_t line = static_cast<size_t>(c * kB + j) * 64;  // of the block fetched ahead
        if (pf_k && line < kB * row) _mm_prefetch(pf_k + line, _MM_HINT_T0);
        t[j] = load_k_chunk<T>(base + j * row, c, second);
      }
      transpose16x16(t);
    }
    for (int64_t h = 0; h < G; ++h) {
      const int8_t* qh = qc + (h * n_chunks + c) * 64;
      __m512 s = _mm512_loadu_ps(p + h * p_stride);
      s = chunk_half_score<T>(t, qh, 0, qoff[h * nb + 2 * c],
                              _mm512_mul_ps(_mm512_loadu_ps(dk + 2 * c * kB), _mm512_set1_ps(qd[h * nb + 2 * c])), s);
      if (second)
        s = chunk_half_score<T>(
            t, qh, 1, qoff[h * nb + 2 * c + 1],
            _mm512_mul_ps(_mm512_loadu_ps(dk + (2 * c + 1) * kB), _mm512_set1_ps(qd[h * nb + 2 * c + 1])), s);
      _mm512_storeu_ps(p + h * p_stride, s);
    }
  }
  for (int64_t h = 0; h < G; ++h)
    _mm512_storeu_ps(p + h * p_stride,
                     _mm512_mask_mov_ps(_mm512_set1_ps(-INFINITY), valid, _mm512_loadu_ps(p + h * p_stride)));
  if (pf_k)  // the lines the chunks' loads did not cover
    for (size_t i = static_cast<size_t>(n_chunks * (kGroupedK<T> ? kChunkLines<T> : kB)) * 64; i < kB * row; i += 64)
      _mm_prefetch(pf_k + i, _MM_HINT_T0);
}

// A quantized block is fetched one line per row the kernel reads (quant_block_scores,
// accumulate_v_quant) rather than all 34 lines at once, which queued behind each other:
// kernels_bench in one process, the two alternating call by call, q8_0 from DRAM (/1) -8.5%
// per block, in cache -3%; q4_0 -3% / -1.5%.
// One step ahead: at ~200 ns of compute per block that covers DRAM's latency, while two
// blocks ahead of one-block steps was slower for f32 (8 KB in flight per block;
// kernels_bench attention/f32/1: 430 -> 630 ns per block), more lines than the core tracks.
// Whether block `next` is fetched ahead. The cache's consecutive blocks lie side by side
// (model/kv_storage.h: extents), where the hardware prefetcher streams them; an F32 / F16
// block (4-8 KB of K and V) fetched ahead on top of that only fills the core's miss queue:
// 8 x 4,096 positions, long_context_bench, step 204-207 ms without against 218-246 (f32) and
// 136-140 against 138-235 (f16). The quantized blocks (1-2 KB) gain from it even when they are
// consecutive (q8_0 102-118 ms with, 109-127 without), and every type from blocks elsewhere
// (a sequence's blocks allocated while other sequences grew).
template <DType T>
bool fetch_ahead(const AttentionArgs& a, int64_t next, size_t block_bytes) {
  if (next >= a.n_blocks) return false;
  if constexpr (T == DType::kQ8_0 || T == DType::kQ4_0) return true;
  return !next_block_follows(a.k, a.v, next, block_bytes);
}

void prefetch_block(const void* block, size_t bytes) {
  const auto* c = static_cast<const char*>(block);
  for (size_t i = 0; i < bytes; i += 64) _mm_prefetch(c + i, _MM_HINT_T0);
}

// The kernel's scratch (a.scratch), carved per call. Against attention_scratch_floats it
// drops the reference's two widened blocks (32 x hd16 floats) and adds nb x 16 (V's scales
// of a second block), nb x 16 (the units) and nb rounded up to 16: less whenever hd >= 32
// (32 nb <= hd16 and nb16 <= hd16), and F32 / F16 (nb = 0) use only its first four runs.
struct Scratch {
  float* acc;  // [G][hd] sum_j p_j v_j relative to the running max
  float* p;    // [G][kS] the step's scores, then probabilities
  float* mx;   // [G16] running max of the scaled scores
  float* sum;  // [G16] running sum of exp(score - max)
  // Quantized K and V only:
  int8_t* qc;     // [G][n_chunks * 64] the rounded query's codes
  int32_t* qoff;  // [G][nb] the offset's share per query block
  float* qd;      // [G][nb] d_q * scale
  float* dk;      // [nb][16] K's d per row of a block
  float* dv;      // [kStep][nb][16] V's d per row of the step's blocks
  float* dv_max;  // [nb rounded up to 16] max |d_v| over the step
  float* unit;    // [nb][16] the weights' unit per head of a 16-head slice
  int16_t* wq;    // [G][nb][kS] p_j * V's d_j as 15-bit integers (quantize_weights)

  Scratch(float* s, int64_t hd, int64_t G) {
    const int64_t hd16 = (hd + 15) / 16 * 16, G16 = (G + 15) / 16 * 16, nb = hd / kAttnQueryBlock;
    const int64_t nb16 = (nb + 15) / 16 * 16;
    acc = s;
    p = acc + G * hd16;
    mx = p + G * kS;
    sum = mx + G16;
    qc = reinterpret_cast<int8_t*>(sum + G16);
    qoff = reinterpret_cast<int32_t*>(sum + G16 + G * hd16);
    qd = sum + G16 + G * hd16 + G * nb;
    dk = qd + G * nb;
    dv = dk + nb * kB;
    dv_max = dv + kStep * nb * kB;
    unit = dv_max + nb16;
    wq = reinterpret_cast<int16_t*>(unit + nb * kB);
  }
};

// KV blocks per softmax step: kStep for the quantized caches, one for F32 / F16, whose
// blocks read from DRAM slowed down in pairs (kernels_bench attention/f16/1 370 -> 455-526 ns
// per block, f32/1 890 -> 1,150) while in cache they gained 4-8%.
template <DType T>
constexpr int kBlocksOf = T == DType::kQ8_0 || T == DType::kQ4_0 ? kStep : 1;

// The scores (times scale) of the step starting at block b0 into sc.p ([G][kS], -inf outside
// the attended rows and blocks), its blocks' attended rows and lanes (valid), and for a
// quantized V the rows' scales (sc.dv, 0 outside the attended rows) and their largest |d|
// per quantization block (sc.dv_max). The next step's K is fetched meanwhile.
template <DType T>
StepV step_scores(const AttentionArgs& a, const Scratch& sc, int64_t b0, __mmask16* valid) {
  constexpr bool kQuant = T == DType::kQ8_0 || T == DType::kQ4_0;
  constexpr int kBlocks = kBlocksOf<T>;
  const int64_t hd = a.head_dim, G = a.group, nb = hd / kAttnQueryBlock;
  const size_t block_bytes = static_cast<size_t>(kB) * dtype_row_bytes(T, hd);
  StepV sv;
  sv.n = static_cast<int>(std::min<int64_t>(kBlocks, a.n_blocks - b0));
  for (int t = 0; t < kBlocks; ++t) {
    // The next step's block t: a quantized one is fetched a line per row read (pf_k here,
    // sv.pf_v in the V products), an F32 / F16 one at once (its K here, its V below).
    const char* pf_k = nullptr;
    if (fetch_ahead<T>(a, b0 + kBlocks + t, block_bytes)) {
      if constexpr (kQuant) {
        pf_k = static_cast<const char*>(a.k[b0 + kBlocks + t]);
        sv.pf_v[t] = static_cast<const char*>(a.v[b0 + kBlocks + t]);
      } else {
        prefetch_block(a.k[b0 + kBlocks + t], block_bytes);
      }
    }
    // Rows outside [j0, j1) may hold anything finite or not: their score lanes are masked to
    // -inf, their probabilities are 0 (and a quantized V's scales are taken as 0).
    if (t >= sv.n) {
      valid[t] = 0;
      for (int64_t h = 0; h < G; ++h) _mm512_storeu_ps(sc.p + h * kS + t * kB, _mm512_set1_ps(-INFINITY));
      if constexpr (kQuant)
        for (int64_t qb = 0; qb < nb; ++qb) _mm512_storeu_ps(sc.dv + (t * nb + qb) * kB, _mm512_setzero_ps());
      continue;
    }
    const int64_t b = b0 + t;
    sv.v[t] = a.v[b];
    sv.j0[t] = b == 0 ? a.skip : 0;
    sv.j1[t] = b == a.n_blocks - 1 ? a.last_len : kB;
    valid[t] = static_cast<__mmask16>(lanes_below(sv.j1[t]) & ~lanes_below(sv.j0[t]));
    if constexpr (kQuant) {
      quant_block_scores<T>(a.k[b], valid[t], G, hd, sc.qc, sc.qoff, sc.qd, sc.dk, sc.p + t * kB, kS, pf_k);
      const size_t row = static_cast<size_t>(nb) * kKvBlockBytes<T>;
      for (int64_t qb = 0; qb < nb; ++qb)
        _mm512_storeu_ps(sc.dv + (t * nb + qb) * kB, gather_scales<T>(a.v[b], row, qb, valid[t]));
    } else {
      // Rows past j1 are read too (a block is allocated whole); their lanes are masked.
      for (int64_t h = 0; h < G; ++h) {
        const __m512 sh = block_scores<T>(a.q + h * hd, a.k[b], hd, a.scale);
        _mm512_storeu_ps(sc.p + h * kS + t * kB, _mm512_mask_mov_ps(_mm512_set1_ps(-INFINITY), valid[t], sh));
      }
    }
  }
  if constexpr (kQuant) {
    for (int64_t q0 = 0; q0 < nb; q0 += 16) {
      const int64_t m = std::min<int64_t>(16, nb - q0);
      __m512 d_abs[16];
      for (int64_t qb = q0; qb < q0 + m; ++qb) {
        d_abs[qb - q0] = _mm512_abs_ps(_mm512_loadu_ps(sc.dv + qb * kB));
        for (int t = 1; t < kBlocks; ++t)
          d_abs[qb - q0] = _mm512_max_ps(d_abs[qb - q0], _mm512_abs_ps(_mm512_loadu_ps(sc.dv + (t * nb + qb) * kB)));
      }
      _mm512_storeu_ps(sc.dv_max + q0, over_heads(d_abs, m, Max{}, 0.0f));
    }
  }
  return sv;
}

// The online softmax of one step for heads [h0, h0 + n) (n <= 16), in vectors over the heads
// (lane = head): the new running max, the factor that moves what was summed against the old
// max onto the new one (corr; exp(-inf) = 0 before the first block), the running sums, and
// the probabilities e ([n][kBlocks] vectors, lane = position). Returns each head's largest
// score of the step.
template <int kBlocks>
__m512 step_softmax(const Scratch& sc, int64_t h0, int64_t n, const __mmask16* valid, __m512 (*e)[kStep], float* corr) {
  __m512 r[16];  // per head: the step's max, then sum, over lanes
  for (int64_t i = 0; i < n; ++i) {
    for (int t = 0; t < kBlocks; ++t) e[i][t] = _mm512_loadu_ps(sc.p + (h0 + i) * kS + t * kB);
    r[i] = e[i][0];
    for (int t = 1; t < kBlocks; ++t) r[i] = _mm512_max_ps(r[i], e[i][t]);
  }
  const __m512 top = over_heads(r, n, Max{}, -INFINITY);
  const __m512 m_old = _mm512_loadu_ps(sc.mx + h0);
  const __m512 m_new = _mm512_max_ps(m_old, top);
  const __m512 c = _mm512_maskz_mov_ps(lanes_below(n), exp_ps(_mm512_sub_ps(m_old, m_new)));
  _mm512_storeu_ps(corr, c);
  _mm512_storeu_ps(sc.mx + h0, m_new);
  for (int64_t i = 0; i < n; ++i) {
    const __m512 mi = lane(m_new, i);
    for (int t = 0; t < kBlocks; ++t) e[i][t] = _mm512_maskz_mov_ps(valid[t], exp_ps(_mm512_sub_ps(e[i][t], mi)));
    r[i] = e[i][0];
    for (int t = 1; t < kBlocks; ++t) r[i] = _mm512_add_ps(r[i], e[i][t]);
  }
  _mm512_storeu_ps(sc.sum + h0, _mm512_fmadd_ps(_mm512_loadu_ps(sc.sum + h0), c, over_heads(r, n, Add{}, 0.0f)));
  return top;
}

// The weights of a quantized V for heads [h0, h0 + n): per quantization block qb the unit
// (sc.unit) and each head's p_j * d_v[j] as 15-bit integers (sc.wq). pm: each head's largest
// probability of the step, exp of the argument of e's largest lane (so >= every e).
template <int kBlocks>
void step_weights(const Scratch& sc, int64_t h0, int64_t n, int64_t nb, const __m512 (*e)[kStep], __m512 pm) {
  for (int64_t qb = 0; qb < nb; ++qb) {
    const __m512 top = _mm512_mul_ps(pm, _mm512_set1_ps(sc.dv_max[qb]));  // >= every |w|
    const __m512 inv =
        _mm512_maskz_div_ps(_mm512_cmp_ps_mask(top, _mm512_setzero_ps(), _CMP_GT_OQ), _mm512_set1_ps(32767.0f), top);
    _mm512_storeu_ps(sc.unit + qb * kB, _mm512_mul_ps(top, _mm512_set1_ps(1.0f / 32767.0f)));
    for (int64_t i = 0; i < n; ++i) {
      const __m512 inv_i = lane(inv, i);
      for (int t = 0; t < kBlocks; ++t)
        quantize_weights(e[i][t], _mm512_loadu_ps(sc.dv + (t * nb + qb) * kB), inv_i,
                         sc.wq + ((h0 + i) * nb + qb) * kS + t * kB);
    }
  }
}

template <DType T>
void attention(const AttentionArgs& a) {
  constexpr bool kQuant = T == DType::kQ8_0 || T == DType::kQ4_0;
  constexpr int kBlocks = kBlocksOf<T>;
  const int64_t hd = a.head_dim, G = a.group, G16 = (G + 15) / 16 * 16, nb = hd / kAttnQueryBlock;
  const Scratch sc(a.scratch, hd, G);
  if constexpr (kQuant) prepare_query<T>(a.q, G, hd, a.scale, sc.qc, sc.qoff, sc.qd);
  std::fill(sc.acc, sc.acc + G * hd, 0.0f);
  std::fill(sc.mx, sc.mx + G16, -INFINITY);
  std::fill(sc.sum, sc.sum + G16, 0.0f);
  const size_t block_bytes = static_cast<size_t>(kB) * dtype_row_bytes(T, hd);
  for (int64_t b0 = 0; b0 < a.n_blocks; b0 += kBlocks) {
    __mmask16 valid[kBlocks];
    const StepV sv = step_scores<T>(a, sc, b0, valid);
    // An F32 / F16 next step's V, fetched while this one's is read (see step_scores).
    if constexpr (!kQuant)
      for (int t = 0; t < kBlocks; ++t)
        if (fetch_ahead<T>(a, b0 + kBlocks + t, block_bytes)) prefetch_block(a.v[b0 + kBlocks + t], block_bytes);
    for (int64_t h0 = 0; h0 < G; h0 += 16) {
      const int64_t n = std::min<int64_t>(16, G - h0);
      __m512 e[16][kStep];  // the heads' probabilities (lane = position)
      float corr[16];
      const __m512 top = step_softmax<kBlocks>(sc, h0, n, valid, e, corr);
      if constexpr (kQuant) {
        const __m512 m = _mm512_loadu_ps(sc.mx + h0);
        step_weights<kBlocks>(sc, h0, n, nb, e, _mm512_maskz_mov_ps(lanes_below(n), exp_ps(_mm512_sub_ps(top, m))));
        accumulate_v_heads<T>(n, sc.acc + h0 * hd, sc.wq + h0 * nb * kS, sc.unit, corr, sv, hd);
      } else {
        for (int64_t i = 0; i < n; ++i)
          for (int t = 0; t < kBlocks; ++t) _mm512_storeu_ps(sc.p + (h0 + i) * kS + t * kB, e[i][t]);
        accumulate_v_heads<T>(n, sc.acc + h0 * hd, sc.p + h0 * kS, nullptr, corr, sv, hd);
      }
    }
  }
  if constexpr (kQuant) unpermute_quant_acc(sc.acc, G * hd);
  for (int64_t h = 0; h < G; ++h) {
    const __m512 f = _mm512_set1_ps(output_factor(sc.mx[h], sc.sum[h], a.sinks, h));
    for (int64_t e = 0; e < hd; e += 16) {
      const __mmask16 m = lanes_below(hd - e);
      _mm512_mask_storeu_ps(a.out + h * hd + e, m, _mm512_mul_ps(_mm512_maskz_loadu_ps(m, sc.acc + h * hd + e), f));
    }
  }
}

}  // namespace

void register_attention(KernelTable& t) {
  t.attention[static_cast<uint32_t>(DType::kF32)] = attention<DType::kF32>;
  t.attention[static_cast<uint32_t>(DType::kF16)] = attention<DType::kF16>;
  t.attention[static_cast<uint32_t>(DType::kQ8_0)] = attention<DType::kQ8_0>;
  t.attention[static_cast<uint32_t>(DType::kQ4_0)] = attention<DType::kQ4_0>;
  t.store_k_row[static_cast<uint32_t>(DType::kQ4_0)] = store_k_row_native<DType::kQ4_0>;
}

}  // namespace corral::kernels::avx512

#pragma GCC diagnostic pop
#pragma GCC pop_options
