// Internal: AVX-512 gemm with 16 weight rows in the 16 lanes of every vector, shared by the
// Q4_K and Q6_K kernels (q4_k_gemm.cc, q6_k_gemm.cc).
//
// A group of 16 weight rows is prepared a few super-blocks at a time (T::Prepared, kept in L1):
// the codes transposed so that lane r of each vector holds 4 consecutive codes of row r, and
// the per-row scales spread over lanes. vpdpbusd then multiplies such a vector by 4 activation
// codes broadcast from memory (embedded broadcast): 4 codes x 16 rows per instruction, and
// scales apply exactly through vpdpwssd on sums that fit 16 bits. Lane r of the result is
// output r, so nothing is reduced across lanes and a masked store writes the group's outputs.
//
// Every output goes through the same f32 operations whatever rows share its group and however
// n is split (integer sums are exact in any order), so results do not depend on the tiling.
//
// Everything here has internal linkage and is compiled for AVX-512 by its own target pragma,
// so no inline function or template instance can leak into code that runs on other CPUs.
#pragma once

// GCC 12's AVX-512 intrinsics seed masked builtins with a self-initialised "undefined" vector,
// which -W(maybe-)uninitialized reports once they are inlined (GCC bug 105593, fixed in GCC 13).
// The warning is attributed to lines of the intrinsic headers, so it is silenced for those
// lines only. Files using this engine include it before <immintrin.h>.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#include <immintrin.h>
#pragma GCC diagnostic pop

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

#include "kernels/x86/avx512/gemv16.h"
#include "tensor/blocks.h"

#pragma GCC push_options
#pragma GCC target("avx512f,avx512bw,avx512vl,avx512dq,avx512vnni,avx2,fma,f16c,bmi2")

