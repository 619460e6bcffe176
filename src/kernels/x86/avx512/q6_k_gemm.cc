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

#include <algorithm>
#include <cstddef>
#include <cstdint>

#include "kernels/api.h"
#include "kernels/x86/avx512/gemv16.h"
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

// d of the 16 rows' blocks at byte `at`: d is a block's last 2 bytes, so the 16 bytes ending
// there are loaded (the bytes after a block may be past the end of the matrix) and the high
// half of their last word kept.
inline __m512 block_d(const uint8_t* const* rows, size_t at) {
  __m512i words[4];
  gemv16::load_headers16(rows, at + offsetof(BlockQ6_K, d) + 2 - 16, words);
  return _mm512_cvtph_ps(_mm512_cvtepi32_epi16(_mm512_srli_epi32(words[3], 16)));
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
    // Scales: four words per row (int8 each; loaded as gemv16::load_headers16 does, not
    // gathered), byte s moved to byte 1 of each lane and shifted down with sign: a signed int16
    // in the low half, zero in the high half.
    __m512i words[4];
    gemv16::load_headers16(rows, offsetof(Block, scales), words);
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
    out.d = block_d(rows, 0);
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

// C (1 to 4) activation rows against Q6_K weights in their stored order (gemv16.h). Half h
// of a super-block is one 64-byte vector of ql, whose low nibbles are elements 128h + 0..63 and
// high nibbles 128h + 64..127 in element order, and 32 bytes of qh, whose crumbs 0-3 are the
// high bits of elements 128h + 32t + 0..31: the codes come out in element order and meet the
// activation codes as stored. A weight row's codes and its 16 scales spread over the lanes (4
// lanes per 16-element sub-block) are unpacked once; each activation row then takes 4
// vpdpbusd, 4 vpdpwssd and one more for the + 32 of the codes against the bsums (the rows16
// kernel's integer sum, in another order); the f32 step is Q6KRows', column by column.
// gemv16::gemv_columns runs it for up to 8 activation rows, 4 per pass.
struct Q6KGemv {
  using Block = BlockQ6_K;

  // Per super-block of an activation row.
  struct alignas(64) XBlock {
    __m512i codes[4];   // [v] elements 64v .. 64v + 63, as stored
    __m256i neg_bsums;  // -bsums: |bsum| <= 16 * 128, so the negation fits int16
    float d;
  };

  static void arrange(const uint8_t* row, int64_t n_blocks, XBlock* xb) {
    const auto* x = reinterpret_cast<const BlockQ8_K*>(row);
    for (int64_t b = 0; b < n_blocks; ++b) {
#pragma GCC unroll 4
      for (int v = 0; v < 4; ++v) xb[b].codes[v] = _mm512_loadu_si512(x[b].qs + 64 * v);
      xb[b].neg_bsums =
          _mm256_sub_epi16(_mm256_setzero_si256(), _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x[b].bsums)));
      xb[b].d = x[b].d;
    }
  }

  // The 128 codes of a row's super-block (block: its start) in element order, 64 per vector.
  [[gnu::always_inline]] static void unpack_codes(const uint8_t* block, __m512i* codes /*[4]*/) {
    const __m512i nibble = _mm512_set1_epi8(0x0F), bits45 = _mm512_set1_epi8(0x30);
    // qh crumb 0 (elements 0-31) and 1 (32-63) to bits 4-5: 16-bit shifts left by 4 and by 2;
    // crumb 2 (64-95) is there already and crumb 3 (96-127) shifts right by 2.
    const __m512i low_shift = _mm512_inserti64x4(_mm512_set1_epi16(4), _mm256_set1_epi16(2), 1);
    const __m512i high_shift = _mm512_inserti64x4(_mm512_setzero_si512(), _mm256_set1_epi16(2), 1);
#pragma GCC unroll 2
    for (int h = 0; h < 2; ++h) {
      const __m512i ql = _mm512_loadu_si512(block + offsetof(BlockQ6_K, ql) + 64 * h);
      const __m512i qh = _mm512_broadcast_i64x4(
          _mm256_loadu_si256(reinterpret_cast<const __m256i*>(block + offsetof(BlockQ6_K, qh) + 32 * h)));
      codes[2 * h] = _mm512_ternarylogic_epi32(_mm512_sllv_epi16(qh, low_shift), bits45, _mm512_and_si512(ql, nibble),
                                               0xEA);  // (h & m) | l
      codes[2 * h + 1] = _mm512_ternarylogic_epi32(_mm512_srlv_epi16(qh, high_shift), bits45,
                                                   _mm512_and_si512(_mm512_srli_epi16(ql, 4), nibble), 0xEA);
    }
  }

  // The 16-row group at row_ptrs against C activation rows (see gemv16::gemv_columns).
  template <bool kInterleaved, bool kPrefetch, int C>
  static void group(const uint8_t* const* row_ptrs, size_t block_step, size_t w_stride, int rows, int64_t n_blocks,
                    const XBlock* const* xb, float* y, int64_t ldy) {
    // Lane l of code vector v belongs to sub-block 4v + l / 4.
    __m512i spread[4];
#pragma GCC unroll 4
    for (int v = 0; v < 4; ++v) {
      spread[v] =
          _mm512_add_epi32(_mm512_set1_epi32(4 * v), _mm512_set_epi32(3, 3, 3, 3, 2, 2, 2, 2, 1, 1, 1, 1, 0, 0, 0, 0));
    }
    __m512 acc[C];
#pragma GCC unroll 4
    for (int c = 0; c < C; ++c) acc[c] = _mm512_setzero_ps();
    for (int64_t b = 0; b < n_blocks; ++b) {
      const size_t at =
          gemv16::block_at<sizeof(BlockQ6_K), kInterleaved, kPrefetch>(row_ptrs, block_step, w_stride, n_blocks, b);
      gemv16::LaneSum16 total[C];
#pragma GCC unroll 16
      for (int q = 0; q < gemv16::kLanes; ++q) {
        const uint8_t* block = row_ptrs[gemv16::row_of_input(q)] + at;
        __m512i codes[4];
        unpack_codes(block, codes);
        // Scales as int16 (16 of them), and in the low half of 32-bit lanes with 0 above.
        const __m256i scales16 = _mm256_cvtepi8_epi16(
            _mm_loadu_si128(reinterpret_cast<const __m128i*>(block + offsetof(BlockQ6_K, scales))));
        const __m256i scales32x = _mm256_slli_epi16(scales16, 5);  // 32 * scale, |.| <= 4096
        const __m512i scales = _mm512_cvtepu16_epi32(scales16);
        __m512i spread_scales[4];
#pragma GCC unroll 4
        for (int v = 0; v < 4; ++v) spread_scales[v] = _mm512_permutexvar_epi32(spread[v], scales);
#pragma GCC unroll 4
        for (int c = 0; c < C; ++c) {
          // The + 32 of every code: 32 * scale against -bsums, in 8 lanes.
          __m512i sum = _mm512_zextsi256_si512(_mm256_madd_epi16(scales32x, xb[c][b].neg_bsums));
#pragma GCC unroll 4
          for (int v = 0; v < 4; ++v) {
            const __m512i dots = _mm512_dpbusd_epi32(_mm512_setzero_si512(), codes[v], xb[c][b].codes[v]);
            sum = _mm512_dpwssd_epi32(sum, dots, spread_scales[v]);
          }
          total[c].add(q, sum);
        }
      }
      const __m512 d = block_d(row_ptrs, at);
#pragma GCC unroll 4
      for (int c = 0; c < C; ++c) {
        acc[c] =
            _mm512_fmadd_ps(_mm512_cvtepi32_ps(total[c].result), _mm512_mul_ps(d, _mm512_set1_ps(xb[c][b].d)), acc[c]);
      }
    }
#pragma GCC unroll 4
    for (int c = 0; c < C; ++c) _mm512_mask_storeu_ps(y + c * ldy, static_cast<__mmask16>((1u << rows) - 1), acc[c]);
  }

  // For gemv16::stored_gemv: a full group of an interleaved matrix (api.h interleaves_dwords:
  // each 64-byte piece of a block step is one dword of the 16 rows, in the order read here:
  // scales, then per half its qh and its ql (api.h interleaved_dword_slot), then the 16 rows'
  // d; read in address order, 0.55 -> 0.50 ms at 8192x2048, n = 1) against C activation rows, computing what Q6KRows::prepare and
  // Q6KRows::accumulate do with no transposes, lane r being row r throughout. Integer sums are
  // exact in any order and the f32 step is accumulate's, so the outputs have its bits.
  using Sums = Q6KRows::Sums;
  static void make_sums(const BlockQ8_K&, Sums&) {}

  // isum[c] += the + 32 of every code of block b against column c's bsums: (-32 * scale) of
  // sub-blocks 2q, 2q + 1 as an int16 pair (words: the 16 rows' scale words).
  template <int C, int A>
  [[gnu::always_inline]] static void add_offsets(const __m512i* words /*[4]*/, const BlockQ8_K* const* x, int64_t b,
                                                 __m512i (*isum)[A]) {
#pragma GCC unroll 8
    for (int q = 0; q < 8; ++q) {
      const int first = 2 * (q % 2);
      const __m512i pair =
          _mm512_srai_epi16(_mm512_shuffle_epi8(words[q / 2], rows16::lane_bytes(first, first + 1, 1)), 8);
      const __m512i offsets = _mm512_mullo_epi16(pair, _mm512_set1_epi16(-32));
#pragma GCC unroll 4
      for (int c = 0; c < C; ++c) {
        isum[c][q % A] = _mm512_dpwssd_epi32(isum[c][q % A], offsets, rows16::broadcast_4_bytes(x[c][b].bsums + 2 * q));
      }
    }
  }

  // The 64-byte piece of a block step that holds block dword j of the 16 rows (api.h).
  static const uint8_t* piece(const uint8_t* step, int j) {
    return step + 64 * interleaved_dword_slot(DType::kQ6_K, j);
  }

  template <bool kPrefetch, int C>
  static void stored_group(const uint8_t* group, size_t block_step, int64_t n_blocks, const BlockQ8_K* const* x,
                           const Sums* const*, float* y, int64_t ldy) {
    static_assert(sizeof(BlockQ6_K) == 52 * 4 + 2, "Q6_K: 52 dwords and d per block");
    constexpr int A = rows16::accumulators(C);
    const __m512i nibble = _mm512_set1_epi8(0x0F), bits45 = _mm512_set1_epi8(0x30);
    __m512 acc[C];
#pragma GCC unroll 4
    for (int c = 0; c < C; ++c) acc[c] = _mm512_setzero_ps();
    for (int64_t b = 0; b < n_blocks; ++b) {
      const uint8_t* step = group + b * block_step;
      if constexpr (kPrefetch) gemv16::prefetch_ahead_interleaved<sizeof(BlockQ6_K)>(group, block_step, b);
      // Scale words (int8 each): scales[s] holds sub-block s's signed scale in both int16
      // halves of each lane, for the pairs of code vectors below.
      __m512i words[4], scales[16];
#pragma GCC unroll 4
      for (int j = 0; j < 4; ++j) words[j] = _mm512_loadu_si512(piece(step, 48 + j));  // scales
#pragma GCC unroll 16
      for (int s = 0; s < 16; ++s) {
        scales[s] = _mm512_srai_epi16(_mm512_shuffle_epi8(words[s / 4], rows16::lane_bytes(s % 4, s % 4, 1)), 8);
      }
      __m512i isum[C][A];
#pragma GCC unroll 4
      for (int c = 0; c < C; ++c) {
#pragma GCC unroll 4
        for (int a = 0; a < A; ++a) isum[c][a] = _mm512_setzero_si512();
      }
#pragma GCC unroll 2
      for (int half = 0; half < 2; ++half) {
        // ql dword w: low nibbles elements 128 half + 4w + 0..3, high nibbles the same + 64;
        // qh dword j: crumb t holds the high bits of elements 128 half + 32t + 4j + 0..3.
        __m512i qh[8];
#pragma GCC unroll 8
        for (int j = 0; j < 8; ++j) qh[j] = _mm512_loadu_si512(piece(step, 32 + 8 * half + j));
          // Code vectors of ql dwords 2u and 2u + 1 (one sub-block): each vpdpbusd sum of 4
          // products fits 16 bits (|.| <= 4 * 63 * 127), so the two go to one vpdpwssd as an int16
          // pair against the scale twice, instead of one each.
#pragma GCC unroll 8
        for (int u = 0; u < 8; ++u) {
          const __m512i ql[2] = {_mm512_loadu_si512(piece(step, 16 * half + 2 * u)),
                                 _mm512_loadu_si512(piece(step, 16 * half + 2 * u + 1))};
#pragma GCC unroll 2
          for (int nib = 0; nib < 2; ++nib) {
            __m512i codes[2];
            int e[2];  // first elements
#pragma GCC unroll 2
            for (int k = 0; k < 2; ++k) {
              const int w = 2 * u + k, within = 64 * nib + 4 * w;
              e[k] = 128 * half + within;
              const __m512i low = _mm512_and_si512(nib == 0 ? ql[k] : _mm512_srli_epi16(ql[k], 4), nibble);
              const __m512i high = crumb_to_bits45(qh[w % 8], 2 * (within / 32));
              codes[k] = _mm512_ternarylogic_epi32(high, bits45, low, 0xEA);  // (h & m) | l
            }
            const int a = (2 * u + nib) % A;
#pragma GCC unroll 4
            for (int c = 0; c < C; ++c) {
              const __m512i first =
                  _mm512_dpbusd_epi32(_mm512_setzero_si512(), codes[0], rows16::broadcast_4_bytes(x[c][b].qs + e[0]));
              const __m512i second =
                  _mm512_dpbusd_epi32(_mm512_setzero_si512(), codes[1], rows16::broadcast_4_bytes(x[c][b].qs + e[1]));
              const __m512i pair = _mm512_mask_blend_epi16(0xAAAAAAAA, first, _mm512_slli_epi32(second, 16));
              isum[c][a] = _mm512_dpwssd_epi32(isum[c][a], pair, scales[e[0] / 16]);
            }
          }
        }
      }
      add_offsets<C, A>(words, x, b, isum);
      const __m512 d = _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(step + 64 * 52)));  // 16 f16
#pragma GCC unroll 4
      for (int c = 0; c < C; ++c) {
        __m512i total = isum[c][0];
#pragma GCC unroll 3
        for (int a = 1; a < A; ++a) total = _mm512_add_epi32(total, isum[c][a]);
        acc[c] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(total), _mm512_mul_ps(d, _mm512_set1_ps(x[c][b].d)), acc[c]);
      }
    }
#pragma GCC unroll 4
    for (int c = 0; c < C; ++c) _mm512_storeu_ps(y + c * ldy, acc[c]);
  }
};

}  // namespace

void register_avx512_q6_k_gemm(KernelTable& t) {
  t.gemm[static_cast<uint32_t>(DType::kQ6_K)] = rows16::gemm_with_gemv<Q6KGemv, Q6KRows, false>;
  t.gemm_interleaved[static_cast<uint32_t>(DType::kQ6_K)] = rows16::gemm_with_gemv<Q6KGemv, Q6KRows, true>;
}

}  // namespace corral::kernels

#pragma GCC pop_options
