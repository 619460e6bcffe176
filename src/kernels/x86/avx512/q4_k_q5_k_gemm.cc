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

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "kernels/x86/avx512/gemv16.h"
#include "kernels/x86/kquant_common.h"
#include "tensor/blocks.h"

#pragma GCC push_options
#pragma GCC target("avx512f,avx512bw,avx512vl,avx512dq,avx512vnni,avx2,fma,f16c,bmi2")

namespace corral::kernels {
namespace {

// The 6-bit scales and mins of 16 rows from their packed words (header[1..3] of
// gemv16::load_headers16: a, b, c), as kquant::unpack_k4_scales does for one row: lane r of
// scales[0] holds row r's scales 0-3, scales[1] 4-7; mins likewise.
inline void unpack_k4_words(const __m512i* header, __m512i* scales /*[2]*/, __m512i* mins /*[2]*/) {
  const __m512i a = header[1], b = header[2], c = header[3];
  const __m512i six_bits = _mm512_set1_epi32(0x3F3F3F3F), low4 = _mm512_set1_epi32(0x0F0F0F0F),
                bits45 = _mm512_set1_epi32(0x30303030);
  scales[0] = _mm512_and_si512(a, six_bits);
  scales[1] = _mm512_or_si512(_mm512_and_si512(c, low4), _mm512_and_si512(_mm512_srli_epi32(a, 2), bits45));
  mins[0] = _mm512_and_si512(b, six_bits);
  mins[1] = _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi32(c, 4), low4),
                            _mm512_and_si512(_mm512_srli_epi32(b, 2), bits45));
}

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
    // Scales and mins of all 16 rows at once: the 12 packed bytes as three words per row (the
    // block's first 16 bytes are d, dmin and them, loaded as gemv16::load_headers16 does),
    // unpacked as kquant::unpack_k4_scales does for one row, then byte s of the scale words
    // (bytes 2q, 2q + 1 of the min words) moved to the bottom of each lane.
    static_assert(offsetof(Block, scales) == 4 && sizeof(Block::scales) == 12, "16-byte header");
    __m512i header[4], scale_words[2], min_words[2];
    gemv16::load_headers16(rows, 0, header);
    unpack_k4_words(header, scale_words, min_words);
#pragma GCC unroll 8
    for (int s = 0; s < 8; ++s) {
      out.scales[s] = _mm512_shuffle_epi8(scale_words[s / 4], rows16::lane_bytes(s % 4, -1));
    }
#pragma GCC unroll 4
    for (int q4 = 0; q4 < 4; ++q4) {
      const int first = 2 * (q4 % 2);
      out.mins[q4] = _mm512_shuffle_epi8(min_words[q4 / 2], rows16::lane_bytes(first, first + 1));
    }
    const __m512i d_dmin = header[0];  // two f16
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

// C (1 to 4) activation rows against Q4_K weights in their stored order (gemv16.h). A
// super-block's 128 code bytes are two 64-byte vectors; the low nibbles of the first hold
// sub-blocks 0 and 2 (bytes 0-31, 32-63), its high nibbles 1 and 3, the second vector 4-7
// likewise, so each activation row is rearranged once per call to match: xq[b][v] is the 64
// activation codes of code vector v of super-block b. A weight row's codes and its sub-block
// scales spread over the lanes are unpacked once and then meet each activation row in 4
// vpdpbusd (sums of 4 products, |.| <= 4 * 15 * 128 < 2^15) and 4 vpdpwssd; the mins and the
// f32 steps are shared with the rows16 engine (K4Rows, 16 rows in the lanes), column by
// column, so every output has the bits the rows16 engine gives it. gemv16::gemv_columns runs it
// for up to 8 activation rows, 4 per pass: the rows16 engine transposes every block, which
// dominated there (streamed 8192x2048 on 2 threads, n = 2 / 4 / 8: 0.93 / 1.08 / 1.3 ms with
// the rows16 engine, 0.43 / 0.54 / 0.93 with this; at 16 the rows16 engine is ahead).
struct Q4KGemv {
  using Rows = K4Rows<BlockQ4_K, 4>;
  using Block = BlockQ4_K;

  // Per super-block of an activation row: its codes in the weights' order and its sums.
  struct alignas(64) XBlock {
    __m512i codes[4];  // [v]: sub-blocks (0, 2), (1, 3), (4, 6), (5, 7), 32 codes each
    Rows::Sums sums;
  };

