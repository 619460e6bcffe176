// Internal: the AVX-512 VNNI machinery shared by the K-quant kernels (q2_k_q3_k.cc,
// q4_k_q5_k.cc, q6_k.cc). A weight type says how to unpack one super-block (WeightBlock), how
// to lay out the activations for it (ActivationBlock) and how to take their integer dot
// product; gemm<T> and dequantize<T> here do the rest. (Q4_K's gemm instead puts 16 weight
// rows in the lanes, see q4_k_gemm.cc: about half the instructions per product, at the cost
// of a transpose per 16 rows.)
//
// The gemm reads each weight super-block once per group of up to kCols activation rows and
// applies it to all of them while it sits unpacked in registers: decode (n = 1..16) is bound by
// reading the weights, and this keeps a batch of 16 far cheaper than 16 single rows.
//
// Per (weight row, activation row, super-block): the exact integer sum of scale * code *
// activation code (6-8 VNNI instructions per 256 codes, see each type), converted once to f32
// and multiplied by d_w * d_x; plus the terms in which the weights' mins, or the offset of
// codes stored as unsigned values (Q3_K + 4, Q6_K + 32), meet the activations. Those are sums
// over sub-blocks of a weight coefficient times an activation bsum, so they cost one FMA:
// WeightBlock::bias (coefficient, per row) times ActivationBlock::sums (bsum * d_x, per
// activation row, computed once per call).
//
// Everything here has internal linkage and is compiled for AVX-512 by its own target pragma,
// so no inline function or template instance can leak into code that runs on other CPUs.
#pragma once

// GCC 12's AVX-512 intrinsics seed masked builtins with a self-initialised "undefined" vector,
// which -W(maybe-)uninitialized reports once they are inlined (GCC bug 105593, fixed in GCC 13).
// The warning is attributed to lines of the intrinsic headers, so it is silenced for those
// lines only. Files using this engine include it before <immintrin.h> for that reason.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#include <immintrin.h>
#pragma GCC diagnostic pop

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "tensor/blocks.h"

#pragma GCC push_options
#pragma GCC target("avx512f,avx512bw,avx512vl,avx512dq,avx512vnni,avx2,fma,f16c,bmi2")

namespace corral::kernels {
namespace {

// Activation rows sharing one unpacked weight super-block: 16 f32 accumulators, the 8-10
// registers of a WeightBlock and a few temporaries fill the 32 zmm registers. 16 keeps the
// unpacking under a tenth of the work in prefill and covers a 16-sequence decode batch at once.
constexpr int kCols = 16;

// Bytes of prepared activations kept per pass over the weight rows: with the weights being
// read this stays within the 48 KiB L1 of current cores (k is walked in chunks to fit).
constexpr size_t kActivationBudget = 12 * 1024;

// Weight rows per pass over a chunk of prepared activations (their accumulators stay in L1).
constexpr int kRows = 16;

// One weight row's super-block, unpacked by T::unpack.
struct WeightBlock {
  __m512i codes[4];   // [4][64] u8: the 256 codes as unsigned values, in the type's order
  __m512i scales[4];  // i16 or i32 scales laid out for T::isum (types use 2 or 4)
  __m512 bias;        // [16] f32: coefficient of each ActivationBlock::sums lane (0 if unused)
  __m512 d;           // the super-block scale d, broadcast
};

// One activation row's super-block, prepared by T::arrange once per call and read by every
// weight row: the codes in the order T::isum pairs them with the weight codes, the bsums
// times d_x (the mins and code offsets of the weights meet the activations only through these:
// sum over sub-blocks of coefficient * bsum), and d_x.
struct ActivationBlock {
  __m512i q[4];  // [4][64] i8
  __m512 sums;   // [16] bsum * d_x, or [8] sums of two bsums (32-element sub-blocks), then 0
  __m512 d;      // d_x broadcast
};

template <bool kPairedSums>
inline __m512 activation_sums(const BlockQ8_K& x) {
  const __m256i bsums = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x.bsums));
  __m512i sums;
  if constexpr (kPairedSums) {
    sums = _mm512_zextsi256_si512(_mm256_madd_epi16(bsums, _mm256_set1_epi16(1)));
  } else {
    sums = _mm512_cvtepi16_epi32(bsums);
  }
  return _mm512_mul_ps(_mm512_cvtepi32_ps(sums), _mm512_set1_ps(x.d));
}

