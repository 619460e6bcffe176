// AVX-512 dequantize for Q4_K and Q5_K weights (their gemm is in q4_k_q5_k_gemm.cc).
// Super-blocks of 256 as 8 sub-blocks of 32, x = d * sc * q - dmin * m with 6-bit sc, m and
// 4-bit (Q4_K) or 5-bit (Q5_K: 5th bit in qh) codes. The driver is in kquant_dequantize.h.
#include "kernels/x86/avx512/kquant_dequantize.h"  // first: it includes <immintrin.h>

#include <immintrin.h>

#include <cstdint>

#include "kernels/x86/kquant_common.h"
#include "tensor/blocks.h"

#pragma GCC push_options
#pragma GCC target("avx512f,avx512bw,avx512vl,avx512dq,avx512vnni,avx2,fma,f16c,bmi2")

namespace corral::kernels {
namespace {

// Codes in element order (for dequantize): vector v is the low nibbles of qs[32v..32v+31]
// then their high nibbles, one broadcast shifted by 0 in the lower half and 4 in the upper.
inline __m512i nibbles_in_order(const uint8_t* qs, int v) {
  const __m512i q = _mm512_srlv_epi64(broadcast_32_bytes(qs + 32 * v), per_half(0, 4));
  return _mm512_and_si512(q, _mm512_set1_epi8(0x0F));
}

// Per 16 elements: d * sc and dmin * m, as the reference computes them.
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
  static constexpr int kOffset = 0;
  static void codes_in_order(const Block& b, __m512i* codes) {
#pragma GCC unroll 4
    for (int v = 0; v < 4; ++v) codes[v] = nibbles_in_order(b.qs, v);
  }
  static void group_scales(const Block& b, float* dl, float* ml) { k4_group_scales(b, dl, ml); }
};

// Element e's 5th bit is bit e / 32 of qh[e % 32].
struct Q5K {
  using Block = BlockQ5_K;
  static constexpr int kOffset = 0;
  static void codes_in_order(const Block& b, __m512i* codes) {
    // Vector v's halves take bits 2v and 2v + 1 of qh[0..31].
    const __m512i qh = broadcast_32_bytes(b.qh);
#pragma GCC unroll 4
    for (int v = 0; v < 4; ++v) {
      codes[v] = and_or(move_bits(qh, 2 * v, 2 * v + 1, 4), _mm512_set1_epi8(0x10), nibbles_in_order(b.qs, v));
    }
  }
  static void group_scales(const Block& b, float* dl, float* ml) { k4_group_scales(b, dl, ml); }
};

}  // namespace

void register_avx512_q4_k_q5_k(KernelTable& t) {
  constexpr auto q4_k = static_cast<uint32_t>(DType::kQ4_K);
  constexpr auto q5_k = static_cast<uint32_t>(DType::kQ5_K);
  t.dequantize_row[q4_k] = dequantize<Q4K>;
  t.dequantize_row[q5_k] = dequantize<Q5K>;
}

}  // namespace corral::kernels

#pragma GCC pop_options
