// Edge cases for the SIMD K-quant kernels (x86/avx2, x86/avx512), at every level this CPU runs,
// against the scalar reference: every remainder of the activation-row and weight-row tiling,
// one and three super-blocks and k long enough to be walked in chunks, weight blocks made of
// arbitrary bytes (every code, scale and min pattern, including the extremes that would
// overflow 16-bit intermediate sums if a kernel's bounds were wrong), bit-identical outputs
// however rows are grouped, and Q8_K encodings of awkward inputs.
#include <gtest/gtest.h>

#include <cmath>
#include <cstddef>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

#include "kernel_test_util.h"
#include "kernels/generic/k_quant_layout.h"
#include "kernels/x86/kquant_common.h"

namespace corral::kernels::testing {
namespace {

const DType kKQuants[] = {DType::kQ2_K, DType::kQ3_K, DType::kQ4_K, DType::kQ5_K, DType::kQ6_K};

// Byte offsets of a block's f16 scales (d, and dmin where the type has one).
std::vector<size_t> f16_fields(DType t) {
  switch (t) {
    case DType::kQ2_K: return {offsetof(BlockQ2_K, d), offsetof(BlockQ2_K, dmin)};
    case DType::kQ3_K: return {offsetof(BlockQ3_K, d)};
    case DType::kQ4_K: return {offsetof(BlockQ4_K, d), offsetof(BlockQ4_K, dmin)};
    case DType::kQ5_K: return {offsetof(BlockQ5_K, d), offsetof(BlockQ5_K, dmin)};
    default: return {offsetof(BlockQ6_K, d)};
  }
}

// rows x k weights whose blocks are `fill(rng)` bytes, except the f16 scales, which are set to
// values between 2^-8 and 2^-4 so results stay finite and comparable.
template <class Fill>
std::vector<uint8_t> raw_weights(DType t, int64_t rows, int64_t k, uint32_t seed, Fill fill) {
  std::mt19937 rng(seed);
  std::vector<uint8_t> bytes(dtype_row_bytes(t, k) * rows);
  for (uint8_t& b : bytes) b = fill(rng);
  const size_t block = dtype_traits(t).type_size;
  std::uniform_real_distribution<float> scale(1.0f / 256, 1.0f / 16);
  for (size_t at = 0; at < bytes.size(); at += block) {
    for (size_t field : f16_fields(t)) {
      const uint16_t h = f32_to_fp16(scale(rng));
      std::memcpy(&bytes[at + field], &h, sizeof h);
    }
  }
  return bytes;
}

// rows x k Q8_K activations whose codes are `code(rng)` (any int8, -128 included), with
// consistent bsums and d between 2^-7 and 2^-5.
template <class Code>
std::vector<uint8_t> raw_activations(int64_t rows, int64_t k, uint32_t seed, Code code) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> scale(1.0f / 128, 1.0f / 32);
  std::vector<uint8_t> bytes(dtype_row_bytes(DType::kQ8_K, k) * rows);
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
  return bytes;
}

// Checks gemm at every level against the reference on m x n outputs: the difference must stay
// within f32 rounding of sum |w * x| (integer sums are exact at every level).
void expect_matches_reference(DType t, const std::vector<uint8_t>& w, const std::vector<uint8_t>& x, int64_t m,
                              int64_t n, int64_t k) {
  const KernelTable& generic = kernel_table(IsaLevel::kGeneric);
  const size_t w_stride = dtype_row_bytes(t, k), x_stride = dtype_row_bytes(DType::kQ8_K, k);
  const std::vector<float> w_dec = decode(generic, t, w.data(), m * k);
  const std::vector<float> x_dec = decode(generic, DType::kQ8_K, x.data(), n * k);
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

class KQuantSimdTest : public ::testing::TestWithParam<DType> {};

// n = 1..17 crosses every remainder of the 16- (avx512) and 4-row (avx2) activation groups; m
// values around the 16-row passes; k of 1 and 3 super-blocks.
TEST_P(KQuantSimdTest, EveryRowCountAndRemainder) {
  const DType t = GetParam();
  auto any_byte = [](std::mt19937& rng) { return static_cast<uint8_t>(rng()); };
  auto any_code = [](std::mt19937& rng) { return static_cast<int>(rng() % 256) - 128; };
  for (int64_t k : {256, 768}) {
    for (int64_t m : {1, 3, 17}) {
      const std::vector<uint8_t> w = raw_weights(t, m, k, static_cast<uint32_t>(k + m), any_byte);
      for (int64_t n = 1; n <= 17; ++n) {
        SCOPED_TRACE(::testing::Message() << "k=" << k << " m=" << m << " n=" << n);
        const std::vector<uint8_t> x = raw_activations(n, k, static_cast<uint32_t>(n), any_code);
        expect_matches_reference(t, w, x, m, n, k);
      }
    }
  }
}

// k long enough that the prepared activations of one row group are walked in several chunks.
TEST_P(KQuantSimdTest, LongRows) {
  const DType t = GetParam();
  auto any_byte = [](std::mt19937& rng) { return static_cast<uint8_t>(rng()); };
  auto any_code = [](std::mt19937& rng) { return static_cast<int>(rng() % 255) - 127; };
  const int64_t k = 36 * kQK_K;
  const std::vector<uint8_t> w = raw_weights(t, 5, k, 1, any_byte);
  for (int64_t n : {1, 6, 20}) {
    SCOPED_TRACE(n);
    expect_matches_reference(t, w, raw_activations(n, k, 2, any_code), 5, n, k);
  }
}

// Uniform bytes put every code and scale at an extreme at once (all codes and scales maximal,
// Q6_K scales -128 or 127, Q3_K scales -32, ...), against activations at +127, -127 and -128:
// the largest magnitudes any 16-bit intermediate of a kernel has to hold.
TEST_P(KQuantSimdTest, ExtremeCodesAndScales) {
  const DType t = GetParam();
  const int64_t k = 512, m = 3, n = 3;
  for (int pattern : {0x00, 0xFF, 0x80, 0x7F, 0x55, 0xAA}) {
    const std::vector<uint8_t> w =
        raw_weights(t, m, k, 3, [&](std::mt19937&) { return static_cast<uint8_t>(pattern); });
    for (int code : {127, -127, -128}) {
      SCOPED_TRACE(::testing::Message() << "pattern=" << pattern << " code=" << code);
      expect_matches_reference(t, w, raw_activations(n, k, 4, [&](std::mt19937&) { return code; }), m, n, k);
    }
  }
}

// An output depends only on its two rows: one call over 19 x 33 gives the same bits as calls
// over every other grouping, down to one weight row and one activation row per call.
TEST_P(KQuantSimdTest, GroupingDoesNotChangeBits) {
  const DType t = GetParam();
  const int64_t m = 19, n = 33, k = 768;
  const size_t w_stride = dtype_row_bytes(t, k), x_stride = dtype_row_bytes(DType::kQ8_K, k);
  auto any_byte = [](std::mt19937& rng) { return static_cast<uint8_t>(rng()); };
  auto any_code = [](std::mt19937& rng) { return static_cast<int>(rng() % 255) - 127; };
  const std::vector<uint8_t> w = raw_weights(t, m, k, 5, any_byte);
  const std::vector<uint8_t> x = raw_activations(n, k, 6, any_code);
  for (IsaLevel level : supported_levels()) {
    SCOPED_TRACE(isa_name(level));
    const GemmFn gemm = kernel_table(level).gemm[id(t)];
    std::vector<float> whole(m * n);
    gemm(k, w.data(), w_stride, m, x.data(), x_stride, n, whole.data(), m);
    // Activation rows in groups of 1 to 8 (each count the few-row paths take) and 11 starting
    // anywhere, weight rows likewise.
    for (int64_t group : {1, 2, 3, 4, 5, 6, 7, 8, 11}) {
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

// No activation rows or no weight rows: nothing is written (n = 1 takes the one-row path, so
// n = 0 must not fall into it).
TEST_P(KQuantSimdTest, NoRowsWriteNothing) {
  const DType t = GetParam();
  const int64_t m = 17, n = 2, k = 512;
  const size_t w_stride = dtype_row_bytes(t, k), x_stride = dtype_row_bytes(DType::kQ8_K, k);
  auto any_byte = [](std::mt19937& rng) { return static_cast<uint8_t>(rng()); };
  const std::vector<uint8_t> w = raw_weights(t, m, k, 8, any_byte);
  const std::vector<uint8_t> x =
      raw_activations(n, k, 9, [](std::mt19937& rng) { return static_cast<int>(rng() % 255) - 127; });
  for (IsaLevel level : supported_levels()) {
    SCOPED_TRACE(isa_name(level));
    const GemmFn gemm = kernel_table(level).gemm[id(t)];
    std::vector<float> y(m * n, -1.0f);
    gemm(k, w.data(), w_stride, m, x.data(), x_stride, 0, y.data(), m);
    gemm(k, w.data(), w_stride, 0, x.data(), x_stride, 1, y.data(), m);
    gemm(k, w.data(), w_stride, 0, x.data(), x_stride, n, y.data(), m);
    ASSERT_EQ(y, std::vector<float>(m * n, -1.0f));
  }
}

// dequantize_row is what get_row (embedding lookups) calls: bit-identical at every level.
TEST_P(KQuantSimdTest, DequantizeIsBitIdentical) {
  const DType t = GetParam();
  const int64_t k = 1024;
  const std::vector<uint8_t> w = raw_weights(t, 1, k, 7, [](std::mt19937& rng) { return static_cast<uint8_t>(rng()); });
  const std::vector<float> want = decode(kernel_table(IsaLevel::kGeneric), t, w.data(), k);
  for (IsaLevel level : supported_levels()) {
    SCOPED_TRACE(isa_name(level));
    const std::vector<float> got = decode(kernel_table(level), t, w.data(), k);
    ASSERT_EQ(std::memcmp(got.data(), want.data(), k * sizeof(float)), 0);
  }
}

INSTANTIATE_TEST_SUITE_P(KQuants, KQuantSimdTest, ::testing::ValuesIn(kKQuants), type_param_name);

// ---- The Q8_K quantizer ------------------------------------------------------------------

void expect_q8_k_bytes_match(const std::vector<float>& x) {
  const std::vector<uint8_t> want = encode(kernel_table(IsaLevel::kGeneric), DType::kQ8_K, x);
  for (IsaLevel level : supported_levels()) {
    SCOPED_TRACE(isa_name(level));
    EXPECT_EQ(encode(kernel_table(level), DType::kQ8_K, x), want);
  }
}

// Halves after scaling (ties to even), first-of-equal-magnitude maxima of either sign, zero
// blocks next to non-zero ones.
TEST(Q8KSimd, TiesAndMaximaMatchTheReference) {
  std::vector<float> x(1024, 0.0f);
  for (int e = 0; e < 256; ++e) x[e] = static_cast<float>(e % 17) - 8.5f;  // halves
  x[100] = -127.0f;                                                        // iscale 1: the halves stay halves
  for (int e = 256; e < 512; ++e) x[e] = (e % 2 ? 1.0f : -1.0f) * static_cast<float>(e % 7);
  x[300] = 9.0f;  // ties with -9 below: the first one wins
  x[301] = -9.0f;
  // block 2 all zeros; block 3: the maximum magnitude in the last position only
  for (int e = 768; e < 1024; ++e) x[e] = 0.001f * static_cast<float>(e - 900);
  x[1023] = -3.0f;
  expect_q8_k_bytes_match(x);
}

// Values where the reference's arithmetic leaves the usual range: subnormal-only blocks (the
// scale overflows to infinity), infinities, NaNs and the largest floats.
TEST(Q8KSimd, AwkwardValuesMatchTheReference) {
  const float inf = std::numeric_limits<float>::infinity();
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const float tiny = std::numeric_limits<float>::denorm_min();
  const float huge = std::numeric_limits<float>::max();
  std::vector<float> x(6 * 256, 0.0f);
  for (int e = 0; e < 256; ++e) x[e] = (e % 3 - 1) * tiny * static_cast<float>(e % 5);
  for (int e = 256; e < 512; ++e) x[e] = static_cast<float>(e % 11) - 5.0f;
  x[260] = inf;
  for (int e = 512; e < 768; ++e) x[e] = static_cast<float>(e % 13) * 0.5f;
  x[520] = nan;
  x[530] = -nan;
  for (int e = 768; e < 1024; ++e) x[e] = (e % 2 ? huge : -huge) / static_cast<float>(1 + e % 3);
  for (int e = 1024; e < 1280; ++e) x[e] = -inf;
  for (int e = 1280; e < 1536; ++e) x[e] = 1e-30f * static_cast<float>(e % 9);
  expect_q8_k_bytes_match(x);
}

TEST(Q8KSimd, RandomRowsOfManyScalesMatchTheReference) {
  for (float sigma : {1e-6f, 1.0f, 3e4f}) {
    SCOPED_TRACE(sigma);
    expect_q8_k_bytes_match(normal_values(8192, 11, sigma));
  }
}

// ---- Word-at-a-time scale unpacking ------------------------------------------------------

TEST(KQuantScaleWords, MatchTheBytewiseLayout) {
  std::mt19937 rng(12);
  for (int trial = 0; trial < 1000; ++trial) {
    uint8_t packed[12];
    for (uint8_t& b : packed) b = static_cast<uint8_t>(rng());
    uint8_t scales[8], mins[8];
    unpack_k4_scales(packed, scales, mins);
    const kquant::K4Scales words = kquant::unpack_k4_scales(packed);
    int q3[16];
    unpack_q3_k_scales(packed, q3);
    uint64_t q3_words[2];
    kquant::unpack_q3_k_scale_codes(packed, q3_words);
    for (int s = 0; s < 8; ++s) {
      ASSERT_EQ((words.scales >> (8 * s)) & 0xFF, scales[s]) << s;
      ASSERT_EQ((words.mins >> (8 * s)) & 0xFF, mins[s]) << s;
    }
    for (int s = 0; s < 16; ++s) {
      ASSERT_EQ(static_cast<int>((q3_words[s / 8] >> (8 * (s % 8))) & 0xFF) - 32, q3[s]) << s;
    }
  }
}

}  // namespace
}  // namespace corral::kernels::testing
