// Tensor element types. Values are ggml's type ids, as stored in GGUF tensor directories.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace corral {

enum class DType : uint32_t {
  kF32 = 0,
  kF16 = 1,
  kQ4_0 = 2,
  kQ4_1 = 3,
  kQ5_0 = 6,
  kQ5_1 = 7,
  kQ8_0 = 8,
  kQ8_1 = 9,
  kQ2_K = 10,
  kQ3_K = 11,
  kQ4_K = 12,
  kQ5_K = 13,
  kQ6_K = 14,
  kQ8_K = 15,
  kIQ2_XXS = 16,
  kIQ2_XS = 17,
  kIQ3_XXS = 18,
  kIQ1_S = 19,
  kIQ4_NL = 20,
  kIQ3_S = 21,
  kIQ2_S = 22,
  kIQ4_XS = 23,
  kI8 = 24,
  kI16 = 25,
  kI32 = 26,
  kI64 = 27,
  kF64 = 28,
  kIQ1_M = 29,
  kBF16 = 30,
  kTQ1_0 = 34,
  kTQ2_0 = 35,
  kMXFP4 = 39,  // OCP microscaling FP4 (gpt-oss experts): E8M0 scale + 32 E2M1 nibbles
};

constexpr uint32_t kDTypeIdLimit = 40;  // ids are < this; lookup tables are this long

struct DTypeTraits {
  const char* name = nullptr;  // nullptr: unknown id
  int64_t block_size = 0;      // elements per block (1 for plain types)
  size_t type_size = 0;        // bytes per block
  bool quantized = false;
  bool supported = false;  // corral can compute with it (dequantize + dot)
};

// Traits for a raw id from a file; name == nullptr when the id is unknown.
const DTypeTraits& dtype_traits(uint32_t id);
inline const DTypeTraits& dtype_traits(DType t) { return dtype_traits(static_cast<uint32_t>(t)); }
inline const char* dtype_name(DType t) {
  const char* n = dtype_traits(t).name;
  return n ? n : "unknown";
}
inline int64_t dtype_block_size(DType t) { return dtype_traits(t).block_size; }

// Bytes of a row of n elements; n must be a multiple of the block size.
inline size_t dtype_row_bytes(DType t, int64_t n) {
  const DTypeTraits& tr = dtype_traits(t);
  return static_cast<size_t>(n / tr.block_size) * tr.type_size;
}

// Parses names like "q4_K", "Q4_K", "f16", "bf16"; false if unknown.
bool dtype_from_name(std::string_view name, DType* out);

}  // namespace corral
