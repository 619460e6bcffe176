// Internal: the AVX2 machinery shared by the K-quant kernels (q2_k_q3_k.cc, q4_k_q5_k.cc,
// q6_k.cc). A weight type says how to unpack one super-block into a WeightBlock (codes in
// element order, 32 per vector, and per-lane scales); gemm<T> and dequantize<T> do the rest.
//
// As on AVX-512 (see avx512/kquant_engine.h), each weight super-block is unpacked once per
// group of up to kCols activation rows and applied to all of them, the integer sums are exact
// (vpmaddubsw: unsigned code x signed activation code -> int16 pairs, at most 2 * 63 * 128;
// vpmaddwd with the sub-block scale of each lane -> int32), and the weights' mins / code
// offsets meet the activations through their bsums with one FMA per 8 of them. The level has
// no VNNI and 16 registers, so the unpacked block lives on the stack and the activations are
// read in place from the Q8_K rows; only bsums * d_x is prepared per call.
//
// Everything here has internal linkage and is compiled for AVX2 by its own target pragma, so
// no inline function or template instance can leak into code that runs on other CPUs.
#pragma once

#include <immintrin.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "tensor/blocks.h"

#pragma GCC push_options
#pragma GCC target("avx2,fma,f16c,bmi2")

namespace corral::kernels {
namespace {

// Activation rows sharing one unpacked weight super-block: 4 int32 sums and 4 f32
// accumulators, plus a code vector, a scale vector and temporaries, fit 16 ymm registers.
constexpr int kCols = 4;

// Bytes of activations (codes and prepared sums) walked per pass over kRows weight rows: k is
// split into chunks of this size so they stay in L1 while the rows use them.
constexpr size_t kActivationBudget = 12 * 1024;

// Weight rows per pass over a chunk of activations.
constexpr int kRows = 16;

// One weight row's super-block, unpacked by T::unpack.
struct WeightBlock {
  __m256i codes[8];   // [8][32] u8: unsigned codes, vector v = elements 32v..32v+31
  __m256i scales[8];  // [8][16] i16: the scale of the sub-block of maddubs lane l of vector v
  __m256 bias[2];     // [16] f32: coefficient of each ActivationSums lane (bias[1] unused when
                      // T::kPairedSums)
  __m256 d;           // the super-block scale d, broadcast
};

// Per activation row and super-block: the bsums times d_x as f32 ([16], or [8] sums of two
// bsums when the weights' sub-blocks are 32 long: kPairedSums), and d_x.
struct ActivationSums {
  __m256 sums[2];
  __m256 d;
};

template <bool kPairedSums>
inline void prepare_sums(const BlockQ8_K& x, ActivationSums& a) {
  const __m256i bsums = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x.bsums));
  const __m256 d = _mm256_set1_ps(x.d);
  if constexpr (kPairedSums) {
    a.sums[0] = _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_madd_epi16(bsums, _mm256_set1_epi16(1))), d);
    a.sums[1] = _mm256_setzero_ps();
  } else {
    const __m256i low = _mm256_cvtepi16_epi32(_mm256_castsi256_si128(bsums));
    const __m256i high = _mm256_cvtepi16_epi32(_mm256_extracti128_si256(bsums, 1));
    a.sums[0] = _mm256_mul_ps(_mm256_cvtepi32_ps(low), d);
    a.sums[1] = _mm256_mul_ps(_mm256_cvtepi32_ps(high), d);
  }
  a.d = d;
}

// acc[c] += dot over super-blocks [0, n_blocks) of weight row w and activation row c (x rows
// x_stride bytes apart, starting at super-block 0 of the chunk). Each output goes through the
// same operations in the same order whatever C is (its integer sum over v = 0..7, then the
// same three FMAs), so results do not depend on how rows are grouped. GCC keeps the small
// arrays in registers only once the loops over them are unrolled.
template <class T, int C>
void dot_rows(int64_t n_blocks, const typename T::Block* w, const uint8_t* x, size_t x_stride,
              const ActivationSums* sums /*[n_blocks][C]*/, __m256* acc_io /*[C]*/) {
  __m256 acc[C];
#pragma GCC unroll 4
  for (int c = 0; c < C; ++c) acc[c] = acc_io[c];
  for (int64_t b = 0; b < n_blocks; ++b) {
    WeightBlock wb;
    T::unpack(w[b], wb);
    const int8_t* qs[C];
#pragma GCC unroll 4
    for (int c = 0; c < C; ++c) qs[c] = (reinterpret_cast<const BlockQ8_K*>(x + c * x_stride) + b)->qs;
    __m256i isum[C];
#pragma GCC unroll 4
    for (int c = 0; c < C; ++c) {
      isum[c] = _mm256_madd_epi16(
          _mm256_maddubs_epi16(wb.codes[0], _mm256_loadu_si256(reinterpret_cast<const __m256i*>(qs[c]))), wb.scales[0]);
    }
#pragma GCC unroll 7
    for (int v = 1; v < 8; ++v) {
#pragma GCC unroll 4
      for (int c = 0; c < C; ++c) {
        const __m256i q = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(qs[c] + 32 * v));
        isum[c] = _mm256_add_epi32(isum[c], _mm256_madd_epi16(_mm256_maddubs_epi16(wb.codes[v], q), wb.scales[v]));
      }
    }
#pragma GCC unroll 4
    for (int c = 0; c < C; ++c) {
      const ActivationSums& a = sums[b * C + c];
      acc[c] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(isum[c]), _mm256_mul_ps(wb.d, a.d), acc[c]);
      acc[c] = _mm256_fmadd_ps(wb.bias[0], a.sums[0], acc[c]);
      if constexpr (!T::kPairedSums) acc[c] = _mm256_fmadd_ps(wb.bias[1], a.sums[1], acc[c]);
    }
  }
