// Internal: what the 4-bit lookup-table formats (IQ4_NL, IQ4_XS, MXFP4) share between their
// quantizers, dequantizers and dot products, scalar and SIMD: the value tables, the E8M0 scale
// and IQ4_XS's packed sub-block scales. Codes sit in Q4_0's nibble order (legacy_layout.h).
#pragma once

#include <cstdint>
#include <cstring>

#include "tensor/blocks.h"

namespace corral::kernels {

// IQ4_NL and IQ4_XS: ggml's kvalues_iq4nl, a non-linear grid denser near zero (where most
// weights are) than Q4_0's evenly spaced one.
inline constexpr int8_t kIQ4NLValues[16] = {-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113};

// MXFP4: the 16 E2M1 values (sign, 2 exponent bits, 1 mantissa bit: 0, 0.5, 1, 1.5, 2, 3, 4, 6)
// times 2, so they are integers; the block scale is halved to match (e8m0_to_f32_half).
inline constexpr int8_t kMXFP4Values[16] = {0, 1, 2, 3, 4, 6, 8, 12, 0, -1, -2, -3, -4, -6, -8, -12};

// 2^(e - 128), exactly, for every byte e, as ggml's ggml_e8m0_to_fp32_half: e = 0 and 1 give
// the subnormals 2^-128 and 2^-127, e = 255 gives 2^127 (E8M0's NaN code is not special-cased
// by ggml, so it is not here either: it decodes as the largest power of two).
inline float e8m0_to_f32_half(uint8_t e) {
  const uint32_t bits = e < 2 ? 0x00200000u << e : static_cast<uint32_t>(e - 1) << 23;
  float f;
  std::memcpy(&f, &bits, sizeof f);
  return f;
}

constexpr int kIQ4XSSubBlocks = 8;  // sub-blocks of 32 per IQ4_XS super-block

// IQ4_XS sub-block s's signed scale (ls - 32, in [-32, 31]): the 6-bit ls has its low 4 bits
// in nibble s % 2 of scales_l[s / 2] and its top 2 bits at bit 2s of scales_h.
inline int iq4_xs_scale(const BlockIQ4_XS& b, int s) {
  const int low = (b.scales_l[s / 2] >> (4 * (s % 2))) & 0x0F;
  const int high = (b.scales_h >> (2 * s)) & 0x03;
  return (low | high << 4) - 32;
}

}  // namespace corral::kernels
