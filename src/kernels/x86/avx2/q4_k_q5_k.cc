// AVX2 kernels for Q4_K and Q5_K weights: gemm with Q8_K activations, and dequantize.
// Super-blocks of 256 as 8 sub-blocks of 32, x = d * sc * q - dmin * m with 6-bit sc, m and
// 4-bit (Q4_K) or 5-bit (Q5_K: 5th bit in qh) codes. The engine is in kquant_engine.h; here a
// code vector (32 elements) is exactly one sub-block, so its scale is the same in every lane.
#include <immintrin.h>

#include <cstdint>

#include "kernels/x86/avx2/kquant_engine.h"
#include "kernels/x86/kquant_common.h"
#include "tensor/blocks.h"

#pragma GCC push_options
#pragma GCC target("avx2,fma,f16c,bmi2")

namespace corral::kernels {
namespace {

// Codes in element order: vector v is nibble v % 2 of qs[32(v/2) .. + 31].
inline void unpack_nibbles(const uint8_t* qs, __m256i* codes) {
  const __m256i mask = _mm256_set1_epi8(0x0F);
#pragma GCC unroll 4
  for (int h = 0; h < 4; ++h) {
    const __m256i q = load_32_bytes(qs + 32 * h);
    codes[2 * h] = _mm256_and_si256(q, mask);
    codes[2 * h + 1] = _mm256_and_si256(_mm256_srli_epi16(q, 4), mask);
  }
}

// Scales (one per vector, in all its int16 lanes), mins (as bias) and d.
template <class Block>
inline void unpack_header(const Block& b, WeightBlock& wb) {
  const kquant::K4Scales s = kquant::unpack_k4_scales(b.scales);
  const __m128i bytes = _mm_set_epi64x(static_cast<int64_t>(s.mins), static_cast<int64_t>(s.scales));
  const __m256i both = broadcast_16_bytes(bytes);
#pragma GCC unroll 8
  for (int v = 0; v < 8; ++v) {
    // vpshufb control: byte v into the low byte of every lane, 0x80 zeroes the high byte.
    wb.scales[v] = _mm256_shuffle_epi8(both, _mm256_set1_epi16(static_cast<int16_t>(0x8000 | v)));
  }
  // -dmin * m[s] per sum of two bsums.
  const __m256 mins = _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_srli_si128(bytes, 8)));
  wb.bias[0] = _mm256_mul_ps(mins, _mm256_set1_ps(-_cvtsh_ss(b.dmin)));
  wb.bias[1] = _mm256_setzero_ps();
  wb.d = broadcast_f16(b.d);
}

template <class Block>
inline void k4_group_scales(const Block& b, float* dl, float* ml) {
  const kquant::K4Scales s = kquant::unpack_k4_scales(b.scales);
  const float d = _cvtsh_ss(b.d), dmin = _cvtsh_ss(b.dmin);
  for (int g = 0; g < 16; ++g) {
    dl[g] = d * static_cast<float>((s.scales >> (8 * (g / 2))) & 0xFF);
    ml[g] = dmin * static_cast<float>((s.mins >> (8 * (g / 2))) & 0xFF);
  }
}

struct Q4K {
  using Block = BlockQ4_K;
  static constexpr bool kPairedSums = true;  // sub-blocks of 32
  static constexpr int kOffset = 0;
  static void codes_in_order(const Block& b, __m256i* codes) { unpack_nibbles(b.qs, codes); }
  static void unpack(const Block& b, WeightBlock& wb) {
    unpack_header(b, wb);
    unpack_nibbles(b.qs, wb.codes);
  }
  static void group_scales(const Block& b, float* dl, float* ml) { k4_group_scales(b, dl, ml); }
};

struct Q5K {
  using Block = BlockQ5_K;
  static constexpr bool kPairedSums = true;
  static constexpr int kOffset = 0;
  // Element e's 5th bit is bit e / 32 of qh[e % 32]: bit v for vector v, moved to bit 4.
  static void codes_in_order(const Block& b, __m256i* codes) {
    unpack_nibbles(b.qs, codes);
    const __m256i qh = load_32_bytes(b.qh), bit4 = _mm256_set1_epi8(0x10);
#pragma GCC unroll 8
    for (int v = 0; v < 8; ++v) { codes[v] = _mm256_or_si256(codes[v], _mm256_and_si256(move_bits(qh, v, 4), bit4)); }
  }
  static void unpack(const Block& b, WeightBlock& wb) {
    unpack_header(b, wb);
    codes_in_order(b, wb.codes);
  }
  static void group_scales(const Block& b, float* dl, float* ml) { k4_group_scales(b, dl, ml); }
};

}  // namespace

void register_avx2_q4_k_q5_k(KernelTable& t) {
  constexpr auto q4_k = static_cast<uint32_t>(DType::kQ4_K);
  constexpr auto q5_k = static_cast<uint32_t>(DType::kQ5_K);
  t.gemm[q4_k] = gemm<Q4K>;
  t.dequantize_row[q4_k] = dequantize<Q4K>;
  t.gemm[q5_k] = gemm<Q5K>;
  t.dequantize_row[q5_k] = dequantize<Q5K>;
}

}  // namespace corral::kernels

#pragma GCC pop_options