namespace corral::kernels {
namespace {
namespace rows16 {

constexpr int kLanes = 16;  // weight rows per group

// Activation rows per pass over a prepared chunk: each needs an f32 accumulator and one or
// more integer ones (see accumulators()), 8 of them fit the 32 registers with a code vector.
constexpr int kCols = 8;

// Super-blocks prepared at a time: ~5 KiB each, so a chunk stays in L1 while every activation
// row uses it (preparing all of k first costs 20% at k = 8192, where it spills to L2).
constexpr int64_t kChunkBlocks = 4;

// Independent integer accumulators per activation row: with few rows a single one would chain
// every vpdpwssd of a super-block (latency 5 each); with many, registers run out first.
constexpr int accumulators(int cols) { return cols <= 2 ? 4 : cols <= 4 ? 2 : 1; }

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

// 16x16 transpose of 32-bit lanes: v[r] lane c -> v[c] lane r.
inline void transpose16(__m512i* v) {
  __m512i t[16], u[16];
#pragma GCC unroll 8
  for (int i = 0; i < 8; ++i) {
    t[2 * i] = _mm512_unpacklo_epi32(v[2 * i], v[2 * i + 1]);
    t[2 * i + 1] = _mm512_unpackhi_epi32(v[2 * i], v[2 * i + 1]);
  }
  // u[4i + j], 128-bit block k: column 4k + j of rows 4i..4i+3.
#pragma GCC unroll 4
  for (int i = 0; i < 4; ++i) {
    u[4 * i] = _mm512_unpacklo_epi64(t[4 * i], t[4 * i + 2]);
    u[4 * i + 1] = _mm512_unpackhi_epi64(t[4 * i], t[4 * i + 2]);
    u[4 * i + 2] = _mm512_unpacklo_epi64(t[4 * i + 1], t[4 * i + 3]);
    u[4 * i + 3] = _mm512_unpackhi_epi64(t[4 * i + 1], t[4 * i + 3]);
  }
#pragma GCC unroll 4
  for (int j = 0; j < 4; ++j) {
    const __m512i in[4] = {u[j], u[4 + j], u[8 + j], u[12 + j]};
    __m512i out[4];
    transpose_blocks(in, out);  // out[k] = column 4k + j
#pragma GCC unroll 4
    for (int k = 0; k < 4; ++k) v[4 * k + j] = out[k];
  }
}

// `count` 64-byte pieces starting `offset` bytes into each of the 16 rows' super-block,
// transposed: out[p * 16 + i] lane r = bytes offset + 64p + 4i .. + 3 of row r.
inline void load_transposed(const uint8_t* const* rows, size_t offset, int count, __m512i* out) {
  for (int p = 0; p < count; ++p) {
#pragma GCC unroll 16
    for (int r = 0; r < kLanes; ++r) out[16 * p + r] = _mm512_loadu_si512(rows[r] + offset + 64 * p);
    transpose16(out + 16 * p);
  }
}

// vpshufb control that puts byte `first` of each 32-bit lane in its byte `at` and byte
// `second` (if >= 0) in byte `at` + 2, zeroing the rest. vpshufb indexes bytes within 128-bit
// blocks, so lane p of a block reads byte 4p + first.
inline __m512i lane_bytes(int first, int second, int at = 0) {
  int32_t lane[4];
  for (int p = 0; p < 4; ++p) {
    uint32_t bytes = 0x80808080u;
    bytes = (bytes & ~(0xFFu << (8 * at))) | static_cast<uint32_t>(4 * p + first) << (8 * at);
    if (second >= 0) {
      bytes = (bytes & ~(0xFFu << (8 * (at + 2)))) | static_cast<uint32_t>(4 * p + second) << (8 * (at + 2));
    }
    lane[p] = static_cast<int32_t>(bytes);
  }
  return _mm512_set4_epi32(lane[3], lane[2], lane[1], lane[0]);
}

inline __m512i broadcast_4_bytes(const void* p) {
  int32_t v;
  std::memcpy(&v, p, sizeof v);
  return _mm512_set1_epi32(v);
}

// acc[c] (lane r: row r of the group) += activation row c's products with `count` prepared
// super-blocks; sums is [C][n_blocks], already offset to the first of them.
template <class T, int C>
void chunk_times_rows(int64_t count, const typename T::Prepared* blocks, const uint8_t* x, size_t x_stride,
                      const typename T::Sums* sums, int64_t n_blocks, __m512* acc_io) {
  __m512 acc[C];
#pragma GCC unroll 8
  for (int c = 0; c < C; ++c) acc[c] = acc_io[c];
  for (int64_t b = 0; b < count; ++b) {
    const BlockQ8_K* xb[C];
    const typename T::Sums* s[C];
#pragma GCC unroll 8
    for (int c = 0; c < C; ++c) {
      xb[c] = reinterpret_cast<const BlockQ8_K*>(x + c * x_stride) + b;
      s[c] = sums + c * n_blocks + b;
    }
    T::template accumulate<C>(blocks[b], xb, s, acc);
  }
#pragma GCC unroll 8
  for (int c = 0; c < C; ++c) acc_io[c] = acc[c];
}

template <class T>
void chunk_times_rows_any(int cols, int64_t count, const typename T::Prepared* blocks, const uint8_t* x,
                          size_t x_stride, const typename T::Sums* sums, int64_t n_blocks, __m512* acc) {
  switch (cols) {
    case 1: return chunk_times_rows<T, 1>(count, blocks, x, x_stride, sums, n_blocks, acc);
    case 2: return chunk_times_rows<T, 2>(count, blocks, x, x_stride, sums, n_blocks, acc);
    case 3: return chunk_times_rows<T, 3>(count, blocks, x, x_stride, sums, n_blocks, acc);
    case 4: return chunk_times_rows<T, 4>(count, blocks, x, x_stride, sums, n_blocks, acc);
    case 5: return chunk_times_rows<T, 5>(count, blocks, x, x_stride, sums, n_blocks, acc);
    case 6: return chunk_times_rows<T, 6>(count, blocks, x, x_stride, sums, n_blocks, acc);
    case 7: return chunk_times_rows<T, 7>(count, blocks, x, x_stride, sums, n_blocks, acc);
    default: return chunk_times_rows<T, kCols>(count, blocks, x, x_stride, sums, n_blocks, acc);
  }
}

// Per-thread scratch, grown to the largest call seen and 64-byte aligned: the prepared chunk
// ([kChunkBlocks]), accumulators ([n]) and the activation sums ([n][n_blocks]), the 64-byte
// items first so all stay aligned.
template <class T>
struct Scratch {
  typename T::Prepared* blocks;
  __m512* acc;
  typename T::Sums* sums;
};

template <class T>
Scratch<T> scratch(int64_t n, int64_t n_blocks) {
  thread_local std::vector<uint8_t> storage;
  const size_t bytes =
      sizeof(typename T::Prepared) * kChunkBlocks + sizeof(__m512) * n + sizeof(typename T::Sums) * n * n_blocks + 64;
  if (storage.size() < bytes) storage.resize(bytes);
  const auto address = (reinterpret_cast<uintptr_t>(storage.data()) + 63) & ~uintptr_t{63};
  auto* blocks = reinterpret_cast<typename T::Prepared*>(address);
  auto* acc = reinterpret_cast<__m512*>(blocks + kChunkBlocks);
  return {blocks, acc, reinterpret_cast<typename T::Sums*>(acc + n)};
}

// The GemmFn of weight type T, which supplies Block; Prepared and prepare(rows, row_offsets,
// b, out) for 16 rows' super-block b (row_offsets: byte offset of each row from rows[0], for
// gathers); Sums and make_sums(x block, out) per activation row and super-block; and
// accumulate<C>(prepared, x blocks, sums, acc).
template <class T, bool kInterleaved = false>
void gemm(int64_t k, const void* w, size_t w_stride, int64_t m, const void* x, size_t x_stride, int64_t n, float* y,
          int64_t ldy) {
  const int64_t n_blocks = k / kQK_K;
  const auto* w_bytes = static_cast<const uint8_t*>(w);
  const auto* x_bytes = static_cast<const uint8_t*>(x);
  const Scratch<T> s = scratch<T>(n, n_blocks);
  for (int64_t j = 0; j < n; ++j) {
    const auto* row = reinterpret_cast<const BlockQ8_K*>(x_bytes + j * x_stride);
    for (int64_t b = 0; b < n_blocks; ++b) T::make_sums(row[b], s.sums[j * n_blocks + b]);
  }
  for (int64_t i0 = 0; i0 < m; i0 += kLanes) {
    const uint8_t* row_ptrs[kLanes];
    alignas(64) int32_t offsets[kLanes];
    size_t block_step = 0;
    const int rows = gemv16::group_layout<sizeof(typename T::Block), kInterleaved>(w_bytes, w_stride, i0, m, row_ptrs,
                                                                                   block_step, offsets);
    const __m512i row_offsets = _mm512_load_si512(offsets);
    for (int64_t j = 0; j < n; ++j) s.acc[j] = _mm512_setzero_ps();
    for (int64_t b0 = 0; b0 < n_blocks; b0 += kChunkBlocks) {
      const int64_t count = std::min(kChunkBlocks, n_blocks - b0);
      const uint8_t* chunk_rows[kLanes];
      for (int r = 0; r < kLanes; ++r) chunk_rows[r] = row_ptrs[r] + b0 * block_step;
      for (int64_t b = 0; b < count; ++b) {
        const uint8_t* block_rows[kLanes];
        for (int r = 0; r < kLanes; ++r) block_rows[r] = chunk_rows[r] + b * block_step;
        T::prepare(block_rows, row_offsets, s.blocks[b]);
      }
      for (int64_t j0 = 0; j0 < n; j0 += kCols) {
        chunk_times_rows_any<T>(static_cast<int>(std::min<int64_t>(kCols, n - j0)), count, s.blocks,
                                x_bytes + j0 * x_stride + b0 * sizeof(BlockQ8_K), x_stride, s.sums + j0 * n_blocks + b0,
                                n_blocks, s.acc + j0);
      }
    }
    const __mmask16 lanes = static_cast<__mmask16>((1u << rows) - 1);
    for (int64_t j = 0; j < n; ++j) _mm512_mask_storeu_ps(y + j * ldy + i0, lanes, s.acc[j]);
  }
}

// The GemmFn of a K-quant with one-row kernels (Q4_K with K4Rows, Q6_K with Q6KRows): an
// interleaved matrix's full groups take Gemv's stored_group (gemv16::stored_gemv) at any n;
// the rest (row order, or the last group of fewer than 16 rows) take Gemv's row-order group
// (gemv16::gemv_columns) up to gemv16::kMaxTotalColumns activation rows and the rows16 engine
// with T beyond.
template <class Gemv, class T, bool kInterleaved>
void gemm_with_gemv(int64_t k, const void* w, size_t w_stride, int64_t m, const void* x, size_t x_stride, int64_t n,
                    float* y, int64_t ldy) {
  const auto* w_bytes = static_cast<const uint8_t*>(w);
  const auto* x_bytes = static_cast<const uint8_t*>(x);
  int64_t full = 0;  // rows taken by gemv16::stored_gemv
  if constexpr (kInterleaved) {
    full = m / kLanes * kLanes;
    gemv16::stored_gemv<Gemv>(k, w_bytes, w_stride, full, x_bytes, x_stride, n, y, ldy);
    if (full == m) return;
  }
  if (n > gemv16::kMaxTotalColumns) {
    return gemm<T, kInterleaved>(k, w_bytes + full * w_stride, w_stride, m - full, x, x_stride, n, y + full, ldy);
  }
  gemv16::gemv_columns<Gemv, kInterleaved>(k, w_bytes + full * w_stride, w_stride, m - full, x_bytes, x_stride, n,
                                           y + full, ldy);
}

}  // namespace rows16
}  // namespace
}  // namespace corral::kernels

#pragma GCC pop_options
