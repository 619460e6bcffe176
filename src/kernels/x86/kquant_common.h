// Internal: what the AVX2 and AVX-512 K-quant kernels share that does not depend on the
// instruction set: the registration function of each of their files, and word-at-a-time
// unpacking of the packed 6-bit scales (the byte-by-byte definitions are in
// generic/k_quant_layout.h; kquant_simd_test.cc checks these against them).
#pragma once

#include <cstdint>
#include <cstring>

#include "kernels/api.h"

namespace corral::kernels {

// x86/avx2/*.cc and x86/avx512/*.cc of the K-quant family; register_kquants.cc calls them.
void register_avx2_q2_k_q3_k(KernelTable& t);
void register_avx2_q4_k_q5_k(KernelTable& t);
void register_avx2_q6_k(KernelTable& t);
void register_avx2_quantize_q8_k(KernelTable& t);
void register_avx512_q2_k_q3_k(KernelTable& t);  // Q2_K and Q3_K dequantize
void register_avx512_q2_k_q3_k_gemm(KernelTable& t);
void register_avx512_q4_k_q5_k(KernelTable& t);  // Q4_K and Q5_K dequantize
void register_avx512_q4_k_q5_k_gemm(KernelTable& t);
void register_avx512_q6_k(KernelTable& t);  // Q6_K dequantize
void register_avx512_q6_k_gemm(KernelTable& t);
void register_avx512_quantize_q8_k(KernelTable& t);

namespace kquant {

// Q4_K/Q5_K scales and mins: byte s of `scales` is sub-block s's 6-bit scale, byte s of `mins`
// its 6-bit min (little-endian).
struct K4Scales {
  uint64_t scales;
  uint64_t mins;
};

// The 12 packed bytes as three words: bytes 0-3 hold scales 0-3 (bits 0-5) and bits 4-5 of
// scales 4-7 (bits 6-7); bytes 4-7 the same for mins; bytes 8-11 the low 4 bits of scale 4-7
// (low nibble) and min 4-7 (high nibble). Shifting a whole word by 2 moves every byte's top two
// bits to bits 4-5 of the same byte, so four fields are rebuilt per operation.
inline K4Scales unpack_k4_scales(const uint8_t* packed /*[12]*/) {
  uint32_t a, b, c;
  std::memcpy(&a, packed, 4);
  std::memcpy(&b, packed + 4, 4);
  std::memcpy(&c, packed + 8, 4);
  const uint32_t scales_low = a & 0x3F3F3F3Fu;
  const uint32_t mins_low = b & 0x3F3F3F3Fu;
  const uint32_t scales_high = (c & 0x0F0F0F0Fu) | ((a >> 2) & 0x30303030u);
  const uint32_t mins_high = ((c >> 4) & 0x0F0F0F0Fu) | ((b >> 2) & 0x30303030u);
  return {scales_low | uint64_t{scales_high} << 32, mins_low | uint64_t{mins_high} << 32};
}

// Q3_K: the 16 stored scale codes (scale + 32, 0..63), byte s of words[s / 8] for sub-block s.
// The low 4 bits of code s are nibble s / 8 of byte s % 8; bits 4-5 are at bit 2 * (s / 4) of
// byte 8 + s % 4, so each group of four codes takes its high bits from one shift of that word.
inline void unpack_q3_k_scale_codes(const uint8_t* packed /*[12]*/, uint64_t words[2]) {
  uint64_t low;
  uint32_t high;
  std::memcpy(&low, packed, 8);
  std::memcpy(&high, packed + 8, 4);
  constexpr uint64_t kNibbles = 0x0F0F0F0F0F0F0F0Full;
  constexpr uint32_t kCrumbs = 0x03030303u;
  const uint64_t high_0_7 = (high & kCrumbs) | uint64_t{(high >> 2) & kCrumbs} << 32;
  const uint64_t high_8_15 = ((high >> 4) & kCrumbs) | uint64_t{(high >> 6) & kCrumbs} << 32;
  words[0] = (low & kNibbles) | high_0_7 << 4;
  words[1] = ((low >> 4) & kNibbles) | high_8_15 << 4;
}

}  // namespace kquant
}  // namespace corral::kernels
