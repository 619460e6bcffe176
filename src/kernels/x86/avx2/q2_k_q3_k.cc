// AVX2 kernels for Q2_K and Q3_K weights: gemm with Q8_K activations, and dequantize. Both are
// super-blocks of 256 as 16 sub-blocks of 16 with 2-bit fields in qs (element e at bit
// 2 * ((e % 128) / 32) of byte (e / 128) * 32 + e % 32):
//   Q2_K: x = d * sc * q - dmin * m, codes 0..3, 4-bit sc (low nibble) and m (high nibble);
//   Q3_K: x = d * sc * q, q in [-4, 3] = low 2 bits + 4 * (hmask bit) - 4, 6-bit signed sc.
// The engine is in kquant_engine.h. Q2_K's mins and Q3_K's code offset (-4) meet the
// activations through their bsums.
#include <immintrin.h>

#include <cstdint>

#include "kernels/x86/avx2/kquant_engine.h"
#include "kernels/x86/kquant_common.h"
#include "tensor/blocks.h"

#pragma GCC push_options
#pragma GCC target("avx2,fma,f16c,bmi2")

namespace corral::kernels {
namespace {

// The low 2 bits in element order: vector v is bits 2(v % 4) of qs[32(v / 4) .. + 31].
inline void unpack_crumbs(const uint8_t* qs, __m256i* codes) {
  const __m256i mask = _mm256_set1_epi8(0x03);
#pragma GCC unroll 2
  for (int h = 0; h < 2; ++h) {
    const __m256i q = load_32_bytes(qs + 32 * h);
    codes[4 * h] = _mm256_and_si256(q, mask);
    codes[4 * h + 1] = _mm256_and_si256(_mm256_srli_epi16(q, 2), mask);
    codes[4 * h + 2] = _mm256_and_si256(_mm256_srli_epi16(q, 4), mask);
    codes[4 * h + 3] = _mm256_and_si256(_mm256_srli_epi16(q, 6), mask);
  }
}

// 16 coefficients times `factor`, from 16 bytes (unsigned, minus `offset`): bias[0] for
// sub-blocks 0-7, bias[1] for 8-15.
inline void bias_from_bytes(__m128i bytes, int offset, float factor, __m256* bias) {
  const __m256i off = _mm256_set1_epi32(offset);
  const __m256i low = _mm256_sub_epi32(_mm256_cvtepu8_epi32(bytes), off);
  const __m256i high = _mm256_sub_epi32(_mm256_cvtepu8_epi32(_mm_srli_si128(bytes, 8)), off);
  bias[0] = _mm256_mul_ps(_mm256_cvtepi32_ps(low), _mm256_set1_ps(factor));
  bias[1] = _mm256_mul_ps(_mm256_cvtepi32_ps(high), _mm256_set1_ps(factor));
}

struct Q2K {
  using Block = BlockQ2_K;
  static constexpr bool kPairedSums = false;
  static constexpr int kOffset = 0;

  static void codes_in_order(const Block& b, __m256i* codes) { unpack_crumbs(b.qs, codes); }

  static void unpack(const Block& b, WeightBlock& wb) {
    unpack_crumbs(b.qs, wb.codes);
    const __m128i packed = _mm_loadu_si128(reinterpret_cast<const __m128i*>(b.scales));
    const __m128i nibble = _mm_set1_epi8(0x0F);
    expand_scales_16<false>(broadcast_16_bytes(_mm_and_si128(packed, nibble)), wb.scales);
    bias_from_bytes(_mm_and_si128(_mm_srli_epi16(packed, 4), nibble), 0, -_cvtsh_ss(b.dmin), wb.bias);
    wb.d = broadcast_f16(b.d);
  }

  static void group_scales(const Block& b, float* dl, float* ml) {
    const float d = _cvtsh_ss(b.d), dmin = _cvtsh_ss(b.dmin);
    for (int g = 0; g < 16; ++g) {
      dl[g] = d * static_cast<float>(b.scales[g] & 0x0F);
      ml[g] = dmin * static_cast<float>(b.scales[g] >> 4);
    }
  }
};

struct Q3K {
  using Block = BlockQ3_K;
  static constexpr bool kPairedSums = false;
  static constexpr int kOffset = 4;  // unsigned code u = low + 4 * high bit = q + 4

  // The high bit of element e is bit e / 32 of hmask[e % 32]: bit v for vector v, to bit 2.
  static void codes_in_order(const Block& b, __m256i* codes) {
    unpack_crumbs(b.qs, codes);
    const __m256i hmask = load_32_bytes(b.hmask), bit2 = _mm256_set1_epi8(0x04);
#pragma GCC unroll 8
    for (int v = 0; v < 8; ++v) {
      codes[v] = _mm256_or_si256(codes[v], _mm256_and_si256(move_bits(hmask, v, 2), bit2));
    }
  }

  // The 16 scales as stored (scale + 32, 0..63).
  static __m128i scale_codes(const Block& b) {
    uint64_t words[2];
    kquant::unpack_q3_k_scale_codes(b.scales, words);
    return _mm_set_epi64x(static_cast<int64_t>(words[1]), static_cast<int64_t>(words[0]));
  }

  static void unpack(const Block& b, WeightBlock& wb) {
    codes_in_order(b, wb.codes);
    const __m128i codes = scale_codes(b);
    expand_scales_16<false>(broadcast_16_bytes(codes), wb.scales);
#pragma GCC unroll 8
    for (int v = 0; v < 8; ++v) wb.scales[v] = _mm256_sub_epi16(wb.scales[v], _mm256_set1_epi16(32));
    // sum(sc * (u - 4) * x) = sum(sc * u * x) - 4 * sum over sub-blocks of sc * bsum.
    const float d = _cvtsh_ss(b.d);
    bias_from_bytes(codes, 32, -static_cast<float>(kOffset) * d, wb.bias);
    wb.d = _mm256_set1_ps(d);
  }

  static void group_scales(const Block& b, float* dl, float* ml) {
    uint64_t words[2];
    kquant::unpack_q3_k_scale_codes(b.scales, words);
    const float d = _cvtsh_ss(b.d);
    for (int g = 0; g < 16; ++g) {
      const int code = static_cast<int>((words[g / 8] >> (8 * (g % 8))) & 0xFF);
      dl[g] = d * static_cast<float>(code - 32);
      ml[g] = 0.0f;
    }
  }
};

}  // namespace

void register_avx2_q2_k_q3_k(KernelTable& t) {
  constexpr auto q2_k = static_cast<uint32_t>(DType::kQ2_K);
  constexpr auto q3_k = static_cast<uint32_t>(DType::kQ3_K);
  t.gemm[q2_k] = gemm<Q2K>;
  t.dequantize_row[q2_k] = dequantize<Q2K>;
  t.gemm[q3_k] = gemm<Q3K>;
  t.dequantize_row[q3_k] = dequantize<Q3K>;
}

}  // namespace corral::kernels

#pragma GCC pop_options
