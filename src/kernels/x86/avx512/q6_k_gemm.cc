// AVX-512 VNNI gemm for Q6_K weights (the tied output matrix and some attn_v / ffn_down of
// Llama Q4_K_M files), 16 weight rows in the lanes (rows16_engine.h).
//
// Codes are stored + 32 (0..63), so a vpdpbusd lane of 4 products fits in 16 bits (|sum| <=
// 4 * 63 * 128 < 2^15) and each is scaled exactly by one vpdpwssd with the sub-block's signed
// scale in the low half of each 32-bit lane. The + 32 is taken back through the activations'
// bsums in the same integer sum: sum(sc * (u - 32) * x) = sum(sc * u * x) + sum over
// sub-blocks of (-32 * sc) * bsum, 8 more vpdpwssd on int16 pairs (|32 * sc| <= 4096). One
// conversion and FMA by d_w * d_x per super-block: about 8.7 instructions per (weight row,
// activation row, super-block), against ~12 with each row in element order (as in avx2/).
#include "kernels/x86/avx512/rows16_engine.h"  // first: it includes <immintrin.h>

#include <immintrin.h>

#include <cstddef>
#include <cstdint>

#include "kernels/x86/kquant_common.h"
#include "tensor/blocks.h"

#pragma GCC push_options
#pragma GCC target("avx512f,avx512bw,avx512vl,avx512dq,avx512vnni,avx2,fma,f16c,bmi2")

namespace corral::kernels {
namespace {

// Bits `from`, `from` + 1 of every byte at bits 4-5 of the same byte, other bits garbage
// (16-bit shifts by less than 8 keep each target bit within its byte).
inline __m512i crumb_to_bits45(__m512i v, int from) {
  if (from < 4) return _mm512_slli_epi16(v, 4 - from);
  if (from > 4) return _mm512_srli_epi16(v, from - 4);
  return v;
}

struct Q6KRows {
  using Block = BlockQ6_K;

  // One super-block of 16 rows, lane r = row r.
  struct Prepared {
    __m512i codes[64];   // [sub-block s][g]: codes (+ 32) of elements 16s + 4g .. + 3
    __m512i scales[16];  // [s]: signed scale in the low 16 bits, high 16 bits zero
    __m512i offsets[8];  // [q]: (-32 * scale) of sub-blocks 2q and 2q + 1, an int16 pair
    __m512 d;
  };

  // The activations' bsums and d are read from the Q8_K blocks themselves.
  struct Sums {};

  static void prepare(const uint8_t* const* rows, const __m512i& row_offsets, Prepared& out) {
    // ql dword i: low nibbles are elements 128(i / 16) + 4(i % 16) + 0..3, high nibbles the
    // same + 64. qh dword j: bits 2t..2t+1 are elements 128(j / 8) + 32t + 4(j % 8) + 0..3.
    __m512i ql[32], qh[16];
    rows16::load_transposed(rows, offsetof(Block, ql), 2, ql);
    rows16::load_transposed(rows, offsetof(Block, qh), 1, qh);
    const __m512i nibble = _mm512_set1_epi8(0x0F), bits45 = _mm512_set1_epi8(0x30);
#pragma GCC unroll 64
    for (int e = 0; e < 256; e += 4) {
      const int half = e / 128, within = e % 128;
      const __m512i low_word = ql[16 * half + within % 64 / 4];
      const __m512i low = _mm512_and_si512(within < 64 ? low_word : _mm512_srli_epi16(low_word, 4), nibble);
      const __m512i high = crumb_to_bits45(qh[8 * half + within % 32 / 4], 2 * (within / 32));
      out.codes[e / 4] = _mm512_ternarylogic_epi32(high, bits45, low, 0xEA);  // (h & m) | l
    }
    // Scales: four gathered words per row (int8 each), byte s moved to byte 1 of each lane and
    // shifted down with sign: a signed int16 in the low half, zero in the high half.
    const uint8_t* scales = rows[0] + offsetof(Block, scales);
    __m512i words[4];
#pragma GCC unroll 4
    for (int u = 0; u < 4; ++u) words[u] = _mm512_i32gather_epi32(row_offsets, scales + 4 * u, 1);
#pragma GCC unroll 16
    for (int s = 0; s < 16; ++s) {
      out.scales[s] = _mm512_srai_epi16(_mm512_shuffle_epi8(words[s / 4], rows16::lane_bytes(s % 4, -1, 1)), 8);
    }
#pragma GCC unroll 8
    for (int q = 0; q < 8; ++q) {
      const int first = 2 * (q % 2);
      const __m512i pair =
          _mm512_srai_epi16(_mm512_shuffle_epi8(words[q / 2], rows16::lane_bytes(first, first + 1, 1)), 8);
      out.offsets[q] = _mm512_mullo_epi16(pair, _mm512_set1_epi16(-32));
    }
    // d is the last 2 bytes of the block: gather the word ending there (the one after it may
    // be past the end of the matrix) and keep its high half.
    const __m512i d = _mm512_i32gather_epi32(row_offsets, rows[0] + offsetof(Block, d) - 2, 1);
    out.d = _mm512_cvtph_ps(_mm512_cvtepi32_epi16(_mm512_srli_epi32(d, 16)));
  }

  static void make_sums(const BlockQ8_K&, Sums&) {}

  template <int C>
  static void accumulate(const Prepared& w, const BlockQ8_K* const* x, const Sums* const*, __m512* acc) {
    constexpr int A = rows16::accumulators(C);
    __m512i isum[C][A];
#pragma GCC unroll 64
    for (int i = 0; i < 64; ++i) {  // = 4 * sub-block + g
      const __m512i codes = w.codes[i];
      const __m512i scale = w.scales[i / 4];
#pragma GCC unroll 8
      for (int c = 0; c < C; ++c) {
        const __m512i part =
            _mm512_dpbusd_epi32(_mm512_setzero_si512(), codes, rows16::broadcast_4_bytes(x[c]->qs + 4 * i));
        __m512i& sum = isum[c][i % A];
        sum = i < A ? _mm512_madd_epi16(part, scale) : _mm512_dpwssd_epi32(sum, part, scale);
      }
    }
#pragma GCC unroll 8
    for (int c = 0; c < C; ++c) {
#pragma GCC unroll 8
      for (int q = 0; q < 8; ++q) {
        __m512i& sum = isum[c][q % A];
        sum = _mm512_dpwssd_epi32(sum, w.offsets[q], rows16::broadcast_4_bytes(x[c]->bsums + 2 * q));
      }
      __m512i total = isum[c][0];
#pragma GCC unroll 3
      for (int a = 1; a < A; ++a) total = _mm512_add_epi32(total, isum[c][a]);
      acc[c] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(total), _mm512_mul_ps(w.d, _mm512_set1_ps(x[c]->d)), acc[c]);
    }
  }
};

}  // namespace

void register_avx512_q6_k_gemm(KernelTable& t) { t.gemm[static_cast<uint32_t>(DType::kQ6_K)] = rows16::gemm<Q6KRows>; }

}  // namespace corral::kernels

#pragma GCC pop_options
