// AVX2 kernels for Q6_K weights: gemm with Q8_K activations, and dequantize. Super-blocks of
// 256 as 16 sub-blocks of 16, x = d * sc * q with signed 8-bit sc and 6-bit codes q in
// [-32, 31] stored + 32 (4 low bits in ql, 2 high bits in qh). The engine is in
// kquant_engine.h; the + 32 is taken back through the activations' bsums:
// sum(sc * (u - 32) * x) = sum(sc * u * x) - 32 * sum over sub-blocks of sc * bsum.
#include <immintrin.h>

#include <cstdint>

#include "kernels/x86/avx2/kquant_engine.h"
#include "kernels/x86/kquant_common.h"
#include "tensor/blocks.h"

#pragma GCC push_options
#pragma GCC target("avx2,fma,f16c,bmi2")

namespace corral::kernels {
namespace {

struct Q6K {
  using Block = BlockQ6_K;
  static constexpr bool kPairedSums = false;
  static constexpr int kOffset = 32;

  // Vector v = 4h + i holds elements 128h + 32i .. + 31: low 4 bits in nibble i / 2 of
  // ql[64h + 32(i % 2) .. + 31], high 2 bits at bit 2i of qh[32h .. + 31], moved to bits 4-5.
  static void codes_in_order(const Block& b, __m256i* codes) {
    const __m256i nibble = _mm256_set1_epi8(0x0F), high_bits = _mm256_set1_epi8(0x30);
#pragma GCC unroll 2
    for (int h = 0; h < 2; ++h) {
      const __m256i ql0 = load_32_bytes(b.ql + 64 * h), ql1 = load_32_bytes(b.ql + 64 * h + 32);
      const __m256i qh = load_32_bytes(b.qh + 32 * h);
      const __m256i low[4] = {_mm256_and_si256(ql0, nibble), _mm256_and_si256(ql1, nibble),
                              _mm256_and_si256(_mm256_srli_epi16(ql0, 4), nibble),
                              _mm256_and_si256(_mm256_srli_epi16(ql1, 4), nibble)};
#pragma GCC unroll 4
      for (int i = 0; i < 4; ++i) {
        const __m256i high = _mm256_and_si256(move_bits(qh, 2 * i, 4), high_bits);
        codes[4 * h + i] = _mm256_or_si256(low[i], high);
      }
    }
  }

  static void unpack(const Block& b, WeightBlock& wb) {
    codes_in_order(b, wb.codes);
    const __m128i sc = _mm_loadu_si128(reinterpret_cast<const __m128i*>(b.scales));
    expand_scales_16<true>(broadcast_16_bytes(sc), wb.scales);
    const float d = _cvtsh_ss(b.d);
    const __m256 coefficient = _mm256_set1_ps(-static_cast<float>(kOffset) * d);
    wb.bias[0] = _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(sc)), coefficient);
    wb.bias[1] = _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_srli_si128(sc, 8))), coefficient);
    wb.d = _mm256_set1_ps(d);
  }

  static void group_scales(const Block& b, float* dl, float* ml) {
    const float d = _cvtsh_ss(b.d);
    for (int g = 0; g < 16; ++g) {
      dl[g] = d * static_cast<float>(b.scales[g]);
      ml[g] = 0.0f;
    }
  }
};

}  // namespace

void register_avx2_q6_k(KernelTable& t) {
  constexpr auto q6_k = static_cast<uint32_t>(DType::kQ6_K);
  t.gemm[q6_k] = gemm<Q6K>;
  t.dequantize_row[q6_k] = dequantize<Q6K>;
}

}  // namespace corral::kernels

#pragma GCC pop_options
