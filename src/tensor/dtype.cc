#include "tensor/dtype.h"

#include <array>
#include <cctype>
#include <string>

namespace corral {
namespace {

constexpr int64_t kQK = 32;    // elements per block of the 32-element quants
constexpr int64_t kQKK = 256;  // elements per super-block of the K-quants

std::array<DTypeTraits, kDTypeIdLimit> make_table() {
  std::array<DTypeTraits, kDTypeIdLimit> t{};
  auto set = [&](DType d, const char* n, int64_t bs, size_t ts, bool q, bool sup) {
    t[static_cast<uint32_t>(d)] = DTypeTraits{n, bs, ts, q, sup};
  };
  set(DType::kF32, "f32", 1, 4, false, true);
  set(DType::kF16, "f16", 1, 2, false, true);
  set(DType::kBF16, "bf16", 1, 2, false, true);
  set(DType::kQ4_0, "q4_0", kQK, 2 + 16, true, true);
  set(DType::kQ4_1, "q4_1", kQK, 2 + 2 + 16, true, true);
  set(DType::kQ5_0, "q5_0", kQK, 2 + 4 + 16, true, true);
  set(DType::kQ5_1, "q5_1", kQK, 2 + 2 + 4 + 16, true, true);
  set(DType::kQ8_0, "q8_0", kQK, 2 + 32, true, true);
  set(DType::kQ8_1, "q8_1", kQK, 2 + 2 + 32, true, true);
  set(DType::kQ2_K, "q2_K", kQKK, 16 + 64 + 2 + 2, true, true);
  set(DType::kQ3_K, "q3_K", kQKK, 32 + 64 + 12 + 2, true, true);
  set(DType::kQ4_K, "q4_K", kQKK, 2 + 2 + 12 + 128, true, true);
  set(DType::kQ5_K, "q5_K", kQKK, 2 + 2 + 12 + 32 + 128, true, true);
  set(DType::kQ6_K, "q6_K", kQKK, 128 + 64 + 16 + 2, true, true);
  set(DType::kQ8_K, "q8_K", kQKK, 4 + 256 + 2 * 16, true, true);
  set(DType::kIQ4_NL, "iq4_nl", kQK, 2 + 16, true, true);
  set(DType::kIQ4_XS, "iq4_xs", kQKK, 2 + 2 + 4 + 128, true, true);
  set(DType::kMXFP4, "mxfp4", kQK, 1 + 16, true, true);  // one E8M0 exponent byte + 16 bytes of nibbles
  // Known to GGUF but not computable by corral yet: loading a model that uses them fails
  // with a clear "not supported yet" error naming the type.
  set(DType::kIQ2_XXS, "iq2_xxs", kQKK, 2 + 64, true, false);
  set(DType::kIQ2_XS, "iq2_xs", kQKK, 2 + 64 + 8, true, false);
  set(DType::kIQ3_XXS, "iq3_xxs", kQKK, 2 + 96, true, false);
  set(DType::kIQ1_S, "iq1_s", kQKK, 2 + 32 + 16, true, false);
  set(DType::kIQ3_S, "iq3_s", kQKK, 2 + 64 + 32 + 8 + 4, true, false);
  set(DType::kIQ2_S, "iq2_s", kQKK, 2 + 64 + 16, true, false);
  set(DType::kI8, "i8", 1, 1, false, false);
  set(DType::kI16, "i16", 1, 2, false, false);
  set(DType::kI32, "i32", 1, 4, false, false);
  set(DType::kI64, "i64", 1, 8, false, false);
  set(DType::kF64, "f64", 1, 8, false, false);
  set(DType::kIQ1_M, "iq1_m", kQKK, 32 + 16 + 8, true, false);
  set(DType::kTQ1_0, "tq1_0", kQKK, 2 + 4 * 13, true, false);
  set(DType::kTQ2_0, "tq2_0", kQKK, 2 + 64, true, false);
  return t;
}

const std::array<DTypeTraits, kDTypeIdLimit>& table() {
  static const auto t = make_table();
  return t;
}

}  // namespace

const DTypeTraits& dtype_traits(uint32_t id) {
  static const DTypeTraits kUnknown{};
  return id < kDTypeIdLimit ? table()[id] : kUnknown;
}

bool dtype_from_name(std::string_view name, DType* out) {
  std::string lower(name);
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (uint32_t i = 0; i < kDTypeIdLimit; ++i) {
    const char* n = table()[i].name;
    if (!n) continue;
    std::string ln(n);
    for (char& c : ln) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (ln == lower) {
      *out = static_cast<DType>(i);
      return true;
    }
  }
  return false;
}

}  // namespace corral