#pragma GCC unroll 4
  for (int c = 0; c < C; ++c) acc_io[c] = acc[c];
}

template <class T>
void dot_rows_any(int cols, int64_t n_blocks, const typename T::Block* w, const uint8_t* x, size_t x_stride,
                  const ActivationSums* sums, __m256* acc) {
  switch (cols) {
    case 1: return dot_rows<T, 1>(n_blocks, w, x, x_stride, sums, acc);
    case 2: return dot_rows<T, 2>(n_blocks, w, x, x_stride, sums, acc);
    case 3: return dot_rows<T, 3>(n_blocks, w, x, x_stride, sums, acc);
    default: return dot_rows<T, kCols>(n_blocks, w, x, x_stride, sums, acc);
  }
}

// Sum of the 8 lanes, always in the same order.
inline float reduce_add(__m256 v) {
  const __m128 quad = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  const __m128 pair = _mm_add_ps(quad, _mm_movehl_ps(quad, quad));
  return _mm_cvtss_f32(_mm_add_ss(pair, _mm_movehdup_ps(pair)));
}

// Per-thread scratch, grown to the largest call seen (steady-state calls allocate nothing) and
// 32-byte aligned: [kRows][kCols] accumulators, then the prepared activation sums.
struct Scratch {
  __m256* acc;
  ActivationSums* sums;
};

inline Scratch scratch(size_t sums_count) {
  thread_local std::vector<float> storage;
  const size_t bytes = sizeof(__m256) * kRows * kCols + sizeof(ActivationSums) * sums_count;
  const size_t floats = bytes / sizeof(float) + 8;  // +8: room to align
  if (storage.size() < floats) storage.resize(floats);
  const auto address = (reinterpret_cast<uintptr_t>(storage.data()) + 31) & ~uintptr_t{31};
  auto* acc = reinterpret_cast<__m256*>(address);
  return {acc, reinterpret_cast<ActivationSums*>(acc + kRows * kCols)};
}

// The GemmFn of weight type T (see kernels/api.h): groups of kCols activation rows; per group,
// the sums prepared once, then every weight row, kRows at a time, k in chunks that stay in L1.
template <class T>
void gemm(int64_t k, const void* w, size_t w_stride, int64_t m, const void* x, size_t x_stride, int64_t n, float* y,
          int64_t ldy) {
  const int64_t n_blocks = k / kQK_K;
  const auto* w_bytes = static_cast<const uint8_t*>(w);
  const auto* x_bytes = static_cast<const uint8_t*>(x);
  for (int64_t j0 = 0; j0 < n; j0 += kCols) {
    const int cols = static_cast<int>(std::min<int64_t>(kCols, n - j0));
    const uint8_t* x_rows = x_bytes + j0 * x_stride;
    const Scratch s = scratch(static_cast<size_t>(n_blocks * cols));
    for (int c = 0; c < cols; ++c) {
      const auto* row = reinterpret_cast<const BlockQ8_K*>(x_rows + c * x_stride);
      for (int64_t b = 0; b < n_blocks; ++b) { prepare_sums<T::kPairedSums>(row[b], s.sums[b * cols + c]); }
    }
    const size_t per_block = (sizeof(BlockQ8_K) + sizeof(ActivationSums)) * cols;
    const int64_t chunk = std::clamp<int64_t>(static_cast<int64_t>(kActivationBudget / per_block), 1, n_blocks);
    for (int64_t i0 = 0; i0 < m; i0 += kRows) {
      const int rows = static_cast<int>(std::min<int64_t>(kRows, m - i0));
      for (int e = 0; e < rows * cols; ++e) s.acc[e] = _mm256_setzero_ps();
      for (int64_t b0 = 0; b0 < n_blocks; b0 += chunk) {
        const int64_t blocks = std::min(chunk, n_blocks - b0);
        for (int r = 0; r < rows; ++r) {
          const auto* w_row = reinterpret_cast<const typename T::Block*>(w_bytes + (i0 + r) * w_stride) + b0;
          dot_rows_any<T>(cols, blocks, w_row, x_rows + b0 * sizeof(BlockQ8_K), x_stride, s.sums + b0 * cols,
                          s.acc + r * cols);
        }
      }
      for (int r = 0; r < rows; ++r) {
        for (int c = 0; c < cols; ++c) y[(j0 + c) * ldy + i0 + r] = reduce_add(s.acc[r * cols + c]);
      }
    }
  }
}

