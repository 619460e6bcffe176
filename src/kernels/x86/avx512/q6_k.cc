// AVX-512 VNNI kernels for Q6_K weights: gemm with Q8_K activations, and dequantize.
// Super-blocks of 256 as 16 sub-blocks of 16, x = d * sc * q with signed 8-bit sc and 6-bit
// codes q in [-32, 31] stored + 32: 4 low bits in ql, 2 high bits in qh. The engine is in
// kquant_engine.h; codes stay in element order (isum_in_order), the + 32 of the stored codes
// being taken back through the activations' bsums: sum(sc * (u - 32) * x) =
// sum(sc * u * x) - 32 * sum over sub-blocks of sc * bsum.
#include "kernels/x86/avx512/kquant_engine.h"  // first: it includes <immintrin.h>

#include <immintrin.h>

#include <cstdint>

#include "kernels/x86/kquant_common.h"
#include "tensor/blocks.h"

#pragma GCC push_options
#pragma GCC target("avx512f,avx512bw,avx512vl,avx512dq,avx512vnni,avx2,fma,f16c,bmi2")

namespace corral::kernels {
namespace {

struct Q6K {
  using Block = BlockQ6_K;
  static constexpr int kOffset = 32;

  // Vector v holds elements 64v..64v+63. Their low 4 bits are nibble v % 2 of ql[64(v/2) ..
  // + 63], in order; their high 2 bits are in qh[32(v/2) .. + 31] at bits 4(v % 2) (first 32
  // elements) and 4(v % 2) + 2 (next 32), moved to bits 4-5.
  static void codes_in_order(const Block& b, __m512i* codes) {
    const __m512i nibble = _mm512_set1_epi8(0x0F), high_bits = _mm512_set1_epi8(0x30);
#pragma GCC unroll 2
    for (int h = 0; h < 2; ++h) {
      const __m512i ql = _mm512_loadu_si512(b.ql + 64 * h);
      const __m512i qh = broadcast_32_bytes(b.qh + 32 * h);
      codes[2 * h] = and_or(move_bits(qh, 0, 2, 4), high_bits, _mm512_and_si512(ql, nibble));
      codes[2 * h + 1] = and_or(move_bits(qh, 4, 6, 4), high_bits,
                                _mm512_and_si512(_mm512_srli_epi16(ql, 4), nibble));
    }
  }

  static void unpack(const Block& b, WeightBlock& wb) {
    codes_in_order(b, wb.codes);
    const __m128i sc = _mm_loadu_si128(reinterpret_cast<const __m128i*>(b.scales));
    expand_scales<16>(_mm512_castsi256_si512(_mm256_cvtepi8_epi16(sc)), wb.scales);
    const float d = _cvtsh_ss(b.d);
    wb.bias = _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(sc)),
                            _mm512_set1_ps(-static_cast<float>(kOffset) * d));
    wb.d = _mm512_set1_ps(d);
  }

  static void arrange(const BlockQ8_K& x, ActivationBlock& a) { arrange_in_order<false>(x, a); }
  static __m512i isum(const WeightBlock& w, const ActivationBlock& a) {
    return isum_in_order(w, a);
  }

  // Per 16 elements: d * sc as the reference computes it; no mins.
  static void group_scales(const Block& b, float* dl, float* ml) {
    const float d = _cvtsh_ss(b.d);
    for (int g = 0; g < 16; ++g) {
      dl[g] = d * static_cast<float>(b.scales[g]);
      ml[g] = 0.0f;
    }
  }
};

}  // namespace

void register_avx512_q6_k(KernelTable& t) {
  constexpr auto q6_k = static_cast<uint32_t>(DType::kQ6_K);
  t.gemm[q6_k] = gemm<Q6K>;
  t.dequantize_row[q6_k] = dequantize<Q6K>;
}

}  // namespace corral::kernels

#pragma GCC pop_options
