// Edge cases of the SIMD kernels of the 4-bit lookup-table formats (IQ4_NL, MXFP4, IQ4_XS) at
// every ISA level this CPU runs, against the scalar reference: weight blocks of arbitrary bytes
// (every code, every IQ4_XS sub-block scale, scales of both signs, MXFP4 exponents over a wide
// range), activations over the whole code range, every remainder of the activation-row groups
// (4 rows for avx2, 8 for avx512) and of the weight-row panels (IQ4_NL and MXFP4 run in the
// 32-element quants' 8- and 16-row panels), odd block counts (avx512's IQ4_XS works on pairs
// of sub-blocks), rows longer than a scale-gathering chunk, and bit-identical outputs however
// the rows are split between calls.
//
// Activation codes stay in [-127, 127]: the Q8_0 and Q8_K quantizers never emit -128 (they map
// a block's largest magnitude to +-127), and the avx2 kernels rely on that (vpsignb cannot
// negate -128).
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

#include "kernel_test_util.h"

namespace corral::kernels::testing {
namespace {

const DType kLut4[] = {DType::kIQ4_NL, DType::kMXFP4, DType::kIQ4_XS};

// rows x k weights of `fill(rng)` bytes, except the scales: f16 d of either sign with magnitude
// in [2^-8, 2^-4] (IQ4_NL, IQ4_XS), or an E8M0 exponent in [100, 140] (MXFP4: scales 2^-28 to
// 2^12), so every dot stays finite.
template <class Fill>
std::vector<uint8_t> raw_weights(DType t, int64_t rows, int64_t k, uint32_t seed, Fill fill) {
  std::mt19937 rng(seed);
  std::vector<uint8_t> bytes(dtype_row_bytes(t, k) * rows);
  for (uint8_t& b : bytes) b = fill(rng);
  const size_t block = dtype_traits(t).type_size;
  std::uniform_real_distribution<float> magnitude(1.0f / 256, 1.0f / 16);
  std::uniform_int_distribution<int> exponent(100, 140);
  for (size_t at = 0; at < bytes.size(); at += block) {
    if (t == DType::kMXFP4) {
      bytes[at] = static_cast<uint8_t>(exponent(rng));
    } else {
      const uint16_t h = f32_to_fp16(rng() % 2 ? magnitude(rng) : -magnitude(rng));
      std::memcpy(&bytes[at], &h, sizeof h);  // d is the first field of both IQ4 blocks
    }
  }
  return bytes;
}

// rows x k activations in `at` (Q8_0 or Q8_K) with codes `code(rng)`, scales in [2^-7, 2^-5]
// and, for Q8_K, consistent bsums.
template <class Code>
std::vector<uint8_t> raw_activations(DType at, int64_t rows, int64_t k, uint32_t seed, Code code) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> scale(1.0f / 128, 1.0f / 32);
  std::vector<uint8_t> bytes(dtype_row_bytes(at, k) * rows);
  if (at == DType::kQ8_0) {
    auto* blocks = reinterpret_cast<BlockQ8_0*>(bytes.data());
    for (int64_t b = 0; b < rows * k / 32; ++b) {
      blocks[b].d = f32_to_fp16(scale(rng));
      for (int8_t& q : blocks[b].qs) q = static_cast<int8_t>(code(rng));
    }
  } else {
    auto* blocks = reinterpret_cast<BlockQ8_K*>(bytes.data());
    for (int64_t b = 0; b < rows * k / kQK_K; ++b) {
      blocks[b].d = scale(rng);
      for (int g = 0; g < kQK_K / 16; ++g) {
        int sum = 0;
        for (int e = 16 * g; e < 16 * (g + 1); ++e) {
          blocks[b].qs[e] = static_cast<int8_t>(code(rng));
          sum += blocks[b].qs[e];
        }
        blocks[b].bsums[g] = static_cast<int16_t>(sum);
      }
    }
  }
  return bytes;
}

uint8_t any_byte(std::mt19937& rng) { return static_cast<uint8_t>(rng()); }
int any_code(std::mt19937& rng) { return static_cast<int>(rng() % 255) - 127; }

// gemm at every level against the reference on m x n outputs: within f32 rounding of
// sum |w * x| (integer sums are exact at every level; the levels add the block or super-block
// terms in different orders, about k / 32 roundings of 2^-24 each).
void expect_matches_reference(DType t, const std::vector<uint8_t>& w, const std::vector<uint8_t>& x, int64_t m,
                              int64_t n, int64_t k) {
  const DType at = activation_type(t);
  const KernelTable& generic = kernel_table(IsaLevel::kGeneric);
  const size_t w_stride = dtype_row_bytes(t, k), x_stride = dtype_row_bytes(at, k);
  const std::vector<float> w_dec = decode(generic, t, w.data(), m * k);
  const std::vector<float> x_dec = decode(generic, at, x.data(), n * k);
  std::vector<float> want(m * n);
  generic.gemm[id(t)](k, w.data(), w_stride, m, x.data(), x_stride, n, want.data(), m);
  for (IsaLevel level : supported_levels()) {
    SCOPED_TRACE(isa_name(level));
    std::vector<float> got(m * n, std::numeric_limits<float>::quiet_NaN());
    kernel_table(level).gemm[id(t)](k, w.data(), w_stride, m, x.data(), x_stride, n, got.data(), m);
    for (int64_t j = 0; j < n; ++j) {
      for (int64_t i = 0; i < m; ++i) {
        double magnitude = 0;
        for (int64_t c = 0; c < k; ++c) magnitude += std::fabs(double{w_dec[i * k + c]} * x_dec[j * k + c]);
        ASSERT_NEAR(got[j * m + i], want[j * m + i], 1e-5 * magnitude + 1e-30) << "i=" << i << " j=" << j;
      }
    }
  }
}

// Reduction lengths: one block, an odd number of blocks, and more; IQ4_XS: 1 and 3 super-blocks.
std::vector<int64_t> lengths(DType t) {
  if (t == DType::kIQ4_XS) return {256, 768};
  return {32, 96, 33 * 32};
}

class Lut4SimdTest : public ::testing::TestWithParam<DType> {};

TEST_P(Lut4SimdTest, EveryRowCountAndRemainder) {
  const DType t = GetParam();
  for (int64_t k : lengths(t)) {
    for (int64_t m : {1, 3, 17}) {
      const std::vector<uint8_t> w = raw_weights(t, m, k, static_cast<uint32_t>(k + m), any_byte);
      for (int64_t n = 1; n <= 17; ++n) {
        SCOPED_TRACE(::testing::Message() << "k=" << k << " m=" << m << " n=" << n);
        expect_matches_reference(t, w, raw_activations(activation_type(t), n, k, static_cast<uint32_t>(n), any_code), m,
                                 n, k);
      }
    }
  }
}

TEST_P(Lut4SimdTest, LongRows) {
  const DType t = GetParam();
  const int64_t k = t == DType::kIQ4_XS ? 36 * kQK_K : 289 * 32;  // an odd block count
  const std::vector<uint8_t> w = raw_weights(t, 5, k, 1, any_byte);
  for (int64_t n : {1, 9, 20}) {
    SCOPED_TRACE(n);
    expect_matches_reference(t, w, raw_activations(activation_type(t), n, k, 2, any_code), 5, n, k);
  }
}

// Uniform bytes put every code at one table entry (0x00: the most negative IQ4 value -127,
// 0xFF: MXFP4's -12 / IQ4's 113, 0x77: MXFP4's 12) and IQ4_XS sub-block scales at their ends
// (ls 0 -> -32, 63 -> 31), against activations all +127 or -127: the largest sums a lane holds.
TEST_P(Lut4SimdTest, ExtremeCodesAndScales) {
  const DType t = GetParam();
  const int64_t k = t == DType::kIQ4_XS ? 512 : 96, m = 3, n = 3;
  for (int pattern : {0x00, 0xFF, 0x77, 0x88, 0x55, 0xAA}) {
    const std::vector<uint8_t> w =
        raw_weights(t, m, k, 3, [&](std::mt19937&) { return static_cast<uint8_t>(pattern); });
    for (int code : {127, -127, 0}) {
      SCOPED_TRACE(::testing::Message() << "pattern=" << pattern << " code=" << code);
      expect_matches_reference(t, w, raw_activations(activation_type(t), n, k, 4, [&](std::mt19937&) { return code; }),
                               m, n, k);
    }
  }
}

// An output depends only on its two rows: one call over 19 x 33 gives the same bits as calls
// over every other grouping, down to one weight row and one activation row per call.
TEST_P(Lut4SimdTest, GroupingDoesNotChangeBits) {
  const DType t = GetParam();
  const DType at = activation_type(t);
  const int64_t m = 19, n = 33, k = t == DType::kIQ4_XS ? 768 : 160;
  const size_t w_stride = dtype_row_bytes(t, k), x_stride = dtype_row_bytes(at, k);
  const std::vector<uint8_t> w = raw_weights(t, m, k, 5, any_byte);
  const std::vector<uint8_t> x = raw_activations(at, n, k, 6, any_code);
  for (IsaLevel level : supported_levels()) {
    SCOPED_TRACE(isa_name(level));
    const GemmFn gemm = kernel_table(level).gemm[id(t)];
    std::vector<float> whole(m * n);
    gemm(k, w.data(), w_stride, m, x.data(), x_stride, n, whole.data(), m);
    for (int64_t group : {1, 5, 7}) {
      std::vector<float> split(m * n);
      for (int64_t j0 = 0; j0 < n; j0 += group) {
        for (int64_t i0 = 0; i0 < m; i0 += group) {
          gemm(k, w.data() + i0 * w_stride, w_stride, std::min(group, m - i0), x.data() + j0 * x_stride, x_stride,
               std::min(group, n - j0), split.data() + j0 * m + i0, m);
        }
      }
      ASSERT_EQ(std::memcmp(split.data(), whole.data(), whole.size() * sizeof(float)), 0) << "groups of " << group;
    }
  }
}

// dequantize_row (embedding lookups, get_row) gives the reference's bits at every level.
TEST_P(Lut4SimdTest, DequantizeIsBitIdentical) {
  const DType t = GetParam();
  const int64_t k = 1024;
  const std::vector<uint8_t> w = raw_weights(t, 1, k, 7, any_byte);
  const std::vector<float> want = decode(kernel_table(IsaLevel::kGeneric), t, w.data(), k);
  for (IsaLevel level : supported_levels()) {
    SCOPED_TRACE(isa_name(level));
    const std::vector<float> got = decode(kernel_table(level), t, w.data(), k);
    ASSERT_EQ(std::memcmp(got.data(), want.data(), k * sizeof(float)), 0);
  }
}

INSTANTIATE_TEST_SUITE_P(Lut4, Lut4SimdTest, ::testing::ValuesIn(kLut4), type_param_name);

}  // namespace
}  // namespace corral::kernels::testing
