// AVX-512 VNNI gemm for Q4_K (most matrices of Llama Q4_K_M files) and Q5_K weights, 16
// weight rows in the lanes (rows16_engine.h).
//
// vpdpbusd fills a lane with products of one sub-block; as long as their sum fits in 16 bits
// one vpdpwssd with the scale in the low half of each 32-bit lane (0 in the high half, which
// holds only the sum's sign) scales and accumulates it exactly: 16 products for Q4_K (|sum|
// <= 16 * 15 * 128 < 2^15), 8 for Q5_K's 5-bit codes (8 * 31 * 128 < 2^15). The mins meet the
// activations' bsums (summed per sub-block) through 4 more vpdpwssd; each super-block ends
// with two conversions and FMAs, by d_w * d_x and -dmin_w * d_x. About 5.6 (Q4_K) and 6.6
// (Q5_K) instructions per (weight row, activation row, super-block), against ~10 with each row
// in element order (as in avx2/).
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

// kBits: 4 (Q4_K) or 5 (Q5_K, the 5th bit of element e being bit e / 32 of qh[e % 32]).
template <class BlockT, int kBits>
struct K4Rows {
  using Block = BlockT;
  // Products per vpdpwssd: all 16 of a half sub-block while their sum fits 16 bits.
  static constexpr int kGroupsPerScale = kBits == 4 ? 4 : 2;

  // One super-block of 16 rows, lane r = row r.
  struct Prepared {
    __m512i codes[64];  // [sub-block s][half h][g]: codes of elements 32s + 16h + 4g .. + 3
    __m512i scales[8];  // [s]: scale as int32 (high 16 bits zero)
    __m512i mins[4];    // [q]: mins of sub-blocks 2q and 2q + 1 as an int16 pair
    __m512 d, dmin;
  };

  // Per activation row and super-block: bsums summed per 32-element sub-block (|sum| <= 4096,
  // int16), and d_x.
  struct Sums {
    int16_t pairs[8];
    float d;
    float neg_d;
    uint64_t padding;
  };

  static void prepare(const uint8_t* const* rows, const __m512i& row_offsets, Prepared& out) {
    // Dword i of qs holds codes of elements 64(i / 8) + 4(i % 8) + 0..3 (low nibbles) and the
    // same + 32 (high nibbles): with i = 8t + 4h + g, sub-block 2t (low) and 2t + 1 (high),
    // half h, group g.
    __m512i q[32];
    rows16::load_transposed(rows, offsetof(Block, qs), 2, q);
    const __m512i nibble = _mm512_set1_epi8(0x0F);
#pragma GCC unroll 32
    for (int i = 0; i < 32; ++i) {
      const int t = i / 8, hg = i % 8;
      out.codes[(2 * t) * 8 + hg] = _mm512_and_si512(q[i], nibble);
      out.codes[(2 * t + 1) * 8 + hg] = _mm512_and_si512(_mm512_srli_epi16(q[i], 4), nibble);
    }
    if constexpr (kBits == 5) {
      // codes[s][h][g] are elements 32s + 16h + 4g .. + 3: bit s of qh dword 4h + g, moved to
      // bit 4 (64 bytes from qh stay inside the block: qs follows).
      __m512i qh[16];
      rows16::load_transposed(rows, offsetof(Block, qh), 1, qh);
      const __m512i bit4 = _mm512_set1_epi8(0x10);
#pragma GCC unroll 64
      for (int i = 0; i < 64; ++i) {
        const int sub = i / 8;
        const __m512i word = qh[i % 8];
        const __m512i moved = sub < 4   ? _mm512_slli_epi16(word, 4 - sub)
                              : sub > 4 ? _mm512_srli_epi16(word, sub - 4)
                                        : word;
        out.codes[i] = _mm512_ternarylogic_epi32(moved, bit4, out.codes[i], 0xEA);  // (m & b) | c
      }
    }
    // Scales and mins of all 16 rows at once: the 12 packed bytes as three gathered words per
    // row, unpacked as kquant::unpack_k4_scales does for one row, then byte s of the scale
    // words (bytes 2q, 2q + 1 of the min words) moved to the bottom of each lane.
    const uint8_t* packed = rows[0] + offsetof(Block, scales);
    const __m512i a = _mm512_i32gather_epi32(row_offsets, packed, 1);
    const __m512i b = _mm512_i32gather_epi32(row_offsets, packed + 4, 1);
    const __m512i c = _mm512_i32gather_epi32(row_offsets, packed + 8, 1);
    const __m512i six_bits = _mm512_set1_epi32(0x3F3F3F3F), low4 = _mm512_set1_epi32(0x0F0F0F0F),
                  bits45 = _mm512_set1_epi32(0x30303030);
    const __m512i scale_words[2] = {
        _mm512_and_si512(a, six_bits),
        _mm512_or_si512(_mm512_and_si512(c, low4), _mm512_and_si512(_mm512_srli_epi32(a, 2), bits45))};
    const __m512i min_words[2] = {_mm512_and_si512(b, six_bits),
                                  _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi32(c, 4), low4),
                                                  _mm512_and_si512(_mm512_srli_epi32(b, 2), bits45))};