  static void arrange(const uint8_t* row, int64_t n_blocks, XBlock* xb) {
    const auto* x = reinterpret_cast<const BlockQ8_K*>(row);
    for (int64_t b = 0; b < n_blocks; ++b) {
      const int8_t* qs = x[b].qs;
#pragma GCC unroll 4
      for (int v = 0; v < 4; ++v) {
        const int first = 128 * (v / 2) + 32 * (v % 2);  // sub-blocks first / 32 and that + 2
        const __m256i lo = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(qs + first));
        const __m256i hi = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(qs + first + 64));
        xb[b].codes[v] = _mm512_inserti64x4(_mm512_castsi256_si512(lo), hi, 1);
      }
      Rows::make_sums(x[b], xb[b].sums);
    }
  }

  // A super-block's header of the 16 rows (d, dmin and the packed scales and mins: a block
  // starts with those 16 bytes), unpacked once for every column exactly as Rows::prepare does.
  struct Header16 {
    alignas(64) uint8_t row_scales[2][64];  // row 4j + t's 8 scales at byte 16j + 8(t % 2) of half t / 2
    __m512i mins[4];                        // [q]: mins of sub-blocks 2q and 2q + 1 as an int16 pair
    __m512 d, dmin;

    const uint8_t* scales_of(int r) const { return &row_scales[(r % 4) / 2][16 * (r / 4) + 8 * (r % 2)]; }

    [[gnu::always_inline]] void load(const uint8_t* const* row_ptrs, size_t at) {
      static_assert(offsetof(BlockQ4_K, scales) == 4 && offsetof(BlockQ4_K, qs) == 16, "16-byte header");
      __m512i header[4], scale_words[2], min_words[2];
      gemv16::load_headers16(row_ptrs, at, header);
      unpack_k4_words(header, scale_words, min_words);
      _mm512_store_si512(row_scales[0], _mm512_unpacklo_epi32(scale_words[0], scale_words[1]));
      _mm512_store_si512(row_scales[1], _mm512_unpackhi_epi32(scale_words[0], scale_words[1]));
#pragma GCC unroll 4
      for (int q4 = 0; q4 < 4; ++q4) {
        const int first = 2 * (q4 % 2);
        mins[q4] = _mm512_shuffle_epi8(min_words[q4 / 2], rows16::lane_bytes(first, first + 1));
      }
      const __m512i d_dmin = header[0];  // two f16
      d = _mm512_cvtph_ps(_mm512_cvtepi32_epi16(d_dmin));
      dmin = _mm512_cvtph_ps(_mm512_cvtepi32_epi16(_mm512_srli_epi32(d_dmin, 16)));
    }

    // acc += the block's f32 step for one activation row, as K4Rows::accumulate.
    [[gnu::always_inline]] void finish(const XBlock& xq, __m512i total, __m512& acc) const {
      __m512i msum = _mm512_setzero_si512();
#pragma GCC unroll 4
      for (int q4 = 0; q4 < 4; ++q4) {
        msum = _mm512_dpwssd_epi32(msum, mins[q4], rows16::broadcast_4_bytes(xq.sums.pairs + 2 * q4));
      }
      acc = _mm512_fmadd_ps(_mm512_cvtepi32_ps(total), _mm512_mul_ps(d, _mm512_set1_ps(xq.sums.d)), acc);
      acc = _mm512_fmadd_ps(_mm512_cvtepi32_ps(msum), _mm512_mul_ps(dmin, _mm512_set1_ps(xq.sums.neg_d)), acc);
    }
  };

  // The 16-row group at row_ptrs against C activation rows (see gemv16::gemv_columns).
  template <bool kInterleaved, bool kPrefetch, int C>
  static void group(const uint8_t* const* row_ptrs, size_t block_step, size_t w_stride, int rows, int64_t n_blocks,
                    const XBlock* const* xb, float* y, int64_t ldy) {
    // Lane l of code vector v belongs to sub-block scale_of[v][l / 8].
    const __m512i spread[4] = {_mm512_set_epi32(2, 2, 2, 2, 2, 2, 2, 2, 0, 0, 0, 0, 0, 0, 0, 0),
                               _mm512_set_epi32(3, 3, 3, 3, 3, 3, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1),
                               _mm512_set_epi32(6, 6, 6, 6, 6, 6, 6, 6, 4, 4, 4, 4, 4, 4, 4, 4),
                               _mm512_set_epi32(7, 7, 7, 7, 7, 7, 7, 7, 5, 5, 5, 5, 5, 5, 5, 5)};
    const __m512i nibble = _mm512_set1_epi8(0x0F);
    __m512 acc[C];
#pragma GCC unroll 4
    for (int c = 0; c < C; ++c) acc[c] = _mm512_setzero_ps();
    for (int64_t b = 0; b < n_blocks; ++b) {
      const size_t at =
          gemv16::block_at<sizeof(BlockQ4_K), kInterleaved, kPrefetch>(row_ptrs, block_step, w_stride, n_blocks, b);
      Header16 header;
      header.load(row_ptrs, at);
      gemv16::LaneSum16 total[C];
#pragma GCC unroll 16
      for (int q = 0; q < gemv16::kLanes; ++q) {
        const int r = gemv16::row_of_input(q);
        const uint8_t* qs = row_ptrs[r] + at + offsetof(BlockQ4_K, qs);
        const __m512i q0 = _mm512_loadu_si512(qs), q1 = _mm512_loadu_si512(qs + 64);
        const __m512i codes[4] = {_mm512_and_si512(q0, nibble), _mm512_and_si512(_mm512_srli_epi16(q0, 4), nibble),
                                  _mm512_and_si512(q1, nibble), _mm512_and_si512(_mm512_srli_epi16(q1, 4), nibble)};
        const __m512i scales =
            _mm512_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(header.scales_of(r))));
        __m512i spread_scales[4];
#pragma GCC unroll 4
        for (int v = 0; v < 4; ++v) spread_scales[v] = _mm512_permutexvar_epi32(spread[v], scales);
#pragma GCC unroll 4
        for (int c = 0; c < C; ++c) {
          __m512i sum = _mm512_setzero_si512();
#pragma GCC unroll 4
          for (int v = 0; v < 4; ++v) {
            const __m512i dots = _mm512_dpbusd_epi32(_mm512_setzero_si512(), codes[v], xb[c][b].codes[v]);
            sum = _mm512_dpwssd_epi32(sum, dots, spread_scales[v]);
          }
          total[c].add(q, sum);
        }
      }