// ActivationBlock with the codes in element order (for T::arrange).
template <bool kPairedSums>
inline void arrange_in_order(const BlockQ8_K& x, ActivationBlock& a) {
#pragma GCC unroll 4
  for (int v = 0; v < 4; ++v) a.q[v] = _mm512_loadu_si512(x.qs + 64 * v);
  a.sums = activation_sums<kPairedSums>(x);
  a.d = _mm512_set1_ps(x.d);
}

// The integer dot of types whose codes and activations are both in element order: vpmaddubsw
// (unsigned code x signed activation, pairs summed to int16: at most 2 * 63 * 128, no
// saturation) then vpmaddwd / vpdpwssd with the sub-block scale of each int16 lane.
inline __m512i isum_in_order(const WeightBlock& w, const ActivationBlock& a) {
  __m512i s = _mm512_madd_epi16(_mm512_maddubs_epi16(w.codes[0], a.q[0]), w.scales[0]);
#pragma GCC unroll 3
  for (int v = 1; v < 4; ++v) {
    s = _mm512_dpwssd_epi32(s, _mm512_maddubs_epi16(w.codes[v], a.q[v]), w.scales[v]);
  }
  return s;
}

// acc += this super-block's contribution to dot(weight row, activation row): the exact integer
// sum of scale * code * activation code times d_w * d_x, plus the bias terms.
template <class T>
inline __m512 pair_update(const WeightBlock& w, const ActivationBlock& a, __m512 acc) {
  const __m512 dd = _mm512_mul_ps(w.d, a.d);
  acc = _mm512_fmadd_ps(_mm512_cvtepi32_ps(T::isum(w, a)), dd, acc);
  return _mm512_fmadd_ps(w.bias, a.sums, acc);
}

// acc[c] += dot over super-blocks [0, n_blocks) of weight row w and prepared row c. Every
// output goes through the same sequence of operations whatever C is, so results do not depend
// on how rows are grouped. GCC keeps acc in registers only once the loops over it are unrolled.
template <class T, int C>
void dot_rows(int64_t n_blocks, const typename T::Block* w, const ActivationBlock* x /*[n_blocks][C]*/,
              __m512* acc_io /*[C]*/) {
  __m512 acc[C];
#pragma GCC unroll 16
  for (int c = 0; c < C; ++c) acc[c] = acc_io[c];
  for (int64_t b = 0; b < n_blocks; ++b) {
    WeightBlock wb;
    T::unpack(w[b], wb);
#pragma GCC unroll 16
    for (int c = 0; c < C; ++c) acc[c] = pair_update<T>(wb, x[b * C + c], acc[c]);
  }
#pragma GCC unroll 16
  for (int c = 0; c < C; ++c) acc_io[c] = acc[c];
}

template <class T>
void dot_rows_any(int cols, int64_t n_blocks, const typename T::Block* w,
                  const ActivationBlock* x, __m512* acc) {
  switch (cols) {
    case 1: return dot_rows<T, 1>(n_blocks, w, x, acc);
    case 2: return dot_rows<T, 2>(n_blocks, w, x, acc);
    case 3: return dot_rows<T, 3>(n_blocks, w, x, acc);
    case 4: return dot_rows<T, 4>(n_blocks, w, x, acc);
    case 5: return dot_rows<T, 5>(n_blocks, w, x, acc);
    case 6: return dot_rows<T, 6>(n_blocks, w, x, acc);
    case 7: return dot_rows<T, 7>(n_blocks, w, x, acc);
    case 8: return dot_rows<T, 8>(n_blocks, w, x, acc);
    case 9: return dot_rows<T, 9>(n_blocks, w, x, acc);
    case 10: return dot_rows<T, 10>(n_blocks, w, x, acc);
    case 11: return dot_rows<T, 11>(n_blocks, w, x, acc);
    case 12: return dot_rows<T, 12>(n_blocks, w, x, acc);
    case 13: return dot_rows<T, 13>(n_blocks, w, x, acc);
    case 14: return dot_rows<T, 14>(n_blocks, w, x, acc);
    case 15: return dot_rows<T, 15>(n_blocks, w, x, acc);
    default: return dot_rows<T, kCols>(n_blocks, w, x, acc);
  }
}

