// Internal: the element layout shared by the 32-element blocks Q4_0, Q4_1, Q5_0 and Q5_1, for
// their quantizers, dequantizers and dot products.
#pragma once

#include <cstdint>
#include <cstring>

namespace corral::kernels {

constexpr int kLegacyBlock = 32;  // elements per Q4_0/Q4_1/Q5_0/Q5_1 block

// Low 4 bits of element j: element j < 16 in the low nibble of qs[j], j >= 16 in the high
// nibble of qs[j - 16].
inline int low_nibble_of(const uint8_t* qs /*[16]*/, int j) { return j < 16 ? qs[j] & 0x0F : qs[j - 16] >> 4; }

// Inverse of low_nibble_of for a block of 32 codes (only their low 4 bits are stored).
inline void pack_low_nibbles(const uint8_t* codes /*[32]*/, uint8_t* qs /*[16]*/) {
  for (int j = 0; j < 16; ++j) qs[j] = (codes[j] & 0x0F) | (codes[j + 16] & 0x0F) << 4;
}

// Q5_0/Q5_1 keep element j's 5th bit in bit j of qh read as a little-endian u32.
inline uint32_t load_high_bits(const uint8_t* qh /*[4]*/) {
  uint32_t bits;
  std::memcpy(&bits, qh, sizeof bits);
  return bits;
}

inline void store_high_bits(const uint8_t* codes /*[32]*/, uint8_t* qh /*[4]*/) {
  uint32_t bits = 0;
  for (int j = 0; j < kLegacyBlock; ++j) bits |= static_cast<uint32_t>((codes[j] >> 4) & 1) << j;
  std::memcpy(qh, &bits, sizeof bits);
}

// The 5-bit code of element j (0..31).
inline int five_bit_code(const uint8_t* qs, uint32_t high_bits, int j) {
  return low_nibble_of(qs, j) | static_cast<int>((high_bits >> j) & 1) << 4;
}

}  // namespace corral::kernels
