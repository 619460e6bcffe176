// Internal: bit layouts of the K-quant super-blocks (256 elements), shared by their
// quantizers, dequantizers and dot products so each layout is written down once.
#pragma once

#include <cstdint>

#include "tensor/blocks.h"

namespace corral::kernels {

// 2-bit fields (Q2_K and Q3_K codes, Q6_K high bits): each 32 bytes hold 128 elements; element
// e is in byte (e / 128) * 32 + e % 32 at bit 2 * ((e % 128) / 32).
inline int crumb_byte(int e) { return e / 128 * 32 + e % 32; }
inline int crumb_shift(int e) { return 2 * (e % 128 / 32); }

// Q4_K/Q5_K low 4 bits: each 32 bytes hold 64 elements, the first 32 in the low nibbles.
inline int nibble_byte(int e) { return e / 64 * 32 + e % 32; }
inline int nibble_shift(int e) { return 4 * (e % 64 / 32); }

// Q6_K low 4 bits: each 64 bytes hold 128 elements in four runs of 32: runs 0 and 1 in the low
// nibbles of bytes 0-31 and 32-63, runs 2 and 3 in the high nibbles.
inline int q6_nibble_byte(int e) { return e / 128 * 64 + e % 64 / 32 * 32 + e % 32; }
inline int q6_nibble_shift(int e) { return 4 * (e % 128 / 64); }

// 1-bit fields (Q3_K hmask, Q5_K qh): element e is bit e / 32 of byte e % 32.
inline int bit_byte(int e) { return e % 32; }
inline int bit_shift(int e) { return e / 32; }

// Q4_K/Q5_K: 8 sub-blocks of 32, each with a 6-bit scale and a 6-bit min, in 12 bytes.
// Bytes 0-3: scales 0-3, plus bits 4-5 of scales 4-7 in their top two bits. Bytes 4-7: the
// same for the mins. Bytes 8-11: low 4 bits of scale j + 4 (low nibble) and min j + 4 (high).
inline void unpack_k4_scales(const uint8_t* packed /*[12]*/, uint8_t* scales /*[8]*/, uint8_t* mins /*[8]*/) {
  for (int j = 0; j < 4; ++j) {
    scales[j] = packed[j] & 63;
    mins[j] = packed[j + 4] & 63;
    scales[j + 4] = static_cast<uint8_t>((packed[j + 8] & 0x0F) | (packed[j] >> 6) << 4);
    mins[j + 4] = static_cast<uint8_t>((packed[j + 8] >> 4) | (packed[j + 4] >> 6) << 4);
  }
}

// Inverse of unpack_k4_scales; scales and mins must be < 64.
inline void pack_k4_scales(const uint8_t* scales /*[8]*/, const uint8_t* mins /*[8]*/, uint8_t* packed /*[12]*/) {
  for (int j = 0; j < 4; ++j) {
    packed[j] = static_cast<uint8_t>(scales[j] | (scales[j + 4] >> 4) << 6);
    packed[j + 4] = static_cast<uint8_t>(mins[j] | (mins[j + 4] >> 4) << 6);
    packed[j + 8] = static_cast<uint8_t>((scales[j + 4] & 0x0F) | (mins[j + 4] & 0x0F) << 4);
  }
}

// Q3_K: 16 sub-blocks of 16, each with a 6-bit scale stored + 32, in 12 bytes: the low 4 bits
// of scale j in byte j % 8 (low nibble for j < 8, high nibble after), bits 4-5 in byte
// 8 + j % 4 at bit 2 * (j / 4).
inline void unpack_q3_k_scales(const uint8_t* packed /*[12]*/, int* scales /*[16], -32..31*/) {
  for (int j = 0; j < 16; ++j) {
    const int low = (packed[j % 8] >> (4 * (j / 8))) & 0x0F;
    const int high = (packed[8 + j % 4] >> (2 * (j / 4))) & 3;
    scales[j] = (low | high << 4) - 32;
  }
}

// Inverse of unpack_q3_k_scales, from the stored codes (scale + 32, 0..63).
inline void pack_q3_k_scales(const uint8_t* codes /*[16]*/, uint8_t* packed /*[12]*/) {
  for (int j = 0; j < 12; ++j) packed[j] = 0;
  for (int j = 0; j < 16; ++j) {
    packed[j % 8] |= (codes[j] & 0x0F) << (4 * (j / 8));
    packed[8 + j % 4] |= (codes[j] >> 4) << (2 * (j / 4));
  }
}

// The integer part of a K-quant dot product: sum over sub-blocks s of
// scales[s] * sum(q[e] * x[e] for e in s), for sub-blocks of kSub elements. Exact in int32:
// the largest case (Q6_K) is 256 * 128 * 32 * 127 < 2^31.
template <int kSub>
inline int32_t scaled_block_dot(const int8_t* q /*[256]*/, const int8_t* x /*[256]*/,
                                const int* scales /*[256 / kSub]*/) {
  int32_t total = 0;
  for (int s = 0; s < kQK_K / kSub; ++s) {
    int32_t sum = 0;
    for (int e = s * kSub; e < (s + 1) * kSub; ++e) sum += q[e] * x[e];
    total += scales[s] * sum;
  }
  return total;
}

}  // namespace corral::kernels
