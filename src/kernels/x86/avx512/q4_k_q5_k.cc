// AVX-512 VNNI kernels for Q4_K and Q5_K weights: Q5_K gemm with Q8_K activations, and
// dequantize of both (Q4_K's gemm is in q4_k_gemm.cc). Super-blocks of 256 as 8 sub-blocks of
// 32, x = d * sc * q - dmin * m with 6-bit sc, m and 4-bit (Q4_K) or 5-bit (Q5_K: 5th bit in
// qh) codes. The engine is in kquant_engine.h.
//
// The integer dot product uses vpdpbusd (4 products per 32-bit lane, one instruction per 64
// codes) and applies the sub-block scales once per 8 products per lane rather than per pair:
// the codes are arranged so that every 32-bit lane of two vectors belongs to one sub-block,
// two vpdpbusd fill a lane with 8 products, whose sum fits in 16 bits (|sum| <= 8 * 31 * 128 <
// 2^15), and one vpmaddwd / vpdpwssd with the scale in the low half of each lane (0 in the
// high half, which only holds the sum's sign bits) scales and accumulates it. That is 6 integer
// instructions per 256 codes instead of 8 with vpmaddubsw + vpdpwssd.
//
// The arrangement: qs is 8 chunks of 16 bytes; chunk c's low nibbles are elements 64(c/2) +
// 16(c%2) + 0..15 (sub-block 2(c/2)) and its high nibbles the 16 elements 32 further (sub-block
// 2(c/2) + 1). Vectors of the even chunks (0 2 4 6) and of the odd chunks (1 3 5 7) then have
// sub-blocks 0 2 4 6 in their four 128-bit blocks for low nibbles, 1 3 5 7 for high nibbles.
// The matching activations are a 4x4 transpose of the 128-bit blocks of the Q8_K codes, done
// once per activation row in arrange().
#include "kernels/x86/avx512/kquant_engine.h"  // first: it includes <immintrin.h>

#include <immintrin.h>

#include <cstdint>

#include "kernels/x86/kquant_common.h"
#include "tensor/blocks.h"

#pragma GCC push_options
#pragma GCC target("avx512f,avx512bw,avx512vl,avx512dq,avx512vnni,avx2,fma,f16c,bmi2")

