// AVX2 Q8_K activation quantizer, byte-identical to the reference (generic/q8.cc, ggml's
// quantize_row_q8_K_ref): per 256 values, the value of largest magnitude (the first one, if
// several tie) maps to -127, codes round half to even, d = 1 / iscale, bsums per 16 codes.
#include <immintrin.h>

#include <cstdint>
#include <cstring>

#include "kernels/x86/avx2/kquant_engine.h"
#include "kernels/x86/kquant_common.h"
#include "tensor/blocks.h"

#pragma GCC push_options
#pragma GCC target("avx2,fma,f16c,bmi2")

namespace corral::kernels {
namespace {

inline __m256 abs_ps(__m256 v) { return _mm256_and_ps(v, _mm256_castsi256_ps(_mm256_set1_epi32(0x7FFFFFFF))); }

// The reference's nearest_int on 8 lanes: adding 1.5 * 2^23 leaves a float whose last place is
// 1, so the addition rounds to nearest even; the integer is read from the low mantissa bits.
// min(127): the reference's guard against rounding just past the end.
inline __m256i nearest_int_capped(__m256 v) {
  const __m256i bits = _mm256_castps_si256(_mm256_add_ps(v, _mm256_set1_ps(12582912.0f)));
  const __m256i q =
      _mm256_sub_epi32(_mm256_and_si256(bits, _mm256_set1_epi32(0x007FFFFF)), _mm256_set1_epi32(0x00400000));
  return _mm256_min_epi32(q, _mm256_set1_epi32(127));
}

// The low byte of each of 16 int32 lanes, in order: what the reference's int -> int8_t
// conversion keeps. Masking to 0..255 makes the unsigned-saturating packs exact.
inline __m128i low_bytes(__m256i a, __m256i b) {
  const __m256i mask = _mm256_set1_epi32(0xFF);
  // packus works per 128-bit half: [a0-3 b0-3 | a4-7 b4-7]; the permute restores a then b.
  const __m256i words =
      _mm256_permute4x64_epi64(_mm256_packus_epi32(_mm256_and_si256(a, mask), _mm256_and_si256(b, mask)), 0xD8);
  return _mm_packus_epi16(_mm256_castsi256_si128(words), _mm256_extracti128_si256(words, 1));
}

inline int sum_of_bytes(__m128i bytes /*16 x int8*/) {
  const __m256i pairs = _mm256_madd_epi16(_mm256_cvtepi8_epi16(bytes), _mm256_set1_epi16(1));
  __m128i s = _mm_add_epi32(_mm256_castsi256_si128(pairs), _mm256_extracti128_si256(pairs, 1));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4E));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xB1));
  return _mm_cvtsi128_si32(s);
}

void quantize_q8_k(const float* src, void* dst, int64_t n) {
  auto* blocks = static_cast<BlockQ8_K*>(dst);
  for (int64_t b = 0; b < n / kQK_K; ++b) {
    const float* x = src + b * kQK_K;
    BlockQ8_K& y = blocks[b];
    // vmaxps returns its second operand when either is NaN, so NaN inputs are skipped, as by
    // the reference's `fabs(x) > amax`.
    __m256 lanes = _mm256_setzero_ps();
    for (int v = 0; v < kQK_K / 8; ++v) lanes = _mm256_max_ps(abs_ps(_mm256_loadu_ps(x + 8 * v)), lanes);
    __m128 m4 = _mm_max_ps(_mm256_castps256_ps128(lanes), _mm256_extractf128_ps(lanes, 1));
    m4 = _mm_max_ps(m4, _mm_movehl_ps(m4, m4));
    const float amax = _mm_cvtss_f32(_mm_max_ss(m4, _mm_movehdup_ps(m4)));
    if (amax == 0) {
      std::memset(&y, 0, sizeof y);  // as the reference: d, codes and bsums all 0
      continue;
    }
    // The reference keeps the first value of that magnitude (a strict > while scanning).
    int first = 0;
    for (int v = 0; v < kQK_K / 8; ++v) {
      const int hit =
          _mm256_movemask_ps(_mm256_cmp_ps(abs_ps(_mm256_loadu_ps(x + 8 * v)), _mm256_set1_ps(amax), _CMP_EQ_OQ));
      if (hit != 0) {
        first = 8 * v + __builtin_ctz(static_cast<unsigned>(hit));
        break;
      }
    }
    const float iscale = -127.0f / x[first];
    const __m256 scale = _mm256_set1_ps(iscale);
    for (int g = 0; g < kQK_K / 16; ++g) {
      // unfused: iscale * x must round before the addition, as in the reference.
      const __m256i q0 = nearest_int_capped(unfused(_mm256_mul_ps(scale, _mm256_loadu_ps(x + 16 * g))));
      const __m256i q1 = nearest_int_capped(unfused(_mm256_mul_ps(scale, _mm256_loadu_ps(x + 16 * g + 8))));
      const __m128i codes = low_bytes(q0, q1);
      _mm_storeu_si128(reinterpret_cast<__m128i*>(y.qs + 16 * g), codes);
      y.bsums[g] = static_cast<int16_t>(sum_of_bytes(codes));  // of the stored int8 codes
    }
    y.d = 1 / iscale;
  }
}

}  // namespace

void register_avx2_quantize_q8_k(KernelTable& t) {
  t.quantize_row[static_cast<uint32_t>(DType::kQ8_K)] = quantize_q8_k;
}

}  // namespace corral::kernels

#pragma GCC pop_options
