// AVX-512 Q8_K activation quantizer, byte-identical to the reference (generic/q8.cc, ggml's
// quantize_row_q8_K_ref): per 256 values, the value of largest magnitude (the first one, if
// several tie) maps to -127, codes round half to even, d = 1 / iscale, bsums per 16 codes.
#include "kernels/x86/avx512/kquant_dequantize.h"  // first: it includes <immintrin.h>

#include <immintrin.h>

#include <cstdint>
#include <cstring>

#include "kernels/x86/kquant_common.h"
#include "tensor/blocks.h"

#pragma GCC push_options
#pragma GCC target("avx512f,avx512bw,avx512vl,avx512dq,avx512vnni,avx2,fma,f16c,bmi2")

namespace corral::kernels {
namespace {

// The reference's nearest_int on 16 lanes: adding 1.5 * 2^23 leaves a float whose last place
// is 1, so the addition rounds to nearest even; the integer is read from the low mantissa bits.
// min(127): the reference's guard against rounding just past the end.
inline __m512i nearest_int_capped(__m512 v) {
  const __m512i bits = _mm512_castps_si512(_mm512_add_ps(v, _mm512_set1_ps(12582912.0f)));
  const __m512i q =
      _mm512_sub_epi32(_mm512_and_si512(bits, _mm512_set1_epi32(0x007FFFFF)), _mm512_set1_epi32(0x00400000));
  return _mm512_min_epi32(q, _mm512_set1_epi32(127));
}

void quantize_q8_k(const float* src, void* dst, int64_t n) {
  auto* blocks = static_cast<BlockQ8_K*>(dst);
  for (int64_t b = 0; b < n / kQK_K; ++b) {
    const float* x = src + b * kQK_K;
    BlockQ8_K& y = blocks[b];
    // vmaxps returns its second operand when either is NaN, so NaN inputs are skipped, as by
    // the reference's `fabs(x) > amax`.
    __m512 amax_lanes = _mm512_setzero_ps();
    for (int v = 0; v < kQK_K / 16; ++v) {
      amax_lanes = _mm512_max_ps(_mm512_abs_ps(_mm512_loadu_ps(x + 16 * v)), amax_lanes);
    }
    const float amax = _mm512_reduce_max_ps(amax_lanes);
    if (amax == 0) {
      std::memset(&y, 0, sizeof y);  // as the reference: d, codes and bsums all 0
      continue;
    }
    // The reference keeps the first value of that magnitude (a strict > while scanning).
    int first = 0;
    for (int v = 0; v < kQK_K / 16; ++v) {
      const __mmask16 hit =
          _mm512_cmp_ps_mask(_mm512_abs_ps(_mm512_loadu_ps(x + 16 * v)), _mm512_set1_ps(amax), _CMP_EQ_OQ);
      if (hit != 0) {
        first = 16 * v + __builtin_ctz(hit);
        break;
      }
    }
    const float iscale = -127.0f / x[first];
    for (int g = 0; g < kQK_K / 16; ++g) {
      // unfused: iscale * x must round before the addition, as in the reference.
      const __m512 scaled = unfused(_mm512_mul_ps(_mm512_set1_ps(iscale), _mm512_loadu_ps(x + 16 * g)));
      const __m128i codes = _mm512_cvtepi32_epi8(nearest_int_capped(scaled));  // as int8_t
      _mm_storeu_si128(reinterpret_cast<__m128i*>(y.qs + 16 * g), codes);
      // Summed from the stored int8 codes, as the reference does (for non-finite input the
      // rounded values can leave the int8 range and are truncated).
      y.bsums[g] = static_cast<int16_t>(_mm512_reduce_add_epi32(_mm512_cvtepi8_epi32(codes)));
    }
    y.d = 1 / iscale;
  }
}

}  // namespace

void register_avx512_quantize_q8_k(KernelTable& t) {
  t.quantize_row[static_cast<uint32_t>(DType::kQ8_K)] = quantize_q8_k;
}

}  // namespace corral::kernels

#pragma GCC pop_options