#pragma GCC unroll 4
      for (int c = 0; c < C; ++c) header.finish(xb[c][b], total[c].result, acc[c]);
    }
#pragma GCC unroll 4
    for (int c = 0; c < C; ++c) _mm512_mask_storeu_ps(y + c * ldy, static_cast<__mmask16>((1u << rows) - 1), acc[c]);
  }

  // For gemv16::stored_gemv: a full group of an interleaved matrix (api.h interleaves_dwords:
  // vector j of a block step is dword j of the 16 rows) against C activation rows, computing
  // what K4Rows::prepare and K4Rows::accumulate do with no transposes: each stored code vector
  // is split into its two nibble vectors once and meets every column's 4 activation codes
  // there, lane r being row r throughout, so no permutes and no sums across lanes either (half
  // the instructions of the row-order group above). Integer sums are exact in any order and
  // the f32 steps are accumulate's, so the outputs have its bits.
  using Sums = Rows::Sums;
  static void make_sums(const BlockQ8_K& x, Sums& s) { Rows::make_sums(x, s); }

  template <bool kPrefetch, int C>
  static void stored_group(const uint8_t* group, size_t block_step, int64_t n_blocks, const BlockQ8_K* const* x,
                           const Sums* const* sums, float* y, int64_t ldy) {
    const __m512i nibble = _mm512_set1_epi8(0x0F);
    __m512 acc[C];
#pragma GCC unroll 4
    for (int c = 0; c < C; ++c) acc[c] = _mm512_setzero_ps();
    for (int64_t b = 0; b < n_blocks; ++b) {
      const uint8_t* step = group + b * block_step;
      // Requests ahead (3 steps into L2) only for several columns: at one, a step read in
      // address order is followed by the hardware prefetcher alone, and faster (8192x2048,
      // alternating runs: 0.22-0.28 against 0.30-0.31 ms); at 4 and 8 columns without them
      // 0.45 / 0.73 ms against 0.31 / 0.53.
      if constexpr (kPrefetch && C > 1) gemv16::prefetch_ahead_interleaved<sizeof(BlockQ4_K)>(group, block_step, b);
      __m512i header[4], scale_words[2], min_words[2];
#pragma GCC unroll 4
      for (int i = 0; i < 4; ++i) header[i] = _mm512_loadu_si512(step + 64 * i);
      unpack_k4_words(header, scale_words, min_words);
      // Two integer sums per column: one chain of 8 vpdpwssd (latency 5 each) per block
      // would leave the ports idle at one column.
      __m512i isum[C][2];
#pragma GCC unroll 4
      for (int c = 0; c < C; ++c) isum[c][0] = isum[c][1] = _mm512_setzero_si512();
#pragma GCC unroll 4
      for (int t = 0; t < 4; ++t) {
#pragma GCC unroll 2
        for (int h = 0; h < 2; ++h) {
          // Sub-blocks 2t (low nibbles) and 2t + 1 (high), half h: 16 products per lane each.
          __m512i low[C], high[C];
#pragma GCC unroll 4
          for (int c = 0; c < C; ++c) low[c] = high[c] = _mm512_setzero_si512();
#pragma GCC unroll 4
          for (int g = 0; g < 4; ++g) {
            const __m512i q = _mm512_loadu_si512(step + 64 * (4 + 8 * t + 4 * h + g));
            const __m512i lo = _mm512_and_si512(q, nibble), hi = _mm512_and_si512(_mm512_srli_epi16(q, 4), nibble);
            const int e = 64 * t + 16 * h + 4 * g;  // first element of lo; hi's is e + 32
#pragma GCC unroll 4
            for (int c = 0; c < C; ++c) {
              low[c] = _mm512_dpbusd_epi32(low[c], lo, rows16::broadcast_4_bytes(x[c][b].qs + e));
              high[c] = _mm512_dpbusd_epi32(high[c], hi, rows16::broadcast_4_bytes(x[c][b].qs + e + 32));
            }
          }
          // Both sums fit 16 bits, so each lane takes them as one int16 pair [low, high] against
          // [scale 2t, scale 2t + 1]: one vpdpwssd instead of two (the shift and blend run on
          // other ports; at many columns the VNNI instructions bound the kernel).
          const __m512i scales =
              _mm512_shuffle_epi8(scale_words[t / 2], rows16::lane_bytes(2 * (t % 2), 2 * (t % 2) + 1));
#pragma GCC unroll 4
          for (int c = 0; c < C; ++c) {
            const __m512i pair = _mm512_mask_blend_epi16(0xAAAAAAAA, low[c], _mm512_slli_epi32(high[c], 16));
            isum[c][h] = _mm512_dpwssd_epi32(isum[c][h], pair, scales);
          }
        }
      }
      __m512i mins[4];
#pragma GCC unroll 4
      for (int q4 = 0; q4 < 4; ++q4) {
        const int first = 2 * (q4 % 2);
        mins[q4] = _mm512_shuffle_epi8(min_words[q4 / 2], rows16::lane_bytes(first, first + 1));
      }
      const __m512 d = _mm512_cvtph_ps(_mm512_cvtepi32_epi16(header[0]));
      const __m512 dmin = _mm512_cvtph_ps(_mm512_cvtepi32_epi16(_mm512_srli_epi32(header[0], 16)));
#pragma GCC unroll 4
      for (int c = 0; c < C; ++c) {
        const Sums& s = sums[c][b];
        __m512i msum = _mm512_madd_epi16(mins[0], rows16::broadcast_4_bytes(s.pairs));
#pragma GCC unroll 3
        for (int q4 = 1; q4 < 4; ++q4) {
          msum = _mm512_dpwssd_epi32(msum, mins[q4], rows16::broadcast_4_bytes(s.pairs + 2 * q4));
        }
        const __m512i total = _mm512_add_epi32(isum[c][0], isum[c][1]);
        acc[c] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(total), _mm512_mul_ps(d, _mm512_set1_ps(s.d)), acc[c]);
        acc[c] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(msum), _mm512_mul_ps(dmin, _mm512_set1_ps(s.neg_d)), acc[c]);
      }
    }
#pragma GCC unroll 4
    for (int c = 0; c < C; ++c) _mm512_storeu_ps(y + c * ldy, acc[c]);
  }
};

}  // namespace

void register_avx512_q4_k_q5_k_gemm(KernelTable& t) {
  // Interleaved: the stored kernel is ahead of the rows16 engine at every n measured
  // (8192x2048 on 2 threads, AMD EPYC: n = 16 / 128 / 512: 0.92 / 7.2 / 28.6 ms against 1.7 /
  // 8.6 / 32), since what that engine prepares from a block step costs as much as using it.
  t.gemm[static_cast<uint32_t>(DType::kQ4_K)] = rows16::gemm_with_gemv<Q4KGemv, Q4KGemv::Rows, false>;
  t.gemm_interleaved[static_cast<uint32_t>(DType::kQ4_K)] = rows16::gemm_with_gemv<Q4KGemv, Q4KGemv::Rows, true>;
  t.gemm[static_cast<uint32_t>(DType::kQ5_K)] = rows16::gemm<K4Rows<BlockQ5_K, 5>>;
}

}  // namespace corral::kernels

#pragma GCC pop_options
