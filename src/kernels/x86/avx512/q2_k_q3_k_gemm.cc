// AVX-512 VNNI gemm for Q2_K and Q3_K weights, 16 weight rows in the lanes (rows16_engine.h).
// Both have 16 sub-blocks of 16 and 2-bit fields in qs (element e at bit 2 * ((e % 128) / 32)
// of byte (e / 128) * 32 + e % 32):
//   Q2_K: x = d * sc * q - dmin * m, codes 0..3, 4-bit sc (low nibble) and m (high nibble);
//   Q3_K: x = d * sc * q, q in [-4, 3] = low 2 bits + 4 * (hmask bit) - 4, 6-bit signed sc.
// Codes are at most 7, so the 16 products of a sub-block fit in 16 bits (|sum| <= 16 * 7 *
// 128 < 2^15): four vpdpbusd and one vpdpwssd with the scale in the low half of each 32-bit
// lane per sub-block. Q2_K's mins meet the activations' bsums through 8 more vpdpwssd (scaled
// by dmin); Q3_K's code offset (stored + 4) comes back the same way inside the integer sum.
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

// Bit `from` of every byte at bit `to` of the same byte, other bits garbage (16-bit shifts by
// less than 8 keep each target bit within its byte).
inline __m512i move_bit(__m512i v, int from, int to) {
  if (from < to) return _mm512_slli_epi16(v, to - from);
  if (from > to) return _mm512_srli_epi16(v, from - to);
  return v;
}

// codes[i] = the low 2 bits of elements 4i .. 4i + 3 from transposed qs dwords: element e is
// at bits 2t of dword 8h + (e % 32) / 4, with h = e / 128 and t = (e % 128) / 32.
inline void unpack_crumbs(const __m512i* qs /*[16]*/, __m512i* codes /*[64]*/) {
  const __m512i mask = _mm512_set1_epi8(0x03);
#pragma GCC unroll 64
  for (int i = 0; i < 64; ++i) {
    const int e = 4 * i, h = e / 128, t = e % 128 / 32;
    codes[i] = _mm512_and_si512(move_bit(qs[8 * h + e % 32 / 4], 2 * t, 0), mask);
  }
}

// The integer sum of codes x activation codes, each sub-block's 16 products scaled once.
template <int C, int A>
inline void scaled_sums(const __m512i* codes, const __m512i* scales, const BlockQ8_K* const* x, __m512i (*isum)[A]) {
#pragma GCC unroll 16
  for (int s = 0; s < 16; ++s) {
    __m512i part[C];
#pragma GCC unroll 8
    for (int c = 0; c < C; ++c) part[c] = _mm512_setzero_si512();
#pragma GCC unroll 4
    for (int g = 0; g < 4; ++g) {
      const int i = 4 * s + g;
#pragma GCC unroll 8
      for (int c = 0; c < C; ++c) {
        part[c] = _mm512_dpbusd_epi32(part[c], codes[i], rows16::broadcast_4_bytes(x[c]->qs + 4 * i));
      }
    }
#pragma GCC unroll 8
    for (int c = 0; c < C; ++c) {
      __m512i& sum = isum[c][s % A];
      sum = s < A ? _mm512_madd_epi16(part[c], scales[s]) : _mm512_dpwssd_epi32(sum, part[c], scales[s]);
    }
  }
}

// sum[c] += sum over sub-block pairs q of pairs[q] (two int16) x the matching two bsums.
template <int C>
inline __m512i bsum_terms(const __m512i* pairs /*[8]*/, const BlockQ8_K& x, __m512i sum) {
#pragma GCC unroll 8
  for (int q = 0; q < 8; ++q) { sum = _mm512_dpwssd_epi32(sum, pairs[q], rows16::broadcast_4_bytes(x.bsums + 2 * q)); }
  return sum;
}

struct Q2KRows {
  using Block = BlockQ2_K;
  struct Prepared {
    __m512i codes[64];   // [4 * sub-block + g]: elements 4i .. 4i + 3
    __m512i scales[16];  // [s]: 4-bit scale as int32
    __m512i mins[8];     // [q]: 4-bit mins of sub-blocks 2q, 2q + 1 as an int16 pair
    __m512 d, dmin;
  };
  struct Sums {};  // bsums and d are read from the Q8_K blocks

  static void prepare(const uint8_t* const* rows, const __m512i& row_offsets, Prepared& out) {
    __m512i qs[16];
    rows16::load_transposed(rows, offsetof(Block, qs), 1, qs);
    unpack_crumbs(qs, out.codes);
    __m512i words[4];  // lane r: packed scale bytes 4u .. 4u + 3 of row r
#pragma GCC unroll 4
    for (int u = 0; u < 4; ++u) {
      words[u] = _mm512_i32gather_epi32(row_offsets, rows[0] + offsetof(Block, scales) + 4 * u, 1);
    }
    const __m512i nibble = _mm512_set1_epi32(0x0F);
#pragma GCC unroll 16
    for (int s = 0; s < 16; ++s) {
      out.scales[s] = _mm512_and_si512(_mm512_shuffle_epi8(words[s / 4], rows16::lane_bytes(s % 4, -1)), nibble);
    }
#pragma GCC unroll 8
    for (int q = 0; q < 8; ++q) {
      const int first = 2 * (q % 2);
      // Each int16 holds a whole packed byte; its high nibble is the min.
      out.mins[q] = _mm512_srli_epi16(_mm512_shuffle_epi8(words[q / 2], rows16::lane_bytes(first, first + 1)), 4);
    }
    const __m512i d_dmin = _mm512_i32gather_epi32(row_offsets, rows[0] + offsetof(Block, d), 1);
    out.d = _mm512_cvtph_ps(_mm512_cvtepi32_epi16(d_dmin));
    out.dmin = _mm512_cvtph_ps(_mm512_cvtepi32_epi16(_mm512_srli_epi32(d_dmin, 16)));
  }