// Per-thread scratch, grown to the largest call seen (steady-state calls allocate nothing) and
// 64-byte aligned: [kRows][kCols] accumulators, then the prepared activations.
struct Scratch {
  __m512* acc;
  ActivationBlock* x;
};

inline Scratch scratch(size_t activation_blocks) {
  thread_local std::vector<float> storage;
  const size_t bytes = sizeof(__m512) * kRows * kCols + sizeof(ActivationBlock) * activation_blocks;
  const size_t floats = bytes / sizeof(float) + 16;  // +16: room to align
  if (storage.size() < floats) storage.resize(floats);
  const auto address = (reinterpret_cast<uintptr_t>(storage.data()) + 63) & ~uintptr_t{63};
  auto* acc = reinterpret_cast<__m512*>(address);
  return {acc, reinterpret_cast<ActivationBlock*>(acc + kRows * kCols)};
}

// The GemmFn of weight type T (see kernels/api.h). T supplies Block, unpack (weights), arrange
// (activations) and isum (their exact integer dot product for one super-block).
//
// Per group of up to kCols activation rows: prepare them once (all of k, kept in L2), then run
// every weight row against the group, kRows rows at a time, k in chunks whose prepared
// activations stay in L1 while the kRows rows use them. Each weight super-block is read once
// per group, so a decode batch of up to kCols rows reads the weights once.
template <class T>
void gemm(int64_t k, const void* w, size_t w_stride, int64_t m, const void* x, size_t x_stride,
          int64_t n, float* y, int64_t ldy) {
  const int64_t n_blocks = k / kQK_K;
  const auto* w_bytes = static_cast<const uint8_t*>(w);
  const auto* x_bytes = static_cast<const uint8_t*>(x);
  for (int64_t j0 = 0; j0 < n; j0 += kCols) {
    const int cols = static_cast<int>(std::min<int64_t>(kCols, n - j0));
    const Scratch s = scratch(static_cast<size_t>(n_blocks * cols));
    for (int c = 0; c < cols; ++c) {
      const auto* row = reinterpret_cast<const BlockQ8_K*>(x_bytes + (j0 + c) * x_stride);
      for (int64_t b = 0; b < n_blocks; ++b) T::arrange(row[b], s.x[b * cols + c]);
    }
    const int64_t chunk = std::clamp<int64_t>(
        static_cast<int64_t>(kActivationBudget / (sizeof(ActivationBlock) * cols)), 1, n_blocks);
    for (int64_t i0 = 0; i0 < m; i0 += kRows) {
      const int rows = static_cast<int>(std::min<int64_t>(kRows, m - i0));
      for (int e = 0; e < rows * cols; ++e) s.acc[e] = _mm512_setzero_ps();
      for (int64_t b0 = 0; b0 < n_blocks; b0 += chunk) {
        const int64_t blocks = std::min(chunk, n_blocks - b0);
        for (int r = 0; r < rows; ++r) {
          const auto* w_row =
              reinterpret_cast<const typename T::Block*>(w_bytes + (i0 + r) * w_stride) + b0;
          dot_rows_any<T>(cols, blocks, w_row, s.x + b0 * cols, s.acc + r * cols);
        }
      }
      for (int r = 0; r < rows; ++r) {
        for (int c = 0; c < cols; ++c) {
          y[(j0 + c) * ldy + i0 + r] = _mm512_reduce_add_ps(s.acc[r * cols + c]);
        }
      }
    }
  }
}

// ---- Unpacking helpers -------------------------------------------------------------------

