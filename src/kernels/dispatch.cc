#include <array>

#include "base/check.h"
#include "kernels/api.h"
#include "kernels/registry.h"

namespace corral::kernels {

DType activation_type(DType weight) {
  switch (weight) {
    case DType::kQ4_0:
    case DType::kQ5_0:
    case DType::kQ8_0:
    case DType::kIQ4_NL:
    case DType::kMXFP4: return DType::kQ8_0;
    case DType::kQ4_1:
    case DType::kQ5_1: return DType::kQ8_1;
    case DType::kQ2_K:
    case DType::kQ3_K:
    case DType::kQ4_K:
    case DType::kQ5_K:
    case DType::kQ6_K:
    case DType::kIQ4_XS: return DType::kQ8_K;
    default: return DType::kF32;
  }
}

namespace {

KernelTable build(IsaLevel level) {
  KernelTable t;
  register_generic(t);
  t.isa = IsaLevel::kGeneric;
  if (static_cast<int>(level) >= static_cast<int>(IsaLevel::kAvx2)) {
    register_avx2(t);
    t.isa = IsaLevel::kAvx2;
  }
  if (static_cast<int>(level) >= static_cast<int>(IsaLevel::kAvx512)) {
    register_avx512(t);
    t.isa = IsaLevel::kAvx512;
  }
  return t;
}

}  // namespace

const KernelTable& kernel_table(IsaLevel level) {
  CORRAL_CHECK(static_cast<int>(level) <= static_cast<int>(max_supported_isa()),
               "kernel level {} not supported by this CPU", isa_name(level));
  static const std::array<KernelTable, 3> tables = [] {
    std::array<KernelTable, 3> a;
    const int max = static_cast<int>(max_supported_isa());
    for (int l = 0; l <= max; ++l) a[l] = build(static_cast<IsaLevel>(l));
    return a;
  }();
  return tables[static_cast<int>(level)];
}

const KernelTable& active() {
  static const KernelTable& t = kernel_table(selected_isa());
  return t;
}

}  // namespace corral::kernels
