// Byte layouts of ggml's quantization blocks, exactly as stored in GGUF files.
// Each block holds block_size elements: x[i] = d * q[i] (+ min), see kernels/generic for the
// reference (de)quantizers. F16 fields are raw IEEE half bits (base/fp16.h).
#pragma once

#include <cstdint>

namespace corral {

constexpr int kQK4_0 = 32, kQK4_1 = 32, kQK5_0 = 32, kQK5_1 = 32, kQK8_0 = 32, kQK8_1 = 32;
constexpr int kQK_K = 256;       // K-quant super-block
constexpr int kKScaleSize = 12;  // packed 6-bit scales/mins of Q4_K and Q5_K

struct BlockQ4_0 {
  uint16_t d;      // scale (f16)
  uint8_t qs[16];  // 32 nibbles: element j in low nibble of qs[j], j+16 in the high nibble; q-8
};
struct BlockQ4_1 {
  uint16_t d, m;  // scale, min (f16): x = d*q + m
  uint8_t qs[16];
};
struct BlockQ5_0 {
  uint16_t d;
  uint8_t qh[4];   // 5th bit of each of the 32 elements (bit j of the little-endian u32)
  uint8_t qs[16];  // low 4 bits, same nibble order as Q4_0; q-16
};
struct BlockQ5_1 {
  uint16_t d, m;
  uint8_t qh[4];
  uint8_t qs[16];
};
struct BlockQ8_0 {
  uint16_t d;
  int8_t qs[32];
};
struct BlockQ8_1 {
  uint16_t d;  // scale (f16)
  uint16_t s;  // d * sum(qs) (f16), lets Q4_1/Q5_1 dots apply their min cheaply
  int8_t qs[32];
};
struct BlockQ2_K {
  uint8_t scales[16];  // per 16 elements: low nibble scale, high nibble min (4 bits each)
  uint8_t qs[64];      // 2-bit quants
  uint16_t d, dmin;    // super-block scale for scales / for mins (f16)
};
struct BlockQ3_K {
  uint8_t hmask[32];   // high (3rd) bit of the quants
  uint8_t qs[64];      // low 2 bits
  uint8_t scales[12];  // 16 scales of 6 bits, packed
  uint16_t d;          // super-block scale (f16)
};
struct BlockQ4_K {
  uint16_t d, dmin;             // super-block scales (f16)
  uint8_t scales[kKScaleSize];  // 8 scales + 8 mins, 6 bits each, packed
  uint8_t qs[128];              // 4-bit quants
};
struct BlockQ5_K {
  uint16_t d, dmin;
  uint8_t scales[kKScaleSize];
  uint8_t qh[32];   // 5th bits
  uint8_t qs[128];  // low 4 bits
};
struct BlockQ6_K {
  uint8_t ql[128];    // low 4 bits
  uint8_t qh[64];     // high 2 bits
  int8_t scales[16];  // 8-bit scales, one per 16 elements
  uint16_t d;         // super-block scale (f16)
};
// The 4-bit lookup-table formats: each code indexes a table of 16 signed 8-bit values (the
// tables and the scale decoding are in kernels/generic/lut4_layout.h).
struct BlockIQ4_NL {
  uint16_t d;      // scale (f16): x = d * kIQ4NLValues[code]
  uint8_t qs[16];  // 32 codes, Q4_0's nibble order (element j low nibble of qs[j], j+16 high)
};
struct BlockIQ4_XS {
  uint16_t d;           // super-block scale (f16)
  uint16_t scales_h;    // bits 4-5 of sub-block s's 6-bit scale at bits 2s, 2s+1
  uint8_t scales_l[4];  // bits 0-3 of the scale of sub-block s in nibble s % 2 of byte s / 2
  uint8_t qs[128];      // [sub-block][16]: its 32 codes in IQ4_NL's nibble order
};
struct BlockMXFP4 {
  uint8_t e;       // E8M0 exponent: x = kMXFP4Values[code] * 2^(e - 128)
  uint8_t qs[16];  // 32 E2M1 codes in Q4_0's nibble order
};

// Activation format for K-quant dot products (never stored in files).
struct BlockQ8_K {
  float d;
  int8_t qs[256];
  int16_t bsums[16];  // sum of each group of 16 qs
};

static_assert(sizeof(BlockQ4_0) == 18);
static_assert(sizeof(BlockQ4_1) == 20);
static_assert(sizeof(BlockQ5_0) == 22);
static_assert(sizeof(BlockQ5_1) == 24);
static_assert(sizeof(BlockQ8_0) == 34);
static_assert(sizeof(BlockQ8_1) == 36);
static_assert(sizeof(BlockQ2_K) == 84);
static_assert(sizeof(BlockQ3_K) == 110);
static_assert(sizeof(BlockQ4_K) == 144);
static_assert(sizeof(BlockQ5_K) == 176);
static_assert(sizeof(BlockQ6_K) == 210);
static_assert(sizeof(BlockQ8_K) == 292);
static_assert(sizeof(BlockIQ4_NL) == 18);
static_assert(sizeof(BlockIQ4_XS) == 136);
static_assert(sizeof(BlockMXFP4) == 17);

}  // namespace corral
