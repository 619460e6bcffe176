// AVX-512 blocked attention (flash-attention style) over a paged KV cache of F32, F16, Q8_0 or
// Q4_0 elements. Per KV block, for the whole GQA group:
// - scores: F32 / F16 K (F16 widened to f32 once) give each head's 16 scores as one vector (16
//   per-position partial-sum vectors folded by a transpose-and-add tree); a Q8_0 / Q4_0 K is
//   never widened: its codes, transposed to 4-byte groups, meet the q8-rounded query's codes
//   in vpdpbusd (64 products per instruction), one int32 lane per position;
// - an online softmax on those vectors;
// - V accumulated as a [group x 16] by [16 x hd] product with the accumulators in registers,
//   each V row converted in registers (F16: vcvtph2ps; Q8_0 / Q4_0: codes to f32 with the
//   row's scale folded into the probability), no widened V block stored;
// - the next block's K and V prefetched where the hardware prefetcher does not stream them
//   (fetch_ahead).
// The steps and masks are the scalar reference's (generic/attention.cc); only the order of
// f32 additions differs.
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

// acc[g][:] = acc[g][:] * corr[g] + sum_{j in [j0, j1)} p[g][j] * v[j][:] for G heads: a
// [G x 16] by [16 x hd] product, 16 columns at a time with the G accumulators in registers.
// F32 rows are read as they are, F16 rows converted in registers (no widened block stored).
template <int G, DType T>
void accumulate_v(float* acc, const float* p, const float* corr, const void* v, int64_t hd, int64_t j0, int64_t j1) {
  for (int64_t e = 0; e < hd; e += 16) {
    const __mmask16 m = lanes_below(hd - e);
    __m512 a[G];
#pragma GCC unroll 8
    for (int g = 0; g < G; ++g)
      a[g] = _mm512_mul_ps(_mm512_maskz_loadu_ps(m, acc + g * hd + e), _mm512_set1_ps(corr[g]));
    for (int64_t j = j0; j < j1; ++j) {
      __m512 vj;
      if constexpr (T == DType::kF32) {
        vj = _mm512_maskz_loadu_ps(m, static_cast<const float*>(v) + j * hd + e);
      } else {
        static_assert(T == DType::kF16);
        vj = _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(m, static_cast<const uint16_t*>(v) + j * hd + e));
      }
#pragma GCC unroll 8
      for (int g = 0; g < G; ++g) a[g] = _mm512_fmadd_ps(_mm512_set1_ps(p[g * kB + j]), vj, a[g]);
    }
#pragma GCC unroll 8
    for (int g = 0; g < G; ++g) _mm512_mask_storeu_ps(acc + g * hd + e, m, a[g]);
  }
}

// The same over a Q8_0 / Q4_0 V block, one 32-column quantization block at a time: each
// row's codes are converted to f32 in registers and multiplied by pd[g][qb][j] = p[g][j] *
// d_v[j][qb], the row's scale folded into the probability (Q4_0's -8 applied to the codes).
template <int G, DType T>
void accumulate_v_quant(float* acc, const float* pd, const float* corr, const void* v, int64_t hd, int64_t j0,
                        int64_t j1) {
  const int64_t nb = hd / kAttnQueryBlock;
  constexpr size_t kBytes = T == DType::kQ8_0 ? sizeof(BlockQ8_0) : sizeof(BlockQ4_0);
  const size_t row = static_cast<size_t>(nb) * kBytes;
  for (int64_t qb = 0; qb < nb; ++qb) {
    float* ac = acc + qb * kAttnQueryBlock;
    __m512 a0[G], a1[G];  // columns 0-15 and 16-31 of the block
#pragma GCC unroll 8
    for (int g = 0; g < G; ++g) {
      const __m512 c = _mm512_set1_ps(corr[g]);
      a0[g] = _mm512_mul_ps(_mm512_loadu_ps(ac + g * hd), c);
      a1[g] = _mm512_mul_ps(_mm512_loadu_ps(ac + g * hd + 16), c);
    }
    const uint8_t* qs = static_cast<const uint8_t*>(v) + qb * kBytes + 2;  // after the f16 d
    const float* pq = pd + qb * kB;
    for (int64_t j = j0; j < j1; ++j) {
      const uint8_t* r = qs + j * row;
      __m512 v0, v1;
      if constexpr (T == DType::kQ8_0) {
        v0 = _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(r))));
        v1 = _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(r + 16))));
      } else {
        // Byte i: element i in the low nibble, i + 16 in the high one.
        const __m512i z = _mm512_cvtepu8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(r)));
        const __m512i eight = _mm512_set1_epi32(8);
        v0 = _mm512_cvtepi32_ps(_mm512_sub_epi32(_mm512_and_si512(z, _mm512_set1_epi32(0x0F)), eight));
        v1 = _mm512_cvtepi32_ps(_mm512_sub_epi32(_mm512_srli_epi32(z, 4), eight));
      }
