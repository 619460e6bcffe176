// AVX-512 dequantize for Q2_K and Q3_K weights (their gemm is in q2_k_q3_k_gemm.cc). Both are
// super-blocks of 256 as 16 sub-blocks of 16 with 2-bit fields in qs (element e at bit
// 2 * ((e % 128) / 32) of byte (e / 128) * 32 + e % 32):
//   Q2_K: x = d * sc * q - dmin * m, codes 0..3, 4-bit sc (low nibble) and m (high nibble);
//   Q3_K: x = d * sc * q, q in [-4, 3] = low 2 bits + 4 * (hmask bit) - 4, 6-bit signed sc.
// The driver is in kquant_dequantize.h.
#include "kernels/x86/avx512/kquant_dequantize.h"  // first: it includes <immintrin.h>

#include <immintrin.h>

#include <cstdint>

#include "kernels/x86/kquant_common.h"
#include "tensor/blocks.h"

#pragma GCC push_options
#pragma GCC target("avx512f,avx512bw,avx512vl,avx512dq,avx512vnni,avx2,fma,f16c,bmi2")

namespace corral::kernels {
namespace {

// The low 2 bits of vector v (elements 64v..64v+63): bytes qs[32(v/2) .. + 31] at bits
// 4(v % 2) (first 32 elements) and 4(v % 2) + 2 (next 32).
inline __m512i crumbs_in_order(const uint8_t* qs, int v) {
  const int shift = 4 * (v % 2);
  const __m512i q = _mm512_srlv_epi64(broadcast_32_bytes(qs + 32 * (v / 2)), per_half(shift, shift + 2));
  return _mm512_and_si512(q, _mm512_set1_epi8(0x03));
}

struct Q2K {
  using Block = BlockQ2_K;
  static constexpr int kOffset = 0;

  static void codes_in_order(const Block& b, __m512i* codes) {
#pragma GCC unroll 4
    for (int v = 0; v < 4; ++v) codes[v] = crumbs_in_order(b.qs, v);
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
  static constexpr int kOffset = 4;  // unsigned code u = low + 4 * high bit = q + 4

  // The high bit of element e is bit e / 32 of hmask[e % 32]: bits 2v and 2v + 1 for vector
  // v's halves, moved to bit 2.
  static void codes_in_order(const Block& b, __m512i* codes) {
    const __m512i hmask = broadcast_32_bytes(b.hmask);
#pragma GCC unroll 4
    for (int v = 0; v < 4; ++v) {
      codes[v] = and_or(move_bits(hmask, 2 * v, 2 * v + 1, 2), _mm512_set1_epi8(0x04), crumbs_in_order(b.qs, v));
    }
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

void register_avx512_q2_k_q3_k(KernelTable& t) {
  constexpr auto q2_k = static_cast<uint32_t>(DType::kQ2_K);
  constexpr auto q3_k = static_cast<uint32_t>(DType::kQ3_K);
  t.dequantize_row[q2_k] = dequantize<Q2K>;
  t.dequantize_row[q3_k] = dequantize<Q3K>;
}

}  // namespace corral::kernels

#pragma GCC pop_options
