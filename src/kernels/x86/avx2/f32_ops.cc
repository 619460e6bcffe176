// AVX2 f32 vector ops: rms_norm, swiglu, softmax, dot, axpy, scale, add. Tails use
// vmaskmov loads and stores, so every length runs the vector code.
#include <immintrin.h>

#include <cmath>
#include <cstdint>

#include "kernels/x86/avx2/exp_ps.h"
#include "kernels/x86/avx2/legacy.h"

#pragma GCC push_options
#pragma GCC target("avx2,fma,f16c,bmi2")

namespace corral::kernels::avx2 {
namespace {

// All-ones in the lanes below `left` (8 or more: all lanes).
__m256i lanes_below(int64_t left) {
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(left < 8 ? left : 8)),
                            _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

__m256 load(const float* p, __m256i m) { return _mm256_maskload_ps(p, m); }
void store(float* p, __m256i m, __m256 v) { _mm256_maskstore_ps(p, m, v); }

float hsum(__m256 v) {
  __m128 b = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  b = _mm_add_ps(b, _mm_movehl_ps(b, b));
  return _mm_cvtss_f32(_mm_add_ss(b, _mm_movehdup_ps(b)));
}

void rms_norm(const float* x, const float* w, float* y, int64_t n, float eps) {
  // The sum of squares in double, as the reference (thousands of terms lose digits in f32).
  __m256d s0 = _mm256_setzero_pd(), s1 = _mm256_setzero_pd();
  for (int64_t i = 0; i < n; i += 8) {
    const __m256 v = load(x + i, lanes_below(n - i));
    const __m256d lo = _mm256_cvtps_pd(_mm256_castps256_ps128(v));
    const __m256d hi = _mm256_cvtps_pd(_mm256_extractf128_ps(v, 1));
    s0 = _mm256_fmadd_pd(lo, lo, s0);
    s1 = _mm256_fmadd_pd(hi, hi, s1);
  }
  const __m256d s = _mm256_add_pd(s0, s1);
  const __m128d h = _mm_add_pd(_mm256_castpd256_pd128(s), _mm256_extractf128_pd(s, 1));
  const double sum = _mm_cvtsd_f64(_mm_add_sd(h, _mm_unpackhi_pd(h, h)));
  const __m256 scale = _mm256_set1_ps(1.0f / std::sqrt(static_cast<float>(sum / n) + eps));
  for (int64_t i = 0; i < n; i += 8) {
    const __m256i m = lanes_below(n - i);
    __m256 v = _mm256_mul_ps(load(x + i, m), scale);
    if (w) v = _mm256_mul_ps(v, load(w + i, m));
    store(y + i, m, v);
  }
}

void swiglu(const float* gate, const float* up, float* out, int64_t n) {
  const __m256 one = _mm256_set1_ps(1.0f);
  for (int64_t i = 0; i < n; i += 8) {
    const __m256i m = lanes_below(n - i);
    const __m256 g = load(gate + i, m);
    const __m256 silu = _mm256_div_ps(g, _mm256_add_ps(one, exp_ps(_mm256_sub_ps(_mm256_setzero_ps(), g))));
    store(out + i, m, _mm256_mul_ps(silu, load(up + i, m)));
  }
}

void softmax(float* x, int64_t n) {
  __m256 mx = _mm256_set1_ps(-INFINITY);
  for (int64_t i = 0; i < n; i += 8) {
    const __m256i m = lanes_below(n - i);
    // Lanes past the end keep -inf (blend), so they never win the maximum.
    mx = _mm256_max_ps(mx, _mm256_blendv_ps(_mm256_set1_ps(-INFINITY), load(x + i, m), _mm256_castsi256_ps(m)));
  }
  __m128 h = _mm_max_ps(_mm256_castps256_ps128(mx), _mm256_extractf128_ps(mx, 1));
  h = _mm_max_ps(h, _mm_movehl_ps(h, h));
  const __m256 vmax = _mm256_set1_ps(_mm_cvtss_f32(_mm_max_ss(h, _mm_movehdup_ps(h))));
  __m256 sum = _mm256_setzero_ps();
  for (int64_t i = 0; i < n; i += 8) {
    const __m256i m = lanes_below(n - i);
    const __m256 e = _mm256_and_ps(exp_ps(_mm256_sub_ps(load(x + i, m), vmax)), _mm256_castsi256_ps(m));
    store(x + i, m, e);
    sum = _mm256_add_ps(sum, e);
  }
  const __m256 inv = _mm256_set1_ps(static_cast<float>(1.0 / hsum(sum)));
  for (int64_t i = 0; i < n; i += 8) {
    const __m256i m = lanes_below(n - i);
    store(x + i, m, _mm256_mul_ps(load(x + i, m), inv));
  }
}

float dot_f32(const float* a, const float* b, int64_t n) {
  // Four accumulators hide the FMA latency.
  __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps(), s2 = _mm256_setzero_ps(), s3 = _mm256_setzero_ps();
  int64_t i = 0;
  for (; i + 32 <= n; i += 32) {
    s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), s0);
    s1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(b + i + 8), s1);
    s2 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 16), _mm256_loadu_ps(b + i + 16), s2);
    s3 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 24), _mm256_loadu_ps(b + i + 24), s3);
  }
  for (; i < n; i += 8) {
    const __m256i m = lanes_below(n - i);
    s0 = _mm256_fmadd_ps(load(a + i, m), load(b + i, m), s0);
  }
  return hsum(_mm256_add_ps(_mm256_add_ps(s0, s1), _mm256_add_ps(s2, s3)));
}

void axpy_f32(float a, const float* x, float* y, int64_t n) {
  const __m256 va = _mm256_set1_ps(a);
  for (int64_t i = 0; i < n; i += 8) {
    const __m256i m = lanes_below(n - i);
    store(y + i, m, _mm256_fmadd_ps(va, load(x + i, m), load(y + i, m)));
  }
}

void scale_f32(const float* x, float s, float* y, int64_t n) {
  const __m256 vs = _mm256_set1_ps(s);
  for (int64_t i = 0; i < n; i += 8) {
    const __m256i m = lanes_below(n - i);
    store(y + i, m, _mm256_mul_ps(load(x + i, m), vs));
  }
}

void add_f32(const float* a, const float* b, float* y, int64_t n) {
  for (int64_t i = 0; i < n; i += 8) {
    const __m256i m = lanes_below(n - i);
    store(y + i, m, _mm256_add_ps(load(a + i, m), load(b + i, m)));
  }
}

}  // namespace

void register_f32_ops(KernelTable& t) {
  t.rms_norm = rms_norm;
  t.swiglu = swiglu;
  t.softmax = softmax;
  t.dot_f32 = dot_f32;
  t.axpy_f32 = axpy_f32;
  t.scale_f32 = scale_f32;
  t.add_f32 = add_f32;
}

}  // namespace corral::kernels::avx2

#pragma GCC pop_options
