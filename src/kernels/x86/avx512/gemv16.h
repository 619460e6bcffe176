// Internal: helpers of the AVX-512 one-activation-row (gemv) paths of the K-quant kernels
// (q4_k_q5_k_gemm.cc, q6_k_gemm.cc, beside the rows16 engine of rows16_engine.h) and of Q4_0
// and Q8_0 (quant_gemm.cc, beside its panels).
//
// At n = 1 the rows16 engine spends most of its time transposing weights that are used once.
// The gemv paths read each weight row in its stored order instead: its codes meet the
// activation in whole vectors (64 codes per vpdpbusd), each row's scaled integer products land
// in one vector of 16 partial sums, and 16 rows' vectors are then summed across lanes into one
// vector whose lane r is row r's exact integer sum for the super-block (sum_lanes16). From
// there the f32 operations are the rows16 engine's, lane for lane, in the same order, so a
// row's output has the same bits whether its token decodes alone or in a batch (integer sums
// are exact in any order).
//
// Everything here has internal linkage and is compiled for AVX-512 by its own target pragma.
#pragma once

// Included by rows16_engine.h (after its <immintrin.h>, with GCC 12's warnings silenced) and by
// quant_gemm.cc (which silences them itself).
#include <immintrin.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "tensor/blocks.h"

#pragma GCC push_options
#pragma GCC target("avx512f,avx512bw,avx512vl,avx512dq,avx512vnni,avx2,fma,f16c,bmi2")

