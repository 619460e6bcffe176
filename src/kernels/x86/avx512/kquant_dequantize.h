// Internal: the AVX-512 dequantize driver of the K-quants (q2_k_q3_k.cc, q4_k_q5_k.cc,
// q6_k.cc) and the bit-field helpers their unpacking shares. Each type supplies its codes in
// element order and its per-16-element scales; dequantize<T> matches the scalar reference bit
// for bit. (Their gemm kernels are in *_gemm.cc, on rows16_engine.h.)
//
// Everything here has internal linkage and is compiled for AVX-512 by its own target pragma,
// so no inline function or template instance can leak into code that runs on other CPUs.
#pragma once

// GCC 12's AVX-512 intrinsics seed masked builtins with a self-initialised "undefined" vector,
// which -W(maybe-)uninitialized reports once they are inlined (GCC bug 105593, fixed in GCC 13).
// The warning is attributed to lines of the intrinsic headers, so it is silenced for those
// lines only. Files using these helpers include this header before <immintrin.h>.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#include <immintrin.h>
#pragma GCC diagnostic pop

#include <cstdint>

#include "tensor/blocks.h"

#pragma GCC push_options
#pragma GCC target("avx512f,avx512bw,avx512vl,avx512dq,avx512vnni,avx2,fma,f16c,bmi2")

namespace corral::kernels {
namespace {

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
inline __m512i and_or(__m512i a, __m512i mask, __m512i b) { return _mm512_ternarylogic_epi32(a, mask, b, 0xEA); }

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
      dequantize_16<T::kOffset>(_mm512_extracti32x4_epi32(codes[v], 1), dl[g + 1], ml[g + 1], y + 16 * (g + 1));
      dequantize_16<T::kOffset>(_mm512_extracti32x4_epi32(codes[v], 2), dl[g + 2], ml[g + 2], y + 16 * (g + 2));
      dequantize_16<T::kOffset>(_mm512_extracti32x4_epi32(codes[v], 3), dl[g + 3], ml[g + 3], y + 16 * (g + 3));
    }
  }
}

}  // namespace
}  // namespace corral::kernels

#pragma GCC pop_options