namespace corral::kernels {
namespace {

// Scales (for isum), mins (as bias) and d of a Q4_K or Q5_K super-block.
template <class Block>
inline void unpack_header(const Block& b, WeightBlock& wb) {
  const kquant::K4Scales s = kquant::unpack_k4_scales(b.scales);
  // bytes 0-7: scales, 8-15: mins
  const __m128i bytes =
      _mm_set_epi64x(static_cast<int64_t>(s.mins), static_cast<int64_t>(s.scales));
  // 32-bit lanes with the scale in the low half; block u of scales[0] holds sub-block 2u's,
  // of scales[1] sub-block 2u + 1's (see the arrangement above).
  const __m512i scales = _mm512_cvtepu8_epi32(bytes);
  wb.scales[0] = _mm512_permutexvar_epi32(
      _mm512_set_epi32(6, 6, 6, 6, 4, 4, 4, 4, 2, 2, 2, 2, 0, 0, 0, 0), scales);
  wb.scales[1] = _mm512_permutexvar_epi32(
      _mm512_set_epi32(7, 7, 7, 7, 5, 5, 5, 5, 3, 3, 3, 3, 1, 1, 1, 1), scales);
  // The mins meet the activations through their bsums: -dmin * m[s] per pair of bsums. The
  // shift leaves lanes 8-15 zero, matching the zero upper lanes of paired activation sums.
  const __m512 mins = _mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(_mm_srli_si128(bytes, 8)));
  wb.bias = _mm512_mul_ps(mins, _mm512_set1_ps(-_cvtsh_ss(b.dmin)));
  wb.d = broadcast_f16(b.d);
}

// codes[0], codes[1]: low nibbles of the even / odd chunks; codes[2], codes[3]: high nibbles.
inline void unpack_nibbles(const uint8_t* qs, __m512i* codes) {
  const __m512i first = _mm512_loadu_si512(qs), second = _mm512_loadu_si512(qs + 64);
  const __m512i even = _mm512_shuffle_i64x2(first, second, _MM_SHUFFLE(2, 0, 2, 0));
  const __m512i odd = _mm512_shuffle_i64x2(first, second, _MM_SHUFFLE(3, 1, 3, 1));
  const __m512i mask = _mm512_set1_epi8(0x0F);
  codes[0] = _mm512_and_si512(even, mask);
  codes[1] = _mm512_and_si512(odd, mask);
  codes[2] = _mm512_and_si512(_mm512_srli_epi16(even, 4), mask);
  codes[3] = _mm512_and_si512(_mm512_srli_epi16(odd, 4), mask);
}

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

// What Q4_K and Q5_K share: activations, the integer dot, dequantization's scales.
struct K4Common {
  static constexpr int kOffset = 0;
  static void arrange(const BlockQ8_K& x, ActivationBlock& a) {
    arrange_in_order<true>(x, a);
    const __m512i in_order[4] = {a.q[0], a.q[1], a.q[2], a.q[3]};
    transpose_blocks(in_order, a.q);
  }
  static __m512i isum(const WeightBlock& w, const ActivationBlock& a) {
    const __m512i zero = _mm512_setzero_si512();
    const __m512i low = _mm512_dpbusd_epi32(_mm512_dpbusd_epi32(zero, w.codes[0], a.q[0]),
                                            w.codes[1], a.q[1]);
    const __m512i high = _mm512_dpbusd_epi32(_mm512_dpbusd_epi32(zero, w.codes[2], a.q[2]),
                                             w.codes[3], a.q[3]);
    return _mm512_dpwssd_epi32(_mm512_madd_epi16(low, w.scales[0]), high, w.scales[1]);
  }
};

// Q4_K's gemm is in q4_k_gemm.cc (16 rows in the lanes); this serves its dequantize.
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
struct Q5K : K4Common {
  using Block = BlockQ5_K;
  static void unpack(const Block& b, WeightBlock& wb) {
    unpack_header(b, wb);
    unpack_nibbles(b.qs, wb.codes);
    // Block u of codes[0] is elements 64u + 0..15: bit 2u of qh[0..15]; codes[1]: 64u + 16..31,
    // bit 2u of qh[16..31]; codes[2] and codes[3] take bit 2u + 1 of the same bytes. Each bit
    // goes to bit 4 by a rotation that differs per block.
    const __m512i first = _mm512_broadcast_i32x4(_mm_loadu_si128(reinterpret_cast<const __m128i*>(b.qh)));
    const __m512i second =
        _mm512_broadcast_i32x4(_mm_loadu_si128(reinterpret_cast<const __m128i*>(b.qh + 16)));
    const __m512i from_even = _mm512_set_epi64(62, 62, 0, 0, 2, 2, 4, 4);  // 4 - 2u mod 64
    const __m512i from_odd = _mm512_set_epi64(61, 61, 63, 63, 1, 1, 3, 3);  // 3 - 2u mod 64
    const __m512i bit4 = _mm512_set1_epi8(0x10);
    wb.codes[0] = and_or(_mm512_rolv_epi64(first, from_even), bit4, wb.codes[0]);
    wb.codes[1] = and_or(_mm512_rolv_epi64(second, from_even), bit4, wb.codes[1]);
    wb.codes[2] = and_or(_mm512_rolv_epi64(first, from_odd), bit4, wb.codes[2]);
    wb.codes[3] = and_or(_mm512_rolv_epi64(second, from_odd), bit4, wb.codes[3]);
  }
  static void codes_in_order(const Block& b, __m512i* codes) {
    // Vector v's halves take bits 2v and 2v + 1 of qh[0..31].
    const __m512i qh = broadcast_32_bytes(b.qh);
#pragma GCC unroll 4
    for (int v = 0; v < 4; ++v) {
      codes[v] = and_or(move_bits(qh, 2 * v, 2 * v + 1, 4), _mm512_set1_epi8(0x10),
                        nibbles_in_order(b.qs, v));
    }
  }
  static void group_scales(const Block& b, float* dl, float* ml) { k4_group_scales(b, dl, ml); }
};

}  // namespace

void register_avx512_q4_k_q5_k(KernelTable& t) {
  constexpr auto q4_k = static_cast<uint32_t>(DType::kQ4_K);
  constexpr auto q5_k = static_cast<uint32_t>(DType::kQ5_K);
  t.dequantize_row[q4_k] = dequantize<Q4K>;
  t.gemm[q5_k] = gemm<Q5K>;
  t.dequantize_row[q5_k] = dequantize<Q5K>;
}

}  // namespace corral::kernels

#pragma GCC pop_options
