// Quantize / dequantize round trips for every supported type at every ISA level: error bounds
// on random data, edge cases, and hand-computed encodings of the activation formats.
#include <gtest/gtest.h>

#include <cstring>

#include "base/fp16.h"
#include "kernel_test_util.h"
#include "tensor/blocks.h"

namespace corral::kernels::testing {
namespace {

// Elements per independently scaled unit: a super-block for K-quants, else the block.
int64_t scale_unit(DType t) { return std::max<int64_t>(dtype_block_size(t), 32); }

class QuantizeTest : public ::testing::TestWithParam<DType> {};

TEST_P(QuantizeTest, RoundTripErrorOnRandomData) {
  const DType t = GetParam();
  const int64_t k = 4096;  // 16 super-blocks: enough blocks for the error to settle
  const std::vector<float> x = normal_values(k, 1234);
  const KernelTable& generic = kernel_table(IsaLevel::kGeneric);
  const std::vector<uint8_t> ref_bytes = encode(generic, t, x);
  const std::vector<float> ref = decode(generic, t, ref_bytes.data(), k);
  EXPECT_LE(relative_rmse(ref, x), round_trip_bound(t));
  for (IsaLevel level : supported_levels()) {
    SCOPED_TRACE(isa_name(level));
    const KernelTable& table = kernel_table(level);
    // Encodings must be the reference bytes at every level: model files we write and the
    // activations we feed the dot products stay bit-compatible with llama.cpp's reference.
    EXPECT_EQ(encode(table, t, x), ref_bytes);
    // Decoding may differ by rounding only (a fused multiply-add in a SIMD path).
    const std::vector<float> y = decode(table, t, ref_bytes.data(), k);
    for (int64_t i = 0; i < k; ++i) ASSERT_NEAR(y[i], ref[i], 1e-6f * (1 + std::fabs(ref[i]))) << i;
  }
}

TEST_P(QuantizeTest, AllZerosDecodeToZeros) {
  const DType t = GetParam();
  const std::vector<float> x(512, 0.0f);
  for (IsaLevel level : supported_levels()) {
    SCOPED_TRACE(isa_name(level));
    const KernelTable& table = kernel_table(level);
    const std::vector<uint8_t> bytes = encode(table, t, x);
    for (float v : decode(table, t, bytes.data(), 512)) ASSERT_EQ(v, 0.0f);
  }
}

// One value far outside the rest (a common outlier pattern in real weights), of either sign.
// It sets its block's scale and takes an end code, so only the rounding of that scale remains:
// f16 2^-11, BF16 2^-9, and for K-quants the 6-bit sub-block scale (measured <= 1.3e-3).
// MXFP4 is the exception: its power-of-two scale puts the largest value in [8, 16) units where
// the grid holds only 8 and 12, so up to a quarter of it is lost (ggml's reference quantizer
// clips the same way). Blocks that do not contain it keep their usual accuracy.
TEST_P(QuantizeTest, ExtremeValueOfEitherSignSurvives) {
  const DType t = GetParam();
  const double tolerance = t == DType::kMXFP4 ? 0.25 : 2.5e-3;
  const int64_t k = 1024, at = 37;
  for (float extreme : {50.0f, -50.0f, 1e4f, -1e4f}) {
    SCOPED_TRACE(extreme);
    std::vector<float> x = normal_values(k, 99);
    x[at] = extreme;
    for (IsaLevel level : supported_levels()) {
      SCOPED_TRACE(isa_name(level));
      const KernelTable& table = kernel_table(level);
      const std::vector<uint8_t> bytes = encode(table, t, x);
      const std::vector<float> y = decode(table, t, bytes.data(), k);
      EXPECT_NEAR(y[at], extreme, tolerance * std::fabs(extreme));
      std::vector<float> rest_x, rest_y;
      for (int64_t i = 0; i < k; ++i) {
        if (i / scale_unit(t) == at / scale_unit(t)) continue;
        rest_x.push_back(x[i]);
        rest_y.push_back(y[i]);
      }
      EXPECT_LE(relative_rmse(rest_y, rest_x), round_trip_bound(t));
    }
  }
}

INSTANTIATE_TEST_SUITE_P(AllTypes, QuantizeTest, ::testing::ValuesIn(supported_types()), type_param_name);

// ---- Hand-computed encodings of the activation formats -----------------------------------

// Q8_0: d = amax / 127, codes roundf(x / d) with halves away from zero.
TEST(Q8_0, HandComputedBlocks) {
  std::vector<float> x(96, 0.0f);
  // Block 0: amax 127 -> d = 1 exactly; ties go away from zero.
  const float b0[8] = {-127.0f, 2.5f, -2.5f, 0.49f, 126.5f, 3.0f, -0.5f, 1.5f};
  const int8_t q0[8] = {-127, 3, -3, 0, 127, 3, -1, 2};
  std::copy(b0, b0 + 8, x.begin());
  // Block 1: all zeros -> d = 0, codes 0. Block 2: amax 63.5 -> d = 0.5, codes round(2x).
  x[64] = 63.5f;
  x[65] = -1.25f;  // -2.5 -> -3
  x[66] = 0.2f;    // 0.4 -> 0
  for (IsaLevel level : supported_levels()) {
    SCOPED_TRACE(isa_name(level));
    const std::vector<uint8_t> bytes = encode(kernel_table(level), DType::kQ8_0, x);
    const auto* blocks = reinterpret_cast<const BlockQ8_0*>(bytes.data());
    EXPECT_EQ(blocks[0].d, 0x3C00);  // f16 1.0
    for (int j = 0; j < 8; ++j) EXPECT_EQ(blocks[0].qs[j], q0[j]) << j;
    for (int j = 8; j < 32; ++j) EXPECT_EQ(blocks[0].qs[j], 0);
    EXPECT_EQ(blocks[1].d, 0);
    for (int j = 0; j < 32; ++j) EXPECT_EQ(blocks[1].qs[j], 0);
    EXPECT_EQ(blocks[2].d, 0x3800);  // f16 0.5
    EXPECT_EQ(blocks[2].qs[0], 127);
    EXPECT_EQ(blocks[2].qs[1], -3);
    EXPECT_EQ(blocks[2].qs[2], 0);
  }
}

// Q8_1: Q8_0's codes plus s = f16(d * sum(codes)) with the f32 d.
TEST(Q8_1, SumUsesTheF32Scale) {
  std::vector<float> x(32, 0.0f);
  x[0] = 1.0f;    // amax 1 -> d = 1/127 (not exact in f16)
  x[1] = 0.3f;    // 38.1 -> 38
  x[2] = -0.25f;  // -31.75 -> -32
  for (IsaLevel level : supported_levels()) {
    SCOPED_TRACE(isa_name(level));
    const std::vector<uint8_t> bytes = encode(kernel_table(level), DType::kQ8_1, x);
    const auto* b = reinterpret_cast<const BlockQ8_1*>(bytes.data());
    EXPECT_EQ(b->qs[0], 127);
    EXPECT_EQ(b->qs[1], 38);
    EXPECT_EQ(b->qs[2], -32);
    const float d = 1.0f / 127;
    EXPECT_EQ(b->d, f32_to_fp16(d));
    EXPECT_EQ(b->s, f32_to_fp16(static_cast<float>(127 + 38 - 32) * d));
  }
}

// Q8_K: iscale = -127 / (signed value of largest magnitude), nearest-even rounding, f32
// d = 1 / iscale, bsums of each 16 codes.
TEST(Q8_K, HandComputedSuperBlocks) {
  std::vector<float> x(512, 0.0f);
  // Super-block 0: largest magnitude -127 -> iscale = 1, d = 1; ties go to even.
  x[0] = -127.0f;
  x[1] = 2.5f;   // -> 2
  x[2] = 3.5f;   // -> 4
  x[3] = -0.5f;  // -> 0
  x[16] = 10.0f;
  // Super-block 1: largest magnitude +254 -> iscale = -0.5, d = -2: the sign flips.
  x[256] = 254.0f;  // -> -127
  x[257] = 5.0f;    // -2.5 -> -2
  x[258] = 7.0f;    // -3.5 -> -4
  x[272] = -3.0f;   // 1.5 -> 2
  for (IsaLevel level : supported_levels()) {
    SCOPED_TRACE(isa_name(level));
    const std::vector<uint8_t> bytes = encode(kernel_table(level), DType::kQ8_K, x);
    const auto* b = reinterpret_cast<const BlockQ8_K*>(bytes.data());
    EXPECT_EQ(b[0].d, 1.0f);
    EXPECT_EQ(b[0].qs[0], -127);
    EXPECT_EQ(b[0].qs[1], 2);
    EXPECT_EQ(b[0].qs[2], 4);
    EXPECT_EQ(b[0].qs[3], 0);
    EXPECT_EQ(b[0].qs[16], 10);
    EXPECT_EQ(b[0].bsums[0], -127 + 2 + 4);
    EXPECT_EQ(b[0].bsums[1], 10);
    for (int g = 2; g < 16; ++g) EXPECT_EQ(b[0].bsums[g], 0);
    EXPECT_EQ(b[1].d, -2.0f);
    EXPECT_EQ(b[1].qs[0], -127);
    EXPECT_EQ(b[1].qs[1], -2);
    EXPECT_EQ(b[1].qs[2], -4);
    EXPECT_EQ(b[1].qs[16], 2);
    EXPECT_EQ(b[1].bsums[0], -127 - 2 - 4);
    EXPECT_EQ(b[1].bsums[1], 2);
    const std::vector<float> y = decode(kernel_table(level), DType::kQ8_K, bytes.data(), 512);
    EXPECT_EQ(y[0], -127.0f);
    EXPECT_EQ(y[257], 4.0f);
    EXPECT_EQ(y[272], -4.0f);
  }
}

}  // namespace
}  // namespace corral::kernels::testing
