// Edge cases of the SIMD kernels for the float types and the 32-element quants, at every ISA
// level: every tile and remainder shape of gemm (activation rows 1..17, weight rows around the
// 16-row panels, one block, blocks past a gather chunk), quantizers byte-identical to generic
// on adversarial values, decoders bit-identical to generic, and f32 ops at extreme inputs.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>

#include "kernel_test_util.h"

namespace corral::kernels::testing {
namespace {

const DType kLegacyWeights[] = {DType::kF32,  DType::kF16,  DType::kBF16, DType::kQ4_0,
                                DType::kQ4_1, DType::kQ5_0, DType::kQ5_1, DType::kQ8_0};

// Encoded rows of `t` from N(0, 1) values, `stride` bytes apart (padding filled with 0xAB).
std::vector<uint8_t> encoded_rows(DType t, int64_t rows, int64_t k, size_t stride, uint32_t seed) {
  const KernelTable& generic = kernel_table(IsaLevel::kGeneric);
  const std::vector<float> v = normal_values(rows * k, seed);
  std::vector<uint8_t> out(rows * stride, 0xAB);
  for (int64_t r = 0; r < rows; ++r) generic.quantize_row[id(t)](v.data() + r * k, out.data() + r * stride, k);
  return out;
}

// Every shape a kernel splits differently: each output must equal the same output computed
// alone (one weight row, one activation row), bit for bit, and generic's within f32 rounding.
TEST(LegacySimdGemm, EveryTileShapeGivesTheSameBits) {
  for (DType t : kLegacyWeights) {
    SCOPED_TRACE(dtype_name(t));
    const DType at = activation_type(t);
    const bool is_float = at == DType::kF32;
    // One block; a few; past the 32-block chunks the AVX-512 quant kernel gathers scales in.
    const std::vector<int64_t> ks = is_float ? std::vector<int64_t>{1, 17, 48} : std::vector<int64_t>{32, 96, 33 * 32};
    for (int64_t k : ks) {
      const int64_t max_m = 33, max_n = 17;
      const size_t w_stride = dtype_row_bytes(t, k) + 16, x_stride = dtype_row_bytes(at, k) + 48;
      const std::vector<uint8_t> w = encoded_rows(t, max_m, k, w_stride, static_cast<uint32_t>(k));
      const std::vector<uint8_t> x = encoded_rows(at, max_n, k, x_stride, static_cast<uint32_t>(k + 1));
      const GemmFn reference = kernel_table(IsaLevel::kGeneric).gemm[id(t)];
      for (IsaLevel level : supported_levels()) {
        SCOPED_TRACE(isa_name(level));
        const GemmFn gemm = kernel_table(level).gemm[id(t)];
        // alone[j][i]: one weight row against one activation row.
        std::vector<float> alone(max_n * max_m), ref(max_n * max_m);
        for (int64_t j = 0; j < max_n; ++j) {
          for (int64_t i = 0; i < max_m; ++i) {
            gemm(k, w.data() + i * w_stride, w_stride, 1, x.data() + j * x_stride, x_stride, 1, &alone[j * max_m + i],
                 1);
          }
        }
        reference(k, w.data(), w_stride, max_m, x.data(), x_stride, max_n, ref.data(), max_m);
        // No activation rows, or no weight rows: nothing is written.
        std::vector<float> untouched(max_n * max_m, -1.0f);
        gemm(k, w.data(), w_stride, max_m, x.data(), x_stride, 0, untouched.data(), max_m);
        gemm(k, w.data(), w_stride, 0, x.data(), x_stride, max_n, untouched.data(), max_m);
        ASSERT_EQ(untouched, std::vector<float>(max_n * max_m, -1.0f));
        for (int64_t m : {1, 5, 15, 16, 17, 33}) {
          for (int64_t n = 1; n <= max_n; ++n) {
            SCOPED_TRACE(::testing::Message() << "k=" << k << " m=" << m << " n=" << n);
            const int64_t ldy = m + 1;
            std::vector<float> y(n * ldy, -1.0f);
            gemm(k, w.data(), w_stride, m, x.data(), x_stride, n, y.data(), ldy);
            for (int64_t j = 0; j < n; ++j) {
              ASSERT_EQ(y[j * ldy + m], -1.0f) << "wrote past m";
              for (int64_t i = 0; i < m; ++i) {
                const float got = y[j * ldy + i], want = alone[j * max_m + i];
                ASSERT_EQ(std::memcmp(&got, &want, sizeof got), 0) << "i=" << i << " j=" << j;
                // About sqrt(k) * 2^-24 relative for N(0, 1) data; generous.
                ASSERT_NEAR(got, ref[j * max_m + i], 1e-4 * (1 + std::fabs(ref[j * max_m + i])));
              }
            }
          }
        }
      }
    }
  }
}

// Values that stress the activation quantizers' rounding: ties after scaling, a wide range of
// magnitudes, subnormals, signed zeros, constant blocks, an extreme value of either sign.
std::vector<float> adversarial_values(int64_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> kind(0, 7), code(-127, 127), exponent(-40, 40);
  std::normal_distribution<float> normal;
  std::vector<float> v(n);
  for (int64_t b = 0; b < n / 32; ++b) {
    const int k = kind(rng);
    const float scale = std::ldexp(1.0f, exponent(rng));
    for (int j = 0; j < 32; ++j) {
      float& x = v[b * 32 + j];
      switch (k) {
        case 0: x = (code(rng) + 0.5f) * scale; break;                     // ties once amax maps to 127
        case 1: x = code(rng) * scale; break;                              // exact codes
        case 2: x = normal(rng) * std::ldexp(1.0f, exponent(rng)); break;  // mixed magnitudes
        case 3: x = normal(rng) * 1e-39f; break;                           // subnormal
        case 4: x = j % 2 ? 0.0f : -0.0f; break;                           // signed zeros
        case 5: x = 3.25f * scale; break;                                  // constant block
        case 6: x = j == 7 ? -1e30f : normal(rng); break;                  // one extreme value
        default: x = normal(rng) * scale; break;
      }
    }
    if (k == 0) v[b * 32 + 3] = 127.0f * scale;  // amax 127 * scale: d = scale, ties exact
  }
  return v;
}

TEST(LegacySimdQuantize, ActivationsAreByteIdenticalToGeneric) {
  const int64_t n = 32 * 512;
  const std::vector<float> x = adversarial_values(n, 11);
  for (DType t : {DType::kQ8_0, DType::kQ8_1}) {
    SCOPED_TRACE(dtype_name(t));
    const std::vector<uint8_t> want = encode(kernel_table(IsaLevel::kGeneric), t, x);
    for (IsaLevel level : supported_levels()) {
      SCOPED_TRACE(isa_name(level));
      const std::vector<uint8_t> got = encode(kernel_table(level), t, x);
      const size_t block = dtype_traits(t).type_size;
      for (size_t b = 0; b < want.size() / block; ++b) {
        ASSERT_EQ(std::memcmp(got.data() + b * block, want.data() + b * block, block), 0) << "block " << b;
      }
    }
  }
}

// Random encodings (every code pattern; finite f16 scales) decode to generic's exact bits.
TEST(LegacySimdDequantize, BitIdenticalToGeneric) {
  const int64_t n = 32 * 64;
  for (DType t : {DType::kF16, DType::kBF16, DType::kQ4_0, DType::kQ4_1, DType::kQ5_0, DType::kQ5_1, DType::kQ8_0,
                  DType::kQ8_1}) {
    SCOPED_TRACE(dtype_name(t));
    std::mt19937 rng(static_cast<uint32_t>(id(t)));
    std::vector<uint8_t> bytes(dtype_row_bytes(t, n));
    for (uint8_t& b : bytes) b = static_cast<uint8_t>(rng());
    if (t == DType::kF16 || t == DType::kBF16) {
      // Clear exponent bit 14 of every value: no Inf or NaN, whose payload conversions differ.
      for (size_t i = 1; i < bytes.size(); i += 2) bytes[i] &= 0xBF;
    } else {
      // The f16 fields (d, and m or s) start every block: keep them finite the same way.
      const size_t block = dtype_traits(t).type_size;
      const size_t halves = (t == DType::kQ4_0 || t == DType::kQ5_0 || t == DType::kQ8_0) ? 1 : 2;
      for (size_t b = 0; b < bytes.size(); b += block) {
        for (size_t h = 0; h < halves; ++h) bytes[b + 2 * h + 1] &= 0xBF;
      }
    }
    const std::vector<float> want = decode(kernel_table(IsaLevel::kGeneric), t, bytes.data(), n);
    for (IsaLevel level : supported_levels()) {
      SCOPED_TRACE(isa_name(level));
      const std::vector<float> got = decode(kernel_table(level), t, bytes.data(), n);
      ASSERT_EQ(std::memcmp(got.data(), want.data(), n * sizeof(float)), 0);
    }
  }
}

// Every tail length, and inputs where exp over- or underflows: the SIMD ops follow generic.
TEST(LegacySimdF32Ops, TailsAndExtremesFollowGeneric) {
  const KernelTable& generic = kernel_table(IsaLevel::kGeneric);
  auto close = [](float got, float want) {
    return std::fabs(got - want) <= 2e-6 * std::fabs(want) + 1e-30 || (std::isnan(got) && std::isnan(want));
  };
  for (int64_t n = 1; n <= 40; ++n) {
    SCOPED_TRACE(n);
    std::vector<float> a = normal_values(n, 20 + static_cast<uint32_t>(n), 30.0f);
    const std::vector<float> b = normal_values(n, 60 + static_cast<uint32_t>(n));
    a[0] = n % 2 ? 95.0f : -110.0f;  // e^-x overflows / e^x underflows to 0
    for (IsaLevel level : supported_levels()) {
      SCOPED_TRACE(isa_name(level));
      const KernelTable& t = kernel_table(level);
      std::vector<float> got(n), want(n);
      t.swiglu(a.data(), b.data(), got.data(), n);
      generic.swiglu(a.data(), b.data(), want.data(), n);
      for (int64_t i = 0; i < n; ++i) ASSERT_TRUE(close(got[i], want[i])) << i << ": " << got[i] << " vs " << want[i];
      got = a;
      want = a;
      got[n - 1] = want[n - 1] = -std::numeric_limits<float>::infinity();
      t.softmax(got.data(), n);
      generic.softmax(want.data(), n);
      for (int64_t i = 0; i < n; ++i) ASSERT_TRUE(close(got[i], want[i])) << i << ": " << got[i] << " vs " << want[i];
      t.rms_norm(a.data(), b.data(), got.data(), n, 1e-6f);
      generic.rms_norm(a.data(), b.data(), want.data(), n, 1e-6f);
      for (int64_t i = 0; i < n; ++i) ASSERT_TRUE(close(got[i], want[i])) << i;
      double mag = 0;
      for (int64_t i = 0; i < n; ++i) mag += std::fabs(static_cast<double>(a[i]) * b[i]);
      EXPECT_NEAR(t.dot_f32(a.data(), b.data(), n), generic.dot_f32(a.data(), b.data(), n), 1e-6 * mag);
      got = b;
      want = b;
      t.axpy_f32(-0.5f, a.data(), got.data(), n);
      generic.axpy_f32(-0.5f, a.data(), want.data(), n);
      // One fused rounding against two: within an ulp of the larger term.
      for (int64_t i = 0; i < n; ++i) ASSERT_NEAR(got[i], want[i], 2e-7 * (std::fabs(a[i]) + std::fabs(b[i]))) << i;
      t.scale_f32(a.data(), 3.0f, got.data(), n);
      generic.scale_f32(a.data(), 3.0f, want.data(), n);
      ASSERT_EQ(got, want);
      t.add_f32(a.data(), b.data(), got.data(), n);
      generic.add_f32(a.data(), b.data(), want.data(), n);
      ASSERT_EQ(got, want);
    }
  }
}

}  // namespace
}  // namespace corral::kernels::testing
