// AVX-512 dequantize for Q6_K weights (the gemm is in q6_k_gemm.cc). Super-blocks of 256 as
// 16 sub-blocks of 16, x = d * sc * q with signed 8-bit sc and 6-bit codes q in [-32, 31]
// stored + 32: 4 low bits in ql, 2 high bits in qh. The driver is in kquant_dequantize.h.
#include "kernels/x86/avx512/kquant_dequantize.h"  // first: it includes <immintrin.h>

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
      codes[2 * h + 1] = and_or(move_bits(qh, 4, 6, 4), high_bits, _mm512_and_si512(_mm512_srli_epi16(ql, 4), nibble));
    }
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
  t.dequantize_row[q6_k] = dequantize<Q6K>;
}

}  // namespace corral::kernels

#pragma GCC pop_options