  static void make_sums(const BlockQ8_K&, Sums&) {}

  template <int C>
  static void accumulate(const Prepared& w, const BlockQ8_K* const* x, const Sums* const*, __m512* acc) {
    constexpr int A = rows16::accumulators(C);
    __m512i isum[C][A];
    scaled_sums<C, A>(w.codes, w.scales, x, isum);
#pragma GCC unroll 8
    for (int c = 0; c < C; ++c) {
      __m512i total = isum[c][0];
#pragma GCC unroll 3
      for (int a = 1; a < A; ++a) total = _mm512_add_epi32(total, isum[c][a]);
      const __m512i msum = bsum_terms<C>(w.mins, *x[c], _mm512_setzero_si512());
      acc[c] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(total), _mm512_mul_ps(w.d, _mm512_set1_ps(x[c]->d)), acc[c]);
      acc[c] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(msum), _mm512_mul_ps(w.dmin, _mm512_set1_ps(-x[c]->d)), acc[c]);
    }
  }
};

struct Q3KRows {
  using Block = BlockQ3_K;
  struct Prepared {
    __m512i codes[64];   // [4 * sub-block + g]: unsigned codes (q + 4) of elements 4i .. 4i + 3
    __m512i scales[16];  // [s]: signed scale in the low 16 bits, high 16 bits zero
    __m512i offsets[8];  // [q]: (-4 * scale) of sub-blocks 2q, 2q + 1 as an int16 pair
    __m512 d;
  };
  struct Sums {};  // bsums and d are read from the Q8_K blocks

  static void prepare(const uint8_t* const* rows, const __m512i& row_offsets, Prepared& out) {
    __m512i qs[16], hmask[16];
    rows16::load_transposed(rows, offsetof(Block, qs), 1, qs);
    rows16::load_transposed(rows, offsetof(Block, hmask), 1, hmask);  // dwords 0-7: hmask
    unpack_crumbs(qs, out.codes);
    // The high bit of element e is bit e / 32 of hmask byte e % 32, i.e. of dword (e % 32) / 4;
    // moved to bit 2.
    const __m512i bit2 = _mm512_set1_epi8(0x04);
#pragma GCC unroll 64
    for (int i = 0; i < 64; ++i) {
      const int e = 4 * i;
      out.codes[i] =
          _mm512_ternarylogic_epi32(move_bit(hmask[e % 32 / 4], e / 32, 2), bit2, out.codes[i], 0xEA);  // (m & b) | c
    }
    // The 16 6-bit scale codes (scale + 32), as kquant::unpack_q3_k_scale_codes builds them for
    // one row, on 32-bit words: codes[4u .. 4u + 3] in bytes of word u.
    const uint8_t* packed = rows[0] + offsetof(Block, scales);
    const __m512i low0 = _mm512_i32gather_epi32(row_offsets, packed, 1);
    const __m512i low1 = _mm512_i32gather_epi32(row_offsets, packed + 4, 1);
    const __m512i high = _mm512_i32gather_epi32(row_offsets, packed + 8, 1);
    const __m512i nibbles = _mm512_set1_epi32(0x0F0F0F0F), crumbs = _mm512_set1_epi32(0x03030303);
    auto high_bits = [&](int shift) {
      return _mm512_slli_epi32(_mm512_and_si512(_mm512_srli_epi32(high, shift), crumbs), 4);
    };
    const __m512i words[4] = {_mm512_or_si512(_mm512_and_si512(low0, nibbles), high_bits(0)),
                              _mm512_or_si512(_mm512_and_si512(low1, nibbles), high_bits(2)),
                              _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi32(low0, 4), nibbles), high_bits(4)),
                              _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi32(low1, 4), nibbles), high_bits(6))};
    // set1_epi32(32) subtracts 32 from each low int16 and 0 from each high one.
    const __m512i minus32 = _mm512_set1_epi32(32);
#pragma GCC unroll 16
    for (int s = 0; s < 16; ++s) {
      out.scales[s] = _mm512_sub_epi16(_mm512_shuffle_epi8(words[s / 4], rows16::lane_bytes(s % 4, -1)), minus32);
    }
#pragma GCC unroll 8
    for (int q = 0; q < 8; ++q) {
      const int first = 2 * (q % 2);
      const __m512i pair = _mm512_sub_epi16(_mm512_shuffle_epi8(words[q / 2], rows16::lane_bytes(first, first + 1)),
                                            _mm512_set1_epi16(32));
      out.offsets[q] = _mm512_mullo_epi16(pair, _mm512_set1_epi16(-4));
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
    scaled_sums<C, A>(w.codes, w.scales, x, isum);
#pragma GCC unroll 8
    for (int c = 0; c < C; ++c) {
      __m512i total = bsum_terms<C>(w.offsets, *x[c], isum[c][0]);
#pragma GCC unroll 3
      for (int a = 1; a < A; ++a) total = _mm512_add_epi32(total, isum[c][a]);
      acc[c] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(total), _mm512_mul_ps(w.d, _mm512_set1_ps(x[c]->d)), acc[c]);
    }
  }
};

}  // namespace

void register_avx512_q2_k_q3_k_gemm(KernelTable& t) {
  t.gemm[static_cast<uint32_t>(DType::kQ2_K)] = rows16::gemm<Q2KRows>;
  t.gemm[static_cast<uint32_t>(DType::kQ3_K)] = rows16::gemm<Q3KRows>;
}

}  // namespace corral::kernels

#pragma GCC pop_options
