// Helpers shared by the kernel tests: the types and ISA levels to loop over, seeded data, and
// encode/decode through a chosen kernel table.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>
#include <map>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "base/cpu_features.h"
#include "base/fp16.h"
#include "kernels/api.h"
#include "tensor/blocks.h"
#include "tensor/dtype.h"

namespace corral::kernels::testing {

inline uint32_t id(DType t) { return static_cast<uint32_t>(t); }

// Every level this CPU can run, generic first: each test compares them all, so a SIMD kernel
// is tested the day it is registered.
inline std::vector<IsaLevel> supported_levels() {
  std::vector<IsaLevel> levels;
  for (int l = 0; l <= static_cast<int>(max_supported_isa()); ++l) { levels.push_back(static_cast<IsaLevel>(l)); }
  return levels;
}

// Types corral computes with (dtype_traits(t).supported).
inline std::vector<DType> supported_types() {
  std::vector<DType> types;
  for (uint32_t i = 0; i < kDTypeIdLimit; ++i) {
    if (dtype_traits(i).supported) types.push_back(static_cast<DType>(i));
  }
  return types;
}

// Types that only ever encode activations, never weights.
inline bool is_activation_only(DType t) { return t == DType::kQ8_1 || t == DType::kQ8_K; }

inline std::vector<DType> weight_types() {
  std::vector<DType> types;
  for (DType t : supported_types()) {
    if (!is_activation_only(t)) types.push_back(t);
  }
  return types;
}

// For TEST_P names: "q4_K" etc.
inline std::string type_param_name(const ::testing::TestParamInfo<DType>& info) { return dtype_name(info.param); }

// n values from N(0, sigma^2), seeded.
inline std::vector<float> normal_values(int64_t n, uint32_t seed, float sigma = 1.0f) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.0f, sigma);
  std::vector<float> v(static_cast<size_t>(n));
  for (float& x : v) x = dist(rng);
  return v;
}

inline std::vector<uint8_t> encode(const KernelTable& table, DType t, const std::vector<float>& x) {
  std::vector<uint8_t> out(dtype_row_bytes(t, static_cast<int64_t>(x.size())));
  table.quantize_row[id(t)](x.data(), out.data(), static_cast<int64_t>(x.size()));
  return out;
}

inline std::vector<float> decode(const KernelTable& table, DType t, const void* data, int64_t n) {
  std::vector<float> out(static_cast<size_t>(n));
  table.dequantize_row[id(t)](data, out.data(), n);
  return out;
}

// sqrt(sum (a - b)^2 / sum b^2): error of a relative to the signal b.
inline double relative_rmse(const std::vector<float>& a, const std::vector<float>& b) {
  double err = 0, sig = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    err += (static_cast<double>(a[i]) - b[i]) * (static_cast<double>(a[i]) - b[i]);
    sig += static_cast<double>(b[i]) * b[i];
  }
  return std::sqrt(err / sig);
}

// Round-trip error on N(0, 1) data relative to the signal's RMS: what each format's bits per
// weight buy, measured on the reference quantizers with ~25% headroom, so a broken scale
// search or bit layout (errors of tens of percent) fails while the exact ggml procedures
// pass. F16/BF16 are bounded by their rounding, at most ulp / sqrt(12) relative:
// 2^-10 / sqrt(12) = 2.8e-4 and 2^-7 / sqrt(12) = 2.3e-3.
inline double round_trip_bound(DType t) {
  static const std::map<DType, double> bounds = {
      {DType::kF32, 0.0},
      {DType::kF16, 2.9e-4},
      {DType::kBF16, 2.3e-3},
      {DType::kQ8_0, 0.007},
      {DType::kQ8_1, 0.007},
      {DType::kQ8_K, 0.009},
      {DType::kQ6_K, 0.023},
      {DType::kQ5_0, 0.055},
      {DType::kQ5_1, 0.048},
      {DType::kQ5_K, 0.045},
      {DType::kQ4_0, 0.11},
      {DType::kQ4_1, 0.10},
      {DType::kQ4_K, 0.09},
      {DType::kQ3_K, 0.19},
      {DType::kQ2_K, 0.37},
      // Measured 0.077 (both IQ4: the non-linear grid beats Q4_0's 0.088 at the same size) and
      // 0.117 (MXFP4: a power-of-two scale cannot fit each block's range, and the largest
      // value clips to the grid's 12 units).
      {DType::kIQ4_NL, 0.097},
      {DType::kIQ4_XS, 0.097},
      {DType::kMXFP4, 0.145},
  };
  return bounds.at(t);
}

// Q4_1/Q5_1 dots add m_w * s_x per block, where s = f16(d * sum(q)) is rounded on its own
// while the decoded activations imply f16(d) * sum(q). Returns what that difference adds to
// the dot of one weight row and one Q8_1 activation row, so a reference built from decoded
// operands can match the kernel to f32 rounding; 0 for other weight types.
inline double q8_1_sum_correction(DType weight_type, const uint8_t* w_row, const uint8_t* x_row, int64_t k) {
  if (activation_type(weight_type) != DType::kQ8_1) return 0.0;
  const auto* xb = reinterpret_cast<const BlockQ8_1*>(x_row);
  const size_t w_block_bytes = dtype_traits(weight_type).type_size;
  double total = 0;
  for (int64_t b = 0; b < k / kQK8_1; ++b) {
    uint16_t m_bits;  // Q4_1 and Q5_1 both start with f16 d, then f16 m
    std::memcpy(&m_bits, w_row + b * w_block_bytes + sizeof(uint16_t), sizeof m_bits);
    const int sum_q = std::accumulate(xb[b].qs, xb[b].qs + kQK8_1, 0);
    total += static_cast<double>(fp16_to_f32(m_bits)) *
             (fp16_to_f32(xb[b].s) - static_cast<double>(fp16_to_f32(xb[b].d)) * sum_q);
  }
  return total;
}

}  // namespace corral::kernels::testing