#pragma GCC unroll 8
      for (int g = 0; g < G; ++g) {
        const __m512 w = _mm512_set1_ps(pq[g * nb * kB + j]);
        a0[g] = _mm512_fmadd_ps(w, v0, a0[g]);
        a1[g] = _mm512_fmadd_ps(w, v1, a1[g]);
      }
    }
#pragma GCC unroll 8
    for (int g = 0; g < G; ++g) {
      _mm512_storeu_ps(ac + g * hd, a0[g]);
      _mm512_storeu_ps(ac + g * hd + 16, a1[g]);
    }
  }
}

// Up to 8 heads at a time keep their accumulators (Q8_0 / Q4_0: two per head) and the V
// vectors in registers. p: [n][16] probabilities, or for a quantized V [n][nb][16] pd.
template <DType T>
void accumulate_v_heads(int64_t n, float* acc, const float* p, const float* corr, const void* v, int64_t hd, int64_t j0,
                        int64_t j1) {
  constexpr bool kQuantV = T == DType::kQ8_0 || T == DType::kQ4_0;
  const int64_t p_stride = kQuantV ? hd / kAttnQueryBlock * kB : kB;  // floats per head
  for (int64_t h = 0; h < n; h += 8) {
    float* ah = acc + h * hd;
    const float* ph = p + h * p_stride;
    const float* ch = corr + h;
    const auto run = [&]<int G>() {
      if constexpr (kQuantV) {
        accumulate_v_quant<G, T>(ah, ph, ch, v, hd, j0, j1);
      } else {
        accumulate_v<G, T>(ah, ph, ch, v, hd, j0, j1);
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
// -8 applied below). vpdpbusd sums 4 byte products per 32-bit lane, so the 16 rows' chunks,
// transposed as a 16 x 16 matrix of 4-byte groups, give t[i] = group i of every row, lane j
// = row j: one vpdpbusd of t[i] with the query's 4 codes of group i broadcast adds 4 products
// to each of the 16 positions' sums, and no horizontal sum is ever needed. The transpose is
// done once per chunk for the whole GQA group. Per quantization block the integer sum minus
// the offset's share (128 or 8 times the query block's code sum, exact in int32) is scaled by
// d_k (a vector over the 16 rows) times d_q * scale. The largest sum, 64 x 255 x 127, fits.

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

// Scores (times scale) of G heads against the 16 rows of a quantized K block into p ([G][16]),
// -inf outside `valid`. Rows from j1 on are not read (they may not exist yet).
template <DType T>
void quant_block_scores(const void* kblock, int64_t j1, __mmask16 valid, int64_t G, int64_t hd, const int8_t* qc,
                        const int32_t* qoff, const float* qd, float* dk, float* p) {
  const int64_t nb = hd / kAttnQueryBlock, n_chunks = (nb + 1) / 2;
  const size_t row = static_cast<size_t>(nb) * kKvBlockBytes<T>;
  const auto* base = static_cast<const uint8_t*>(kblock);
  for (int64_t b = 0; b < nb; ++b) _mm512_storeu_ps(dk + b * kB, gather_scales<T>(kblock, row, b, valid));
  for (int64_t h = 0; h < G; ++h) _mm512_storeu_ps(p + h * kB, _mm512_setzero_ps());
  for (int64_t c = 0; c < n_chunks; ++c) {
    const bool second = 2 * c + 1 < nb;
    __m512i t[16];
    for (int64_t j = 0; j < kB; ++j)
      t[j] = j < j1 ? load_k_chunk<T>(base + j * row, c, second) : _mm512_setzero_si512();
    transpose16x16(t);
    for (int64_t h = 0; h < G; ++h) {
      const int8_t* qh = qc + (h * n_chunks + c) * 64;
      __m512 s = _mm512_loadu_ps(p + h * kB);
      s = chunk_half_score<T>(t, qh, 0, qoff[h * nb + 2 * c],
                              _mm512_mul_ps(_mm512_loadu_ps(dk + 2 * c * kB), _mm512_set1_ps(qd[h * nb + 2 * c])), s);
      if (second)
        s = chunk_half_score<T>(
            t, qh, 1, qoff[h * nb + 2 * c + 1],
            _mm512_mul_ps(_mm512_loadu_ps(dk + (2 * c + 1) * kB), _mm512_set1_ps(qd[h * nb + 2 * c + 1])), s);
      _mm512_storeu_ps(p + h * kB, s);
    }
  }
  for (int64_t h = 0; h < G; ++h)
    _mm512_storeu_ps(p + h * kB, _mm512_mask_mov_ps(_mm512_set1_ps(-INFINITY), valid, _mm512_loadu_ps(p + h * kB)));
}

// One block ahead: at ~200 ns of compute per block that covers DRAM's latency, while two
// ahead was slower for f32 (8 KB in flight per block; kernels_bench attention/f32/1: 430 ->
// 630 ns per block), more lines than the core tracks.
constexpr int64_t kPrefetchBlocks = 1;

// Whether block b + kPrefetchBlocks is fetched ahead. The cache's consecutive blocks lie side
// by side (model/kv_storage.h: extents), where the hardware prefetcher streams them; an F32 /
// F16 block (4-8 KB of K and V) fetched ahead on top of that only fills the core's miss
// queue: 8 x 4,096 positions, long_context_bench, step 204-207 ms without against 218-246
// (f32) and 136-140 against 138-235 (f16). The quantized blocks (1-2 KB) gain from it even
// when they are consecutive (q8_0 102-118 ms with, 109-127 without), and every type from
// blocks elsewhere (a sequence's blocks allocated while other sequences grew).
template <DType T>
bool fetch_ahead(const AttentionArgs& a, int64_t b, size_t block_bytes) {
  if (b + kPrefetchBlocks >= a.n_blocks) return false;
  if constexpr (T == DType::kQ8_0 || T == DType::kQ4_0) return true;
  return !next_block_follows(a.k, a.v, b + kPrefetchBlocks, block_bytes);
}

void prefetch_block(const void* block, size_t bytes) {
  const auto* c = static_cast<const char*>(block);
  for (size_t i = 0; i < bytes; i += 64) _mm_prefetch(c + i, _MM_HINT_T0);
}

template <DType T>
void attention(const AttentionArgs& a) {
  constexpr bool kQuant = T == DType::kQ8_0 || T == DType::kQ4_0;
  const int64_t hd = a.head_dim, G = a.group;
  const int64_t hd16 = (hd + 15) / 16 * 16, G16 = (G + 15) / 16 * 16, nb = hd / kAttnQueryBlock;
  float* acc = a.scratch + 2 * kB * hd16;  // [G][hd] sum_j p_j v_j relative to the running max
                                           // (the reference's widened K and V blocks unused)
  float* p = acc + G * hd16;               // [G][16] the block's scores, then probabilities
  float* mx = p + G * kB;                  // [G16] running max of the scaled scores
  float* sum = mx + G16;                   // [G16] running sum of exp(score - max)
  // Quantized K and V only: the rounded query, the block's scales, the scaled probabilities.
  auto* qc = reinterpret_cast<int8_t*>(sum + G16);                // [G][n_chunks * 64] codes
  auto* qoff = reinterpret_cast<int32_t*>(sum + G16 + G * hd16);  // [G][nb] offset share
  float* qd = sum + G16 + G * hd16 + G * nb;                      // [G][nb] d_q * scale
  float* dk = qd + G * nb;                                        // [nb][16] K's d per row
  float* dv = dk + nb * kB;                                       // [nb][16] V's d per row
  float* pd = dv + nb * kB;                                       // [G][nb][16] p_j * V's d_j
  float bmax[16], corr[16];                                       // per head of a 16-head slice
  if constexpr (kQuant) prepare_query<T>(a.q, G, hd, a.scale, qc, qoff, qd);
  std::fill(acc, acc + G * hd, 0.0f);
  std::fill(mx, mx + G16, -INFINITY);
  std::fill(sum, sum + G16, 0.0f);
  const size_t block_bytes = static_cast<size_t>(kB) * dtype_row_bytes(T, hd);
  for (int64_t b = 0; b < a.n_blocks; ++b) {
    const int64_t j0 = b == 0 ? a.skip : 0;
    const int64_t j1 = b == a.n_blocks - 1 ? a.last_len : kB;
    const __mmask16 valid = static_cast<__mmask16>(lanes_below(j1) & ~lanes_below(j0));
    // Fetch block b + kPrefetchBlocks's K and V while this one is computed (see fetch_ahead).
    if (fetch_ahead<T>(a, b, block_bytes)) {
      prefetch_block(a.k[b + kPrefetchBlocks], block_bytes);
      prefetch_block(a.v[b + kPrefetchBlocks], block_bytes);
    }
    // Rows outside [j0, j1) may hold anything finite or not: their score lanes are masked to
    // -inf, their probabilities are 0 and V is read only in [j0, j1).
    if constexpr (kQuant) {
      quant_block_scores<T>(a.k[b], j1, valid, G, hd, qc, qoff, qd, dk, p);
      const size_t row = static_cast<size_t>(nb) * kKvBlockBytes<T>;
      for (int64_t qb = 0; qb < nb; ++qb) _mm512_storeu_ps(dv + qb * kB, gather_scales<T>(a.v[b], row, qb, valid));
    } else {
      // Rows past j1 are read too (a block is allocated whole); their lanes are masked.
      for (int64_t h = 0; h < G; ++h) {
        const __m512 s =
            _mm512_mask_mov_ps(_mm512_set1_ps(-INFINITY), valid, block_scores<T>(a.q + h * hd, a.k[b], hd, a.scale));
        _mm512_storeu_ps(p + h * kB, s);
      }
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
        if constexpr (kQuant) {
          for (int64_t qb = 0; qb < nb; ++qb)
            _mm512_storeu_ps(pd + ((h0 + i) * nb + qb) * kB, _mm512_mul_ps(e, _mm512_loadu_ps(dv + qb * kB)));
        }
      }
      if constexpr (kQuant) {
        accumulate_v_heads<T>(n, acc + h0 * hd, pd + h0 * nb * kB, corr, a.v[b], hd, j0, j1);
      } else {
        accumulate_v_heads<T>(n, acc + h0 * hd, p + h0 * kB, corr, a.v[b], hd, j0, j1);
      }
    }
  }
  for (int64_t h = 0; h < G; ++h) {
    const __m512 f = _mm512_set1_ps(output_factor(mx[h], sum[h], a.sinks, h));
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
