// The kernel table at every supported ISA level: every entry it declares is filled for every
// type corral supports, and nothing is registered for types it does not.
#include <gtest/gtest.h>

#include "kernel_test_util.h"

namespace corral::kernels::testing {
namespace {

TEST(KernelTable, EveryEntryFilledForEverySupportedType) {
  for (IsaLevel level : supported_levels()) {
    SCOPED_TRACE(isa_name(level));
    const KernelTable& t = kernel_table(level);
    EXPECT_EQ(t.isa, level);
    for (DType type : supported_types()) {
      SCOPED_TRACE(dtype_name(type));
      EXPECT_NE(t.dequantize_row[id(type)], nullptr);
      EXPECT_NE(t.quantize_row[id(type)], nullptr);
      if (is_activation_only(type)) {
        EXPECT_EQ(t.gemm[id(type)], nullptr);
      } else {
        EXPECT_NE(t.gemm[id(type)], nullptr);
        EXPECT_NE(t.quantize_row[id(activation_type(type))], nullptr);
      }
    }
    EXPECT_NE(t.rms_norm, nullptr);
    EXPECT_NE(t.swiglu, nullptr);
    EXPECT_NE(t.softmax, nullptr);
    EXPECT_NE(t.dot_f32, nullptr);
    EXPECT_NE(t.axpy_f32, nullptr);
    EXPECT_NE(t.scale_f32, nullptr);
    EXPECT_NE(t.add_f32, nullptr);
  }
}

// A type the loader rejects as unsupported must not half-work through a stray kernel.
TEST(KernelTable, NothingRegisteredForUnsupportedTypes) {
  for (IsaLevel level : supported_levels()) {
    SCOPED_TRACE(isa_name(level));
    const KernelTable& t = kernel_table(level);
    for (uint32_t i = 0; i < kDTypeIdLimit; ++i) {
      if (dtype_traits(i).supported) continue;
      EXPECT_EQ(t.dequantize_row[i], nullptr) << i;
      EXPECT_EQ(t.quantize_row[i], nullptr) << i;
      EXPECT_EQ(t.gemm[i], nullptr) << i;
    }
  }
}

TEST(KernelTable, ActivationTypes) {
  EXPECT_EQ(activation_type(DType::kF32), DType::kF32);
  EXPECT_EQ(activation_type(DType::kF16), DType::kF32);
  EXPECT_EQ(activation_type(DType::kBF16), DType::kF32);
  for (DType t : {DType::kQ4_0, DType::kQ5_0, DType::kQ8_0}) { EXPECT_EQ(activation_type(t), DType::kQ8_0); }
  for (DType t : {DType::kQ4_1, DType::kQ5_1}) EXPECT_EQ(activation_type(t), DType::kQ8_1);
  for (DType t : {DType::kQ2_K, DType::kQ3_K, DType::kQ4_K, DType::kQ5_K, DType::kQ6_K}) {
    EXPECT_EQ(activation_type(t), DType::kQ8_K);
  }
}

}  // namespace
}  // namespace corral::kernels::testing