// 32 bytes at p in both halves of a zmm: the two halves then take different bit fields.
inline __m512i broadcast_32_bytes(const uint8_t* p) {
  return _mm512_broadcast_i64x4(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
}

// Shift counts per 64-bit lane: `low` for the lower 256 bits, `high` for the upper.
inline __m512i per_half(int64_t low, int64_t high) {
  return _mm512_set_epi64(high, high, high, high, low, low, low, low);
}

// Moves bit `from` of every byte to bit `to` of the same byte (other bits: garbage). A 64-bit
// rotation brings bit 8i + from to 8i + to for every byte i at once, since |to - from| < 8;
// `from` may differ between the halves (two fields of one broadcast).
inline __m512i move_bits(__m512i v, int from_low, int from_high, int to) {
  return _mm512_rolv_epi64(v, per_half((to - from_low) & 63, (to - from_high) & 63));
}

// (a & mask) | b in one instruction (vpternlog truth table 0xEA).
inline __m512i and_or(__m512i a, __m512i mask, __m512i b) {
  return _mm512_ternarylogic_epi32(a, mask, b, 0xEA);
}

// vpermw indexes that spread 16-bit scales over maddubs lanes: lane l of vector v covers
// elements 64v + 2l and 64v + 2l + 1, which lie in sub-block (64v + 2l) / kSub.
template <int kSub>
struct ScaleIndex {
  alignas(64) int16_t lanes[4][32];
  constexpr ScaleIndex() : lanes{} {
    for (int v = 0; v < 4; ++v) {
      for (int l = 0; l < 32; ++l) lanes[v][l] = static_cast<int16_t>((64 * v + 2 * l) / kSub);
    }
  }
};
template <int kSub>
constexpr ScaleIndex<kSub> kScaleIndex{};

// scales[v] for sub-blocks of kSub elements, from the 16-bit scales in lanes 0-15 of s.
template <int kSub>
inline void expand_scales(__m512i s, __m512i* scales /*[4]*/) {
#pragma GCC unroll 4
  for (int v = 0; v < 4; ++v) {
    scales[v] = _mm512_permutexvar_epi16(_mm512_load_si512(kScaleIndex<kSub>.lanes[v]), s);
  }
}

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

// The f16 scale as f32, broadcast.
inline __m512 broadcast_f16(uint16_t h) { return _mm512_set1_ps(_cvtsh_ss(h)); }

// ---- Dequantization ------------------------------------------------------------------------

// Keeps the compiler from fusing a product into the following subtraction: GCC contracts
// a * b - c into one FMA under -ffp-contract=fast (its default for C++), which would round
// differently from the scalar reference that dequantize must match bit for bit.
inline __m512 unfused(__m512 v) {
  __asm__("" : "+v"(v));
  return v;
}

// y = dl * q - ml for 16 unsigned codes u = q + kOffset, with dl and ml the group's d * scale
// and dmin * min computed as the reference does. Types without mins pass ml = 0: x - 0 is x.
template <int kOffset>
inline void dequantize_16(__m128i codes, float dl, float ml, float* y) {
  __m512i q = _mm512_cvtepu8_epi32(codes);
  if constexpr (kOffset != 0) q = _mm512_sub_epi32(q, _mm512_set1_epi32(kOffset));
  const __m512 product = unfused(_mm512_mul_ps(_mm512_set1_ps(dl), _mm512_cvtepi32_ps(q)));
  _mm512_storeu_ps(y, _mm512_sub_ps(product, _mm512_set1_ps(ml)));
}

// The DequantizeRowFn of weight type T, which supplies codes_in_order (the unsigned codes in
// element order), group_scales (d * scale and dmin * min per 16 elements) and its code offset.
template <class T>
void dequantize(const void* src, float* dst, int64_t n) {
  const auto* blocks = static_cast<const typename T::Block*>(src);
  for (int64_t b = 0; b < n / kQK_K; ++b) {
    __m512i codes[4];
    T::codes_in_order(blocks[b], codes);
    float dl[16], ml[16];
    T::group_scales(blocks[b], dl, ml);
    float* y = dst + b * kQK_K;
    for (int v = 0; v < 4; ++v) {
      const int g = 4 * v;
      dequantize_16<T::kOffset>(_mm512_extracti32x4_epi32(codes[v], 0), dl[g], ml[g], y + 16 * g);
      dequantize_16<T::kOffset>(_mm512_extracti32x4_epi32(codes[v], 1), dl[g + 1], ml[g + 1],
                                y + 16 * (g + 1));
      dequantize_16<T::kOffset>(_mm512_extracti32x4_epi32(codes[v], 2), dl[g + 2], ml[g + 2],
                                y + 16 * (g + 2));
      dequantize_16<T::kOffset>(_mm512_extracti32x4_epi32(codes[v], 3), dl[g + 3], ml[g + 3],
                                y + 16 * (g + 3));
    }
  }
}

}  // namespace
}  // namespace corral::kernels

#pragma GCC pop_options
