#include "tensor/dtype.h"

#include <gtest/gtest.h>

namespace corral {
namespace {

TEST(DType, TraitsMatchGgml) {
  EXPECT_EQ(dtype_traits(DType::kQ4_K).type_size, 144u);
  EXPECT_EQ(dtype_traits(DType::kQ6_K).type_size, 210u);
  EXPECT_EQ(dtype_traits(DType::kQ8_0).block_size, 32);
  EXPECT_EQ(dtype_row_bytes(DType::kQ4_0, 64), 36u);
  EXPECT_EQ(dtype_row_bytes(DType::kF16, 10), 20u);
  EXPECT_EQ(dtype_traits(4u).name, nullptr);  // removed id
  EXPECT_EQ(dtype_traits(1000u).name, nullptr);
  // MXFP4 (ggml id 39, gpt-oss experts): 32 values in one E8M0 byte + 16 bytes of nibbles.
  EXPECT_STREQ(dtype_traits(39u).name, "mxfp4");
  EXPECT_EQ(dtype_row_bytes(DType::kMXFP4, 64), 34u);
  EXPECT_TRUE(dtype_traits(DType::kMXFP4).supported);
  // IQ4_NL: f16 d + 16 bytes of nibbles per 32; IQ4_XS: f16 d, u16 scales_h, 4 bytes scales_l
  // and 128 bytes of nibbles per 256.
  EXPECT_EQ(dtype_traits(DType::kIQ4_NL).type_size, 18u);
  EXPECT_EQ(dtype_traits(DType::kIQ4_NL).block_size, 32);
  EXPECT_EQ(dtype_traits(DType::kIQ4_XS).type_size, 136u);
  EXPECT_EQ(dtype_traits(DType::kIQ4_XS).block_size, 256);
  EXPECT_TRUE(dtype_traits(DType::kIQ4_NL).supported);
  EXPECT_TRUE(dtype_traits(DType::kIQ4_XS).supported);
  EXPECT_FALSE(dtype_traits(DType::kIQ2_XXS).supported);  // other IQ types: not yet
}

TEST(DType, ParsesNames) {
  DType t;
  ASSERT_TRUE(dtype_from_name("Q4_K", &t));
  EXPECT_EQ(t, DType::kQ4_K);
  ASSERT_TRUE(dtype_from_name("bf16", &t));
  EXPECT_EQ(t, DType::kBF16);
  EXPECT_FALSE(dtype_from_name("q9_9", &t));
}

}  // namespace
}  // namespace corral
