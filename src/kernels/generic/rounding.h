// Internal: the rounding ggml's reference quantizers use, so our encodings match theirs bit
// for bit.
#pragma once

#include <cstdint>
#include <cstring>

namespace corral::kernels {

// Round to nearest, ties to even (ggml's nearest_int). Adding 1.5 * 2^23 leaves a float whose
// unit in the last place is 1, so the addition itself rounds; the integer is then read from
// the low mantissa bits. Exact for |v| < 2^22. Unlike a float->int cast it never has undefined
// behaviour: NaN, infinities and huge values give some integer, which every caller clamps, and
// that integer is the one ggml gets too.
inline int nearest_int(float v) {
  const float shifted = v + 12582912.0f;  // 1.5 * 2^23
  int32_t bits;
  std::memcpy(&bits, &shifted, sizeof bits);
  return (bits & 0x007fffff) - 0x00400000;
}

}  // namespace corral::kernels
