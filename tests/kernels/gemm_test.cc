// gemm for every weight type at every ISA level, against f64 references: one computed from the
// dequantized weights and activations (what the kernel's exact integer sums must reproduce)
// and one from the original floats (bounded by the formats' quantization error).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>

#include "kernel_test_util.h"

namespace corral::kernels::testing {
namespace {

// Relative tolerance against sum(|w * x|) for the kernel versus the reference built from the
// same encoded operands. Integer block sums are exact; what remains is f32 rounding of the
// scale products and of one addition per block: (3 + k / 32) * 2^-24 < 2e-6 for k <= 1024.
constexpr double kEncodedTolerance = 1e-5;

// A weight matrix and activations in their encodings, rows padded apart so the kernel must
// honour the strides.
struct Operands {
  DType type;
  int64_t m, n, k;
  size_t w_stride, x_stride;
  std::vector<float> w_f32, x_f32;  // [m][k], [n][k] originals
  std::vector<uint8_t> w, x;        // [m][w_stride], [n][x_stride] encoded
  std::vector<float> w_dec, x_dec;  // [m][k], [n][k] decoded encodings
};

constexpr size_t kRowPadding = 64;  // bytes between encoded rows beyond their length

Operands make_operands(DType type, int64_t m, int64_t n, int64_t k, uint32_t seed) {
  const KernelTable& generic = kernel_table(IsaLevel::kGeneric);
  const DType at = activation_type(type);
  Operands o{type,
             m,
             n,
             k,
             dtype_row_bytes(type, k) + kRowPadding,
             dtype_row_bytes(at, k) + kRowPadding,
             normal_values(m * k, seed),
             normal_values(n * k, seed + 1),
             {},
             {},
             {},
             {}};
  auto fill = [&](DType t, const std::vector<float>& src, int64_t rows, size_t stride, std::vector<uint8_t>& enc,
                  std::vector<float>& dec) {
    enc.assign(rows * stride, 0xAB);
    dec.resize(rows * k);
    for (int64_t r = 0; r < rows; ++r) {
      generic.quantize_row[id(t)](src.data() + r * k, enc.data() + r * stride, k);
      generic.dequantize_row[id(t)](enc.data() + r * stride, dec.data() + r * k, k);
    }
  };
  fill(type, o.w_f32, m, o.w_stride, o.w, o.w_dec);
  fill(at, o.x_f32, n, o.x_stride, o.x, o.x_dec);
  return o;
}

struct Reference {
  std::vector<double> encoded;    // [n][m] from the decoded operands
  std::vector<double> magnitude;  // [n][m] sum |w * x| over the decoded operands
  std::vector<double> original;   // [n][m] from the original floats
};

Reference reference(const Operands& o) {
  Reference r;
  for (int64_t j = 0; j < o.n; ++j) {
    for (int64_t i = 0; i < o.m; ++i) {
      double enc = q8_1_sum_correction(o.type, o.w.data() + i * o.w_stride, o.x.data() + j * o.x_stride, o.k);
      double mag = std::fabs(enc), orig = 0;
      for (int64_t c = 0; c < o.k; ++c) {
        const double p = static_cast<double>(o.w_dec[i * o.k + c]) * o.x_dec[j * o.k + c];
        enc += p;
        mag += std::fabs(p);
        orig += static_cast<double>(o.w_f32[i * o.k + c]) * o.x_f32[j * o.k + c];
      }
      r.encoded.push_back(enc);
      r.magnitude.push_back(mag);
      r.original.push_back(orig);
    }
  }
  return r;
}

// Runs the level's gemm into y with ldy = m + 3; the gaps must stay untouched.
std::vector<float> run_gemm(const KernelTable& table, const Operands& o) {
  const int64_t ldy = o.m + 3;
  std::vector<float> y(o.n * ldy, -7.0f);
  table.gemm[id(o.type)](o.k, o.w.data(), o.w_stride, o.m, o.x.data(), o.x_stride, o.n, y.data(), ldy);
  std::vector<float> out;  // [n][m]
  for (int64_t j = 0; j < o.n; ++j) {
    for (int64_t i = 0; i < ldy; ++i) {
      if (i < o.m) {
        out.push_back(y[j * ldy + i]);
      } else {
        EXPECT_EQ(y[j * ldy + i], -7.0f) << "wrote past m at row " << j;
      }
    }
  }
  return out;
}

// Reduction lengths to try: one unit, three units and about a thousand elements, where a unit
// is the largest block of the weight and activation encodings; odd lengths for plain floats.
std::vector<int64_t> lengths_for(DType t) {
  const int64_t unit = std::max(dtype_block_size(t), dtype_block_size(activation_type(t)));
  if (unit == 1) return {1, 7, 300};
  return {unit, 3 * unit, std::max<int64_t>(4 * unit, 1024)};
}

class GemmTest : public ::testing::TestWithParam<DType> {};

TEST_P(GemmTest, MatchesReferenceOnEncodedOperandsAtEveryLevel) {
  const DType t = GetParam();
  for (int64_t k : lengths_for(t)) {
    SCOPED_TRACE(k);
    const Operands o = make_operands(t, 5, 3, k, static_cast<uint32_t>(k));
    const Reference ref = reference(o);
    const std::vector<float> generic = run_gemm(kernel_table(IsaLevel::kGeneric), o);
    for (IsaLevel level : supported_levels()) {
      SCOPED_TRACE(isa_name(level));
      const std::vector<float> y = run_gemm(kernel_table(level), o);
      for (size_t e = 0; e < y.size(); ++e) {
        EXPECT_NEAR(y[e], ref.encoded[e], kEncodedTolerance * ref.magnitude[e]) << e;
        EXPECT_NEAR(y[e], generic[e], kEncodedTolerance * ref.magnitude[e]) << e;
      }
    }
  }
}

// Against the original floats the error is the formats' quantization error: for independent
// N(0, 1) data the output's relative RMS error is about sqrt(e_w^2 + e_x^2), e the round-trip
// errors of weight and activation encodings; 2x their bounds leaves room for the sampling
// noise of 64 outputs.
TEST_P(GemmTest, TracksTheUnquantizedProduct) {
  const DType t = GetParam();
  const Operands o = make_operands(t, 16, 4, 1024, 77);
  const Reference ref = reference(o);
  const double eps_w = round_trip_bound(t), eps_x = round_trip_bound(activation_type(t));
  const double bound = 2 * std::sqrt(eps_w * eps_w + eps_x * eps_x) + 1e-6;
  for (IsaLevel level : supported_levels()) {
    SCOPED_TRACE(isa_name(level));
    const std::vector<float> y = run_gemm(kernel_table(level), o);
    double err = 0, sig = 0;
    for (size_t e = 0; e < y.size(); ++e) {
      err += (y[e] - ref.original[e]) * (y[e] - ref.original[e]);
      sig += ref.original[e] * ref.original[e];
    }
    EXPECT_LE(std::sqrt(err / sig), bound);
  }
}

// The contract matmul's determinism rests on: an output depends only on its weight row and
// activation row, so one call over m x n gives the same bits as a call per element.
TEST_P(GemmTest, OutputsDependOnlyOnTheirRows) {
  const DType t = GetParam();
  const Operands o = make_operands(t, 19, 9, lengths_for(t)[1], 21);
  for (IsaLevel level : supported_levels()) {
    SCOPED_TRACE(isa_name(level));
    const GemmFn gemm = kernel_table(level).gemm[id(t)];
    const std::vector<float> whole = run_gemm(kernel_table(level), o);
    for (int64_t j = 0; j < o.n; ++j) {
      for (int64_t i = 0; i < o.m; ++i) {
        float y = 0;
        gemm(o.k, o.w.data() + i * o.w_stride, o.w_stride, 1, o.x.data() + j * o.x_stride, o.x_stride, 1, &y, 1);
        ASSERT_EQ(std::memcmp(&y, &whole[j * o.m + i], sizeof y), 0) << "i=" << i << " j=" << j;
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(WeightTypes, GemmTest, ::testing::ValuesIn(weight_types()), type_param_name);

}  // namespace
}  // namespace corral::kernels::testing