#pragma GCC unroll 8
    for (int s = 0; s < 8; ++s) {
      out.scales[s] = _mm512_shuffle_epi8(scale_words[s / 4], rows16::lane_bytes(s % 4, -1));
    }
#pragma GCC unroll 4
    for (int q4 = 0; q4 < 4; ++q4) {
      const int first = 2 * (q4 % 2);
      out.mins[q4] = _mm512_shuffle_epi8(min_words[q4 / 2], rows16::lane_bytes(first, first + 1));
    }
    const __m512i d_dmin = _mm512_i32gather_epi32(row_offsets, rows[0], 1);  // two f16
    out.d = _mm512_cvtph_ps(_mm512_cvtepi32_epi16(d_dmin));
    out.dmin = _mm512_cvtph_ps(_mm512_cvtepi32_epi16(_mm512_srli_epi32(d_dmin, 16)));
  }

  static void make_sums(const BlockQ8_K& x, Sums& s) {
    const __m256i bsums = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x.bsums));
    const __m256i pairs = _mm256_madd_epi16(bsums, _mm256_set1_epi16(1));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(s.pairs), _mm256_cvtepi32_epi16(pairs));
    s.d = x.d;
    s.neg_d = -x.d;
    s.padding = 0;
  }

  template <int C>
  static void accumulate(const Prepared& w, const BlockQ8_K* const* x, const Sums* const* sums, __m512* acc) {
    constexpr int A = rows16::accumulators(C);
    constexpr int kParts = 64 / kGroupsPerScale;  // scaled partial sums per super-block
    __m512i isum[C][A];
#pragma GCC unroll 32
    for (int p = 0; p < kParts; ++p) {
      __m512i part[C];
#pragma GCC unroll 8
      for (int c = 0; c < C; ++c) part[c] = _mm512_setzero_si512();
#pragma GCC unroll 4
      for (int g = 0; g < kGroupsPerScale; ++g) {
        const int i = p * kGroupsPerScale + g;  // codes[i]: elements 4i .. 4i + 3
        const __m512i codes = w.codes[i];
#pragma GCC unroll 8
        for (int c = 0; c < C; ++c) {
          part[c] = _mm512_dpbusd_epi32(part[c], codes, rows16::broadcast_4_bytes(x[c]->qs + 4 * i));
        }
      }
      const __m512i scale = w.scales[p * kGroupsPerScale / 8];
#pragma GCC unroll 8
      for (int c = 0; c < C; ++c) {
        __m512i& sum = isum[c][p % A];
        sum = p < A ? _mm512_madd_epi16(part[c], scale) : _mm512_dpwssd_epi32(sum, part[c], scale);
      }
    }
#pragma GCC unroll 8
    for (int c = 0; c < C; ++c) {
      __m512i total = isum[c][0];
#pragma GCC unroll 3
      for (int a = 1; a < A; ++a) total = _mm512_add_epi32(total, isum[c][a]);
      __m512i msum = _mm512_madd_epi16(w.mins[0], rows16::broadcast_4_bytes(sums[c]->pairs));
#pragma GCC unroll 3
      for (int q = 1; q < 4; ++q) {
        msum = _mm512_dpwssd_epi32(msum, w.mins[q], rows16::broadcast_4_bytes(sums[c]->pairs + 2 * q));
      }
      acc[c] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(total), _mm512_mul_ps(w.d, _mm512_set1_ps(sums[c]->d)), acc[c]);
      acc[c] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(msum), _mm512_mul_ps(w.dmin, _mm512_set1_ps(sums[c]->neg_d)), acc[c]);
    }
  }
};

}  // namespace

void register_avx512_q4_k_q5_k_gemm(KernelTable& t) {
  t.gemm[static_cast<uint32_t>(DType::kQ4_K)] = rows16::gemm<K4Rows<BlockQ4_K, 4>>;
  t.gemm[static_cast<uint32_t>(DType::kQ5_K)] = rows16::gemm<K4Rows<BlockQ5_K, 5>>;
}

}  // namespace corral::kernels

#pragma GCC pop_options