// ---- Unpacking helpers -------------------------------------------------------------------

inline __m256i load_32_bytes(const uint8_t* p) { return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)); }

// Bit `from` of every byte of v at bit `to` of the same byte, other bits garbage (16-bit
// shifts never move a bit by 8 or more, so bit `to` comes from the same byte).
inline __m256i move_bits(__m256i v, int from, int to) {
  if (to > from) return _mm256_slli_epi16(v, to - from);
  if (from > to) return _mm256_srli_epi16(v, from - to);
  return v;
}

// 16 scale bytes, both 128-bit halves holding all 16.
inline __m256i broadcast_16_bytes(__m128i v) { return _mm256_broadcastsi128_si256(v); }

// Scales for vectors whose lanes 0-7 and 8-15 (128-bit halves) are two 16-element sub-blocks:
// vector v's halves take bytes 2v and 2v + 1 of `bytes16` (broadcast to both halves), as int16.
// kSigned: the bytes are int8 (placed in the high byte of each lane, then shifted down with
// sign); otherwise unsigned (placed in the low byte, the high byte zeroed by vpshufb's 0x80).
template <bool kSigned>
inline void expand_scales_16(__m256i bytes16, __m256i* scales /*[8]*/) {
#pragma GCC unroll 8
  for (int v = 0; v < 8; ++v) {
    const char low = static_cast<char>(2 * v), high = static_cast<char>(2 * v + 1), z = static_cast<char>(0x80);
    if constexpr (kSigned) {
      const __m256i control = _mm256_setr_epi8(z, low, z, low, z, low, z, low, z, low, z, low, z, low, z, low, z, high,
                                               z, high, z, high, z, high, z, high, z, high, z, high, z, high);
      scales[v] = _mm256_srai_epi16(_mm256_shuffle_epi8(bytes16, control), 8);
    } else {
      const __m256i control = _mm256_setr_epi8(low, z, low, z, low, z, low, z, low, z, low, z, low, z, low, z, high, z,
                                               high, z, high, z, high, z, high, z, high, z, high, z, high, z);
      scales[v] = _mm256_shuffle_epi8(bytes16, control);
    }
  }
}

// The f16 scale as f32, broadcast.
inline __m256 broadcast_f16(uint16_t h) { return _mm256_set1_ps(_cvtsh_ss(h)); }

// ---- Dequantization ------------------------------------------------------------------------

// Keeps the compiler from fusing a product into the following subtraction: GCC contracts
// a * b - c into one FMA under -ffp-contract=fast (its default for C++), which would round
// differently from the scalar reference that dequantize must match bit for bit.
inline __m256 unfused(__m256 v) {
  __asm__("" : "+x"(v));
  return v;
}

// y = dl * q - ml for 8 unsigned codes u = q + kOffset (the low 8 bytes of `codes`), with dl
// and ml the group's d * scale and dmin * min computed as the reference does. Types without
// mins pass ml = 0: x - 0 is x.
template <int kOffset>
inline void dequantize_8(__m128i codes, float dl, float ml, float* y) {
  __m256i q = _mm256_cvtepu8_epi32(codes);
  if constexpr (kOffset != 0) q = _mm256_sub_epi32(q, _mm256_set1_epi32(kOffset));
  const __m256 product = unfused(_mm256_mul_ps(_mm256_set1_ps(dl), _mm256_cvtepi32_ps(q)));
  _mm256_storeu_ps(y, _mm256_sub_ps(product, _mm256_set1_ps(ml)));
}

// The DequantizeRowFn of weight type T, which supplies codes_in_order (the 8 code vectors of
// WeightBlock), group_scales (d * scale and dmin * min per 16 elements) and its code offset.
template <class T>
void dequantize(const void* src, float* dst, int64_t n) {
  const auto* blocks = static_cast<const typename T::Block*>(src);
  for (int64_t b = 0; b < n / kQK_K; ++b) {
    __m256i codes[8];
    T::codes_in_order(blocks[b], codes);
    float dl[16], ml[16];
    T::group_scales(blocks[b], dl, ml);
    float* y = dst + b * kQK_K;
    for (int v = 0; v < 8; ++v) {
      const __m128i low = _mm256_castsi256_si128(codes[v]);
      const __m128i high = _mm256_extracti128_si256(codes[v], 1);
      const int g = 2 * v;  // 16 elements per group: vector v holds groups 2v and 2v + 1
      dequantize_8<T::kOffset>(low, dl[g], ml[g], y + 32 * v);
      dequantize_8<T::kOffset>(_mm_srli_si128(low, 8), dl[g], ml[g], y + 32 * v + 8);
      dequantize_8<T::kOffset>(high, dl[g + 1], ml[g + 1], y + 32 * v + 16);
      dequantize_8<T::kOffset>(_mm_srli_si128(high, 8), dl[g + 1], ml[g + 1], y + 32 * v + 24);
    }
  }
}

}  // namespace
}  // namespace corral::kernels

#pragma GCC pop_options
