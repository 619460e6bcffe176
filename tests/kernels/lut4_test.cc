// The 4-bit lookup-table formats (IQ4_NL, IQ4_XS, MXFP4) decoded from blocks built by hand,
// against values worked out from the format definitions (not from the code's tables or scale
// helpers): every code, scales of both signs, and MXFP4's exponent extremes. Then dot products
// of hand-built blocks at every ISA level against sums computed from those values.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "kernel_test_util.h"

namespace corral::kernels::testing {
namespace {

// The tables as the formats define them: IQ4_NL's non-linear grid, and the E2M1 values
// {0, 0.5, 1, 1.5, 2, 3, 4, 6} with a sign bit, as multiples of 0.5.
const double kNonLinear[16] = {-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113};
const double kHalfE2M1[16] = {0, 1, 2, 3, 4, 6, 8, 12, -0.0, -1, -2, -3, -4, -6, -8, -12};

// Codes of a 32-element block: element j < 16 gets (j + shift) % 16, element 16 + j gets
// 15 - j, so every code appears in both nibble positions. Packed in Q4_0's nibble order.
int code_of(int element, int shift) { return element < 16 ? (element + shift) % 16 : 15 - (element - 16); }
void pack_codes(int shift, uint8_t* qs /*[16]*/) {
  for (int j = 0; j < 16; ++j) qs[j] = static_cast<uint8_t>(code_of(j, shift) | code_of(j + 16, shift) << 4);
}

std::vector<float> decode_at(IsaLevel level, DType t, const void* data, int64_t n) {
  return decode(kernel_table(level), t, data, n);
}

TEST(Lut4Dequantize, MXFP4EveryCodeAndExponentExtremes) {
  // Exponent bytes: 2^(e - 128) scales, with E8M0's extremes: e = 0 and 1 (subnormal scales
  // 2^-128, 2^-127), 254 and 255 (2^126, 2^127: ggml treats 255 as a number, not NaN).
  const uint8_t exponents[] = {128, 130, 120, 0, 1, 127, 254, 255};
  const int nb = sizeof exponents;
  std::vector<BlockMXFP4> blocks(nb);
  for (int b = 0; b < nb; ++b) {
    blocks[b].e = exponents[b];
    pack_codes(b, blocks[b].qs);
  }
  for (IsaLevel level : supported_levels()) {
    SCOPED_TRACE(isa_name(level));
    const std::vector<float> y = decode_at(level, DType::kMXFP4, blocks.data(), nb * 32);
    for (int b = 0; b < nb; ++b) {
      for (int j = 0; j < 32; ++j) {
        // value = (E2M1 value) * 2^(e - 127) = (half-unit value) * 2^(e - 128); in double so the
        // e = 255 overflow of 12 * 2^127 shows up as a float infinity only after the cast.
        const double want = std::ldexp(kHalfE2M1[code_of(j, b)], exponents[b] - 128);
        ASSERT_EQ(y[b * 32 + j], static_cast<float>(want)) << "e=" << int{exponents[b]} << " j=" << j;
      }
    }
    // Spot values written out: code 7 (E2M1 6.0) at e = 130 is 6 * 2^3 = 48; code 1 at e = 0 is
    // 2^-128 (a subnormal float); code 2 at e = 255 is 2^128, past the float range.
    EXPECT_EQ(y[0 * 32 + 7], 12.0f);                                    // e = 128: 6.0 * 2
    EXPECT_EQ(y[1 * 32 + 6], 48.0f);                                    // e = 130, code (6 + 1) % 16 = 7
    EXPECT_EQ(y[3 * 32 + 14], std::ldexp(1.0f, -128));                  // e = 0, code (14 + 3) % 16 = 1
    EXPECT_EQ(y[7 * 32 + 11], std::numeric_limits<float>::infinity());  // e = 255, code 2
    EXPECT_EQ(y[7 * 32 + 10], std::ldexp(1.0f, 127));                   // e = 255, code 1
    EXPECT_EQ(y[6 * 32 + 16], -12.0f * std::ldexp(1.0f, 126));          // e = 254, code 15
  }
}

TEST(Lut4Dequantize, IQ4_NLEveryCodeWithPositiveAndNegativeScales) {
  // f16 scales 0.5, -0.25, 2^-14 (the smallest normal half), 1024 and 0.
  const uint16_t scales[] = {0x3800, 0xB400, 0x0400, 0x6400, 0x0000};
  const double scale_values[] = {0.5, -0.25, std::ldexp(1.0, -14), 1024, 0};
  const int nb = sizeof scales / sizeof scales[0];
  std::vector<BlockIQ4_NL> blocks(nb);
  for (int b = 0; b < nb; ++b) {
    blocks[b].d = scales[b];
    pack_codes(3 * b, blocks[b].qs);
  }
  for (IsaLevel level : supported_levels()) {
    SCOPED_TRACE(isa_name(level));
    const std::vector<float> y = decode_at(level, DType::kIQ4_NL, blocks.data(), nb * 32);
    for (int b = 0; b < nb; ++b) {
      for (int j = 0; j < 32; ++j) {
        ASSERT_EQ(y[b * 32 + j], static_cast<float>(scale_values[b] * kNonLinear[code_of(j, 3 * b)]))
            << "b=" << b << " j=" << j;
      }
    }
    EXPECT_EQ(y[0], -63.5f);         // d 0.5, code 0: -127 / 2
    EXPECT_EQ(y[32 + 16], -28.25f);  // d -0.25, element 16: code 15 = 113
  }
}

// One IQ4_XS super-block: d = 0.125; sub-block scales ls (6 bits) 0, 63, 32, 31, 33, 1, 48, 17,
// i.e. multipliers ls - 32 = -32, 31, 0, -1, 1, -31, 16, -15, packed by hand: low nibbles in
// scales_l = {0x0 | 0xF << 4, 0x0 | 0xF << 4, 0x1 | 0x1 << 4, 0x0 | 0x1 << 4}, top two bits
// 0, 3, 2, 1, 2, 0, 3, 1 at bits 2s of scales_h = 0xC | 0x20 | 0x40 | 0x200 | 0x3000 | 0x4000.
BlockIQ4_XS hand_built_iq4_xs() {
  BlockIQ4_XS b{};
  b.d = 0x3000;  // f16 0.125
  b.scales_h = 0x726C;
  const uint8_t low[4] = {0xF0, 0xF0, 0x11, 0x10};
  std::memcpy(b.scales_l, low, 4);
  for (int s = 0; s < 8; ++s) pack_codes(s, b.qs + 16 * s);
  return b;
}
const int kIQ4XSMultipliers[8] = {-32, 31, 0, -1, 1, -31, 16, -15};

TEST(Lut4Dequantize, IQ4_XSSubBlockScalesAndCodes) {
  std::vector<BlockIQ4_XS> blocks = {hand_built_iq4_xs(), hand_built_iq4_xs()};
  blocks[1].d = 0xC000;  // f16 -2: every sign flips
  for (IsaLevel level : supported_levels()) {
    SCOPED_TRACE(isa_name(level));
    const std::vector<float> y = decode_at(level, DType::kIQ4_XS, blocks.data(), 512);
    for (int b = 0; b < 2; ++b) {
      const double d = b == 0 ? 0.125 : -2.0;
      for (int s = 0; s < 8; ++s) {
        for (int j = 0; j < 32; ++j) {
          const double want = d * kIQ4XSMultipliers[s] * kNonLinear[code_of(j, s)];
          ASSERT_EQ(y[b * 256 + 32 * s + j], static_cast<float>(want)) << "b=" << b << " s=" << s << " j=" << j;
        }
      }
    }
    EXPECT_EQ(y[0], 508.0f);          // 0.125 * -32 * -127
    EXPECT_EQ(y[32 + 16], 437.875f);  // 0.125 * 31 * 113 (element 16: code 15)
    EXPECT_EQ(y[64 + 5], 0.0f);       // ls = 32: a zero multiplier
  }
}

// The dot of hand-built weights with hand-built activations at every level equals the sum of
// the decoded products (exact here: every product and partial sum is a small binary fraction).
TEST(Lut4Dot, HandBuiltBlocksAtEveryLevel) {
  // MXFP4: blocks at e = 129 (x2) and e = 126 (x1/4) against Q8_0 activations d = 0.5 whose
  // codes run -16..15 and 127, -127.
  std::vector<BlockMXFP4> mx(2);
  mx[0].e = 129;
  mx[1].e = 126;
  pack_codes(0, mx[0].qs);
  pack_codes(5, mx[1].qs);
  std::vector<BlockQ8_0> q8(2);
  for (int b = 0; b < 2; ++b) {
    q8[b].d = 0x3800;
    for (int j = 0; j < 32; ++j) q8[b].qs[j] = static_cast<int8_t>(j - 16);
  }
  q8[1].qs[3] = 127;
  q8[1].qs[20] = -127;
  double want_mx = 0;
  for (int b = 0; b < 2; ++b) {
    for (int j = 0; j < 32; ++j) {
      want_mx += std::ldexp(kHalfE2M1[code_of(j, b == 0 ? 0 : 5)], mx[b].e - 128) * 0.5 * q8[b].qs[j];
    }
  }
  // IQ4_NL: the same activations against d = -0.25 blocks.
  std::vector<BlockIQ4_NL> nl(2);
  double want_nl = 0;
  for (int b = 0; b < 2; ++b) {
    nl[b].d = 0xB400;
    pack_codes(7 * b, nl[b].qs);
    for (int j = 0; j < 32; ++j) want_nl += -0.25 * kNonLinear[code_of(j, 7 * b)] * 0.5 * q8[b].qs[j];
  }
  // IQ4_XS: the hand-built super-block against a Q8_K row with d = 2^-6 and codes (e % 255) - 127.
  const BlockIQ4_XS xs = hand_built_iq4_xs();
  BlockQ8_K q8k{};
  q8k.d = 1.0f / 64;
  for (int e = 0; e < 256; ++e) q8k.qs[e] = static_cast<int8_t>(e % 255 - 127);
  for (int g = 0; g < 16; ++g) {
    int sum = 0;
    for (int e = 16 * g; e < 16 * g + 16; ++e) sum += q8k.qs[e];
    q8k.bsums[g] = static_cast<int16_t>(sum);
  }
  double want_xs = 0;
  for (int s = 0; s < 8; ++s) {
    for (int j = 0; j < 32; ++j) {
      want_xs += 0.125 * kIQ4XSMultipliers[s] * kNonLinear[code_of(j, s)] * q8k.qs[32 * s + j] / 64.0;
    }
  }
  for (IsaLevel level : supported_levels()) {
    SCOPED_TRACE(isa_name(level));
    const KernelTable& t = kernel_table(level);
    float y = 0;
    t.gemm[id(DType::kMXFP4)](64, mx.data(), 34, 1, q8.data(), 68, 1, &y, 1);
    EXPECT_EQ(y, static_cast<float>(want_mx));
    t.gemm[id(DType::kIQ4_NL)](64, nl.data(), 36, 1, q8.data(), 68, 1, &y, 1);
    EXPECT_EQ(y, static_cast<float>(want_nl));
    t.gemm[id(DType::kIQ4_XS)](256, &xs, sizeof xs, 1, &q8k, sizeof q8k, 1, &y, 1);
    EXPECT_EQ(y, static_cast<float>(want_xs));
  }
}

// MXFP4's scale decoding inside gemm at the exponent extremes (subnormal 2^-128 and 2^-127,
// then 2^-126 and 2^126), one single-block weight row each so every output is one exact block
// product: against Q8_0 activations with d = 1 and codes (7j mod 23) + 1 (uneven, so no row's
// sum cancels to 0).
TEST(Lut4Dot, MXFP4ExponentExtremesAtEveryLevel) {
  const uint8_t exponents[] = {0, 1, 2, 254};
  constexpr int kRows = 4;
  std::vector<BlockMXFP4> w(kRows);
  for (int r = 0; r < kRows; ++r) {
    w[r].e = exponents[r];
    pack_codes(r, w[r].qs);
  }
  BlockQ8_0 x{};
  x.d = 0x3C00;  // f16 1.0
  for (int j = 0; j < 32; ++j) x.qs[j] = static_cast<int8_t>(7 * j % 23 + 1);
  for (IsaLevel level : supported_levels()) {
    SCOPED_TRACE(isa_name(level));
    float y[kRows];
    kernel_table(level).gemm[id(DType::kMXFP4)](32, w.data(), sizeof(BlockMXFP4), kRows, &x, sizeof x, 1, y, kRows);
    for (int r = 0; r < kRows; ++r) {
      double sum = 0;
      for (int j = 0; j < 32; ++j) sum += kHalfE2M1[code_of(j, r)] * x.qs[j];
      ASSERT_NE(sum, 0);
      EXPECT_EQ(y[r], static_cast<float>(std::ldexp(sum, exponents[r] - 128))) << "e=" << int{exponents[r]};
    }
  }
}

TEST(Lut4Types, KnownComputableAndActivations) {
  for (DType t : {DType::kIQ4_NL, DType::kIQ4_XS, DType::kMXFP4})
    EXPECT_TRUE(dtype_traits(t).supported) << dtype_name(t);
  EXPECT_EQ(activation_type(DType::kIQ4_NL), DType::kQ8_0);
  EXPECT_EQ(activation_type(DType::kMXFP4), DType::kQ8_0);
  EXPECT_EQ(activation_type(DType::kIQ4_XS), DType::kQ8_K);
  EXPECT_EQ(dtype_row_bytes(DType::kIQ4_NL, 64), 36u);
  EXPECT_EQ(dtype_row_bytes(DType::kIQ4_XS, 512), 272u);
  EXPECT_EQ(dtype_row_bytes(DType::kMXFP4, 64), 34u);
}

}  // namespace
}  // namespace corral::kernels::testing