namespace corral::kernels {
namespace {
namespace gemv16 {

constexpr int kLanes = 16;  // weight rows per group: one output per lane

// The weight row whose partial sums go in v[q] of sum_lanes16 so that lane r of its result is
// row r: the reduction leaves input 4t + i in lane 4i + t, so input q takes row 4(q % 4) + q / 4.
constexpr int row_of_input(int q) { return 4 * (q % 4) + q / 4; }

// The folding steps of sum_lanes16 (below), each halving the vectors: inputs a = v[2j], b =
// v[2j + 1] -> c[j] (low 256 bits: a folded to 8 lanes, high: b); c[2k], c[2k + 1] -> e[k]
// (128-bit block u: input 4k + u folded to 4 lanes); e[2m], e[2m + 1] -> g[m] (block u: lanes
// 0-1 input 8m + u, lanes 2-3 input 8m + 4 + u); g[0], g[1] -> the result.
inline __m512i fold_c(__m512i a, __m512i b) {
  return _mm512_add_epi32(_mm512_shuffle_i64x2(a, b, _MM_SHUFFLE(1, 0, 1, 0)),
                          _mm512_shuffle_i64x2(a, b, _MM_SHUFFLE(3, 2, 3, 2)));
}
inline __m512i fold_e(__m512i a, __m512i b) {
  return _mm512_add_epi32(_mm512_shuffle_i64x2(a, b, _MM_SHUFFLE(2, 0, 2, 0)),
                          _mm512_shuffle_i64x2(a, b, _MM_SHUFFLE(3, 1, 3, 1)));
}
inline __m512i fold_g(__m512i a, __m512i b) {
  return _mm512_add_epi32(_mm512_unpacklo_epi64(a, b), _mm512_unpackhi_epi64(a, b));
}
// Block u: [input u, input 4 + u, input 8 + u, input 12 + u], i.e. lane 4u + t = input 4t + u.
inline __m512i fold_last(__m512i g0, __m512i g1) {
  const __m512 a = _mm512_castsi512_ps(g0), b = _mm512_castsi512_ps(g1);
  return _mm512_add_epi32(_mm512_castps_si512(_mm512_shuffle_ps(a, b, _MM_SHUFFLE(2, 0, 2, 0))),
                          _mm512_castps_si512(_mm512_shuffle_ps(a, b, _MM_SHUFFLE(3, 1, 3, 1))));
}

// Lane q of the result = the sum of the 16 lanes of v[row_of_input^-1(q)] (see row_of_input):
// 45 shuffles and adds for 16 rows, against 4 levels of extract-and-add per row.
inline __m512i sum_lanes16(const __m512i* v /*[16]*/) {
  __m512i c[8], e[4];
#pragma GCC unroll 8
  for (int j = 0; j < 8; ++j) c[j] = fold_c(v[2 * j], v[2 * j + 1]);
#pragma GCC unroll 4
  for (int k = 0; k < 4; ++k) e[k] = fold_e(c[2 * k], c[2 * k + 1]);
  return fold_last(fold_g(e[0], e[1]), fold_g(e[2], e[3]));
}

// sum_lanes16 fed one input at a time (q = 0, 1, ..., 15, as compile-time constants once
// unrolled): each fold happens as soon as its two inputs exist, so at most one vector per level
// is live instead of 16 inputs (the multi-column gemv keeps one of these per column).
struct LaneSum16 {
  __m512i v, c, e, g;  // the pending left input of each level
  __m512i result;
  [[gnu::always_inline]] void add(int q, __m512i x) {
    if (q % 2 == 0) {
      v = x;
      return;
    }
    const __m512i cx = fold_c(v, x);
    if (q % 4 == 1) {
      c = cx;
      return;
    }
    const __m512i ex = fold_e(c, cx);
    if (q % 8 == 3) {
      e = ex;
      return;
    }
    const __m512i gx = fold_g(e, ex);
    if (q == 7) {
      g = gx;
      return;
    }
    result = fold_last(g, gx);
  }
};

// out[u] = [in[0] block u, in[1] block u, in[2] block u, in[3] block u], blocks of 128 bits.
inline void transpose_blocks(const __m512i* in /*[4]*/, __m512i* out /*[4]*/) {
  const __m512i t0 = _mm512_shuffle_i64x2(in[0], in[1], _MM_SHUFFLE(1, 0, 1, 0));
  const __m512i t1 = _mm512_shuffle_i64x2(in[0], in[1], _MM_SHUFFLE(3, 2, 3, 2));
  const __m512i t2 = _mm512_shuffle_i64x2(in[2], in[3], _MM_SHUFFLE(1, 0, 1, 0));
  const __m512i t3 = _mm512_shuffle_i64x2(in[2], in[3], _MM_SHUFFLE(3, 2, 3, 2));
  out[0] = _mm512_shuffle_i64x2(t0, t2, _MM_SHUFFLE(2, 0, 2, 0));
  out[1] = _mm512_shuffle_i64x2(t0, t2, _MM_SHUFFLE(3, 1, 3, 1));
  out[2] = _mm512_shuffle_i64x2(t1, t3, _MM_SHUFFLE(2, 0, 2, 0));
  out[3] = _mm512_shuffle_i64x2(t1, t3, _MM_SHUFFLE(3, 1, 3, 1));
}

// For the 32-element formats: 128-bit block u of v[r] holds 4 partial sums of row r's weight
// block u; out[u] lane r = the sum of them, for 16 rows and 4 blocks in 44 shuffles and adds.
inline void sum_blocks16(const __m512i* v /*[16]*/, __m512i* out /*[4]*/) {
  __m512i c[8], e[4];
  // c[i], each block: [a0 + a2, b0 + b2, a1 + a3, b1 + b3] of a = v[2i], b = v[2i + 1].
#pragma GCC unroll 8
  for (int i = 0; i < 8; ++i) {
    c[i] =
        _mm512_add_epi32(_mm512_unpacklo_epi32(v[2 * i], v[2 * i + 1]), _mm512_unpackhi_epi32(v[2 * i], v[2 * i + 1]));
  }
  // e[k], each block: the sums of rows 4k .. 4k + 3.
#pragma GCC unroll 4
  for (int k = 0; k < 4; ++k) {
    e[k] =
        _mm512_add_epi32(_mm512_unpacklo_epi64(c[2 * k], c[2 * k + 1]), _mm512_unpackhi_epi64(c[2 * k], c[2 * k + 1]));
  }
  transpose_blocks(e, out);
}

// The first 16 bytes at `at` of each of the 16 rows, as four vectors: out[i] lane r = dword i
// of row r. 16 128-bit loads and 8 unpacks instead of four 16-lane gathers, which cost more
// than everything else of a Q4_K super-block step on AMD's Zen 4 (perf: ~16% of the gemv's
// samples waited on them).
inline void load_headers16(const uint8_t* const* row_ptrs, size_t at, __m512i* out /*[4]*/) {
  // v[k], 128-bit block j: row 4j + k. Unpacking puts dword i of row 4j + k in lane 4j + k.
  __m512i v[4];
#pragma GCC unroll 4
  for (int k = 0; k < 4; ++k) {
    __m512i x = _mm512_castsi128_si512(_mm_loadu_si128(reinterpret_cast<const __m128i*>(row_ptrs[k] + at)));
    x = _mm512_inserti32x4(x, _mm_loadu_si128(reinterpret_cast<const __m128i*>(row_ptrs[4 + k] + at)), 1);
    x = _mm512_inserti32x4(x, _mm_loadu_si128(reinterpret_cast<const __m128i*>(row_ptrs[8 + k] + at)), 2);
    v[k] = _mm512_inserti32x4(x, _mm_loadu_si128(reinterpret_cast<const __m128i*>(row_ptrs[12 + k] + at)), 3);
  }
  // Block j: [d0 of k=0, d0 of k=1, d1 of k=0, d1 of k=1] (lo) and the same for d2, d3 (hi).
  const __m512i t0 = _mm512_unpacklo_epi32(v[0], v[1]), t1 = _mm512_unpackhi_epi32(v[0], v[1]);
  const __m512i t2 = _mm512_unpacklo_epi32(v[2], v[3]), t3 = _mm512_unpackhi_epi32(v[2], v[3]);
  out[0] = _mm512_unpacklo_epi64(t0, t2);
  out[1] = _mm512_unpackhi_epi64(t0, t2);
  out[2] = _mm512_unpacklo_epi64(t1, t3);
  out[3] = _mm512_unpackhi_epi64(t1, t3);
}

// The 16-row group starting at row i0 of m: each row's pointer to its first block, the bytes
// from one block of a row to its next, and each row's offset from row_ptrs[0] (for gathers).
// Rows past the matrix repeat the group's first row (their lanes are computed, never stored).
// kInterleaved: w is interleaved (api.h kInterleaveRows), the group's blocks [block][row].
template <size_t kBlockBytes, bool kInterleaved>
inline int group_layout(const uint8_t* w, size_t w_stride, int64_t i0, int64_t m, const uint8_t* (&row_ptrs)[kLanes],
                        size_t& block_step, int32_t* offsets) {
  const int rows = static_cast<int>(std::min<int64_t>(kLanes, m - i0));
  for (int r = 0; r < kLanes; ++r) {
    const int row = r < rows ? r : 0;
    const size_t offset = kInterleaved ? row * kBlockBytes : row * w_stride;
    row_ptrs[r] = w + i0 * w_stride + offset;
    offsets[r] = static_cast<int32_t>(offset);
  }
  block_step = kInterleaved ? rows * kBlockBytes : kBlockBytes;
  return rows;
}

// Super-blocks of the 16 rows requested ahead of use. Decode reads every weight byte from DRAM
// once, and each super-block step touches 16 rows at once: without requests ahead the first
// loads of a step (the scale gathers) wait for 16 misses with little else to do. A step takes
// a few hundred cycles, so 6 steps ahead covers DRAM latency while staying within L1 (6 * 16
// * 210 bytes = 20 KiB for Q6_K).
constexpr int64_t kAheadBlocks = 6;

// Requests the super-block kAheadBlocks steps after b in the gemv's order (the 16 rows at b +
// kAheadBlocks, or at the start of the next group's rows, which follow at 16 * w_stride). A
// prefetch never faults, so addresses past the matrix are harmless.
template <size_t kBlockBytes, int64_t kAhead = kAheadBlocks>
inline void prefetch_ahead(const uint8_t* const* row_ptrs, size_t w_stride, int64_t n_blocks, int64_t b) {
  int64_t ahead = b + kAhead;
  size_t skip = 0;
  while (ahead >= n_blocks) {
    ahead -= n_blocks;
    skip += kLanes * w_stride;
  }
  const size_t at = skip + static_cast<size_t>(ahead) * kBlockBytes;
#pragma GCC unroll 16
  for (int r = 0; r < kLanes; ++r) {
    const char* p = reinterpret_cast<const char*>(row_ptrs[r] + at);
#pragma GCC unroll 4
    for (size_t off = 0; off < kBlockBytes; off += 64) _mm_prefetch(p + off, _MM_HINT_T0);
    _mm_prefetch(p + kBlockBytes - 1, _MM_HINT_T0);
  }
}

// The same for an interleaved matrix (api.h kInterleaveRows): the group's blocks follow one
// another, and the next group follows the last, so the matrix is one sequential stream; the
// block step kAhead steps on is requested into L2, not L1 (a group's last partial one may
// differ in size: a prefetch is only a hint). Into L1, 6 steps ahead, the one-row Q4_K kernel
// read 14 GB/s from DRAM (k = 2048, 8192 rows, 2 threads), a third of what it reads from L3:
// most likely because the requested lines evicted lines still in use. Into L2, 3 steps (~7 KiB) ahead: 0.66 ->
// 0.31 ms, Q6_K 0.86 -> 0.44 (1, 2, 4 and 6 steps and the T2 hint measured slower).
template <size_t kBlockBytes, int64_t kAhead = 3>
inline void prefetch_ahead_interleaved(const uint8_t* group_start, size_t block_step, int64_t b) {
  const char* p = reinterpret_cast<const char*>(group_start + (b + kAhead) * block_step);
  for (size_t off = 0; off < kLanes * kBlockBytes; off += 64) _mm_prefetch(p + off, _MM_HINT_T1);
}

// The byte offset of block step b from each row's pointer (group_layout), with (kPrefetch) the
// step kAhead on requested in either layout.
template <size_t kBlockBytes, bool kInterleaved, bool kPrefetch>
inline size_t block_at(const uint8_t* const* row_ptrs, size_t block_step, size_t w_stride, int64_t n_blocks,
                       int64_t b) {
  if constexpr (kPrefetch && kInterleaved) {
    prefetch_ahead_interleaved<kBlockBytes>(row_ptrs[0], block_step, b);
  } else if constexpr (kPrefetch) {
    prefetch_ahead<kBlockBytes>(row_ptrs, w_stride, n_blocks, b);
  }
  return static_cast<size_t>(b) * block_step;
}

// The multi-column gemv driver (Q4_K, Q6_K): n <= kMaxTotalColumns activation rows against
// K's one-row kernel generalised to C <= kMaxColumns columns. Each 16-row group meets the
// columns kMaxColumns at a time, read from DRAM by the first pass and from L2 by the rest (a
// group of k = 8192 is 72 KiB of Q4_K). K supplies Block (the weight block), XBlock and
// arrange(activation row, n_blocks, XBlock out[n_blocks]) (the activations in the kernel's
// order, once per call), and group<kInterleaved, kPrefetch, C>(row_ptrs, block_step, w_stride,
// rows, n_blocks, xb[C], y, ldy), which writes y[c * ldy + r] for the group's `rows` rows
// (kPrefetch: request the stream ahead, on the first pass).
constexpr int kMaxColumns = 4;       // activation rows per pass over a group
constexpr int kMaxTotalColumns = 8;  // more take the rows16 engine (see the kernels)

template <class K, bool kInterleaved, bool kPrefetch>
void group_of(int columns, const uint8_t* const* row_ptrs, size_t block_step, size_t w_stride, int rows,
              int64_t n_blocks, const typename K::XBlock* const* xb, float* y, int64_t ldy) {
  switch (columns) {
    case 1:
      return K::template group<kInterleaved, kPrefetch, 1>(row_ptrs, block_step, w_stride, rows, n_blocks, xb, y, ldy);
    case 2:
      return K::template group<kInterleaved, kPrefetch, 2>(row_ptrs, block_step, w_stride, rows, n_blocks, xb, y, ldy);
    case 3:
      return K::template group<kInterleaved, kPrefetch, 3>(row_ptrs, block_step, w_stride, rows, n_blocks, xb, y, ldy);
    default:
      return K::template group<kInterleaved, kPrefetch, 4>(row_ptrs, block_step, w_stride, rows, n_blocks, xb, y, ldy);
  }
}

template <class K, bool kInterleaved>
void gemv_columns(int64_t k, const uint8_t* w, size_t w_stride, int64_t m, const uint8_t* x, size_t x_stride, int64_t n,
                  float* y, int64_t ldy) {
  using XBlock = typename K::XBlock;
  const int64_t n_blocks = k / kQK_K;
  thread_local std::vector<XBlock> storage;  // [n][n_blocks]; XBlock's alignment is honoured
  if (static_cast<int64_t>(storage.size()) < n * n_blocks) storage.resize(n * n_blocks);
  const XBlock* xb[kMaxTotalColumns];
  for (int64_t c = 0; c < n; ++c) {
    K::arrange(x + c * x_stride, n_blocks, storage.data() + c * n_blocks);
    xb[c] = storage.data() + c * n_blocks;
  }
  for (int64_t i0 = 0; i0 < m; i0 += kLanes) {
    const uint8_t* row_ptrs[kLanes];
    alignas(64) int32_t offsets[kLanes];
    size_t block_step = 0;
    const int rows =
        group_layout<sizeof(typename K::Block), kInterleaved>(w, w_stride, i0, m, row_ptrs, block_step, offsets);
    for (int64_t c0 = 0; c0 < n; c0 += kMaxColumns) {
      const int columns = static_cast<int>(std::min<int64_t>(kMaxColumns, n - c0));
      if (c0 == 0) {
        group_of<K, kInterleaved, true>(columns, row_ptrs, block_step, w_stride, rows, n_blocks, xb, y + i0, ldy);
      } else {
        group_of<K, kInterleaved, false>(columns, row_ptrs, block_step, w_stride, rows, n_blocks, xb + c0,
                                         y + c0 * ldy + i0, ldy);
      }
    }
  }
}

// The driver of the kernels that read a dword-interleaved matrix (api.h interleaves_dwords;
// Q4_K, Q6_K): m (a multiple of 16) rows in full groups, against n activation rows,
// kMaxColumns at a time (later passes over a group read it from L1 or L2: 72 KiB of Q4_K at
// k = 8192). K supplies Block, Sums and make_sums(activation block, out) (per activation row
// and super-block, once per call), and stored_group<kPrefetch, C>(group, block_step, n_blocks,
// x blocks[C], sums[C], y, ldy), which writes y[c * ldy + r] for the group's 16 rows
// (kPrefetch: request the stream ahead, on the first pass).
template <class K, bool kPrefetch>
void stored_group_of(int columns, const uint8_t* group, size_t block_step, int64_t n_blocks, const BlockQ8_K* const* x,
                     const typename K::Sums* const* sums, float* y, int64_t ldy) {
  switch (columns) {
    case 1: return K::template stored_group<kPrefetch, 1>(group, block_step, n_blocks, x, sums, y, ldy);
    case 2: return K::template stored_group<kPrefetch, 2>(group, block_step, n_blocks, x, sums, y, ldy);
    case 3: return K::template stored_group<kPrefetch, 3>(group, block_step, n_blocks, x, sums, y, ldy);
    default: return K::template stored_group<kPrefetch, 4>(group, block_step, n_blocks, x, sums, y, ldy);
  }
}

template <class K>
void stored_gemv(int64_t k, const uint8_t* w, size_t w_stride, int64_t m, const uint8_t* x, size_t x_stride, int64_t n,
                 float* y, int64_t ldy) {
  using Sums = typename K::Sums;
  const int64_t n_blocks = k / kQK_K;
  thread_local std::vector<Sums> storage;  // [n][n_blocks]
  if (static_cast<int64_t>(storage.size()) < n * n_blocks) storage.resize(n * n_blocks);
  for (int64_t c = 0; c < n; ++c) {
    const auto* row = reinterpret_cast<const BlockQ8_K*>(x + c * x_stride);
    for (int64_t b = 0; b < n_blocks; ++b) K::make_sums(row[b], storage[c * n_blocks + b]);
  }
  const size_t block_step = kLanes * sizeof(typename K::Block);
  for (int64_t i0 = 0; i0 < m; i0 += kLanes) {
    const uint8_t* group = w + i0 * w_stride;
    for (int64_t c0 = 0; c0 < n; c0 += kMaxColumns) {
      const int columns = static_cast<int>(std::min<int64_t>(kMaxColumns, n - c0));
      const BlockQ8_K* xs[kMaxColumns];
      const Sums* sums[kMaxColumns];
      for (int c = 0; c < columns; ++c) {
        xs[c] = reinterpret_cast<const BlockQ8_K*>(x + (c0 + c) * x_stride);
        sums[c] = storage.data() + (c0 + c) * n_blocks;
      }
      if (c0 == 0) {
        stored_group_of<K, true>(columns, group, block_step, n_blocks, xs, sums, y + i0, ldy);
      } else {
        stored_group_of<K, false>(columns, group, block_step, n_blocks, xs, sums, y + c0 * ldy + i0, ldy);
      }
    }
  }
}

}  // namespace gemv16
}  // namespace
}  // namespace corral::kernels

#pragma GCC pop_options
