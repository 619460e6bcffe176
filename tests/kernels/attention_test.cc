// The blocked attention kernels (kernels::AttentionArgs) at every ISA level and KV type against
// a double-precision two-pass softmax over the same decoded K and V and, over a quantized K,
// the query rounded to q8 as the kernels score it (round_query_block_q8).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <vector>

#include "kernel_test_util.h"
#include "kernels/generic/attention_query.h"

namespace corral::kernels::testing {
namespace {

const DType kKvTypes[] = {DType::kF32, DType::kF16, DType::kQ8_0, DType::kQ4_0};

struct Shape {
  int64_t group, head_dim;
  int64_t first, n_ctx;  // attended positions [first, n_ctx) of a sequence starting at block 0
  bool sinks;
};

// One (token, KV head): K/V in blocks of kAttnBlockTokens rows, each block its own allocation
// as in the paged cache; rows outside [first, n_ctx) hold NaN (the cache's rows there may
// hold anything: stale data, or nothing written yet), which must not reach the output.
struct Case {
  Shape shape;
  DType type;
  std::vector<float> q;                    // [group][head_dim]
  std::vector<float> q_scored;             // [group][head_dim] q as the kernels score it
  std::vector<float> sinks;                // [group]
  std::vector<std::vector<uint8_t>> k, v;  // [n_blocks][kAttnBlockTokens rows of the type]
  std::vector<float> k_dec, v_dec;         // [n_ctx][head_dim] decoded (what the kernel reads)
  std::vector<const void*> v_ptr;          // [n_blocks] from the first attended block

  Case(const Shape& s, DType t, uint32_t seed) : shape(s), type(t) {
    const KernelTable& ref = kernel_table(IsaLevel::kGeneric);
    const int64_t hd = s.head_dim, B = kAttnBlockTokens;
    const int64_t n_blocks = (s.n_ctx + B - 1) / B;
    q = normal_values(s.group * hd, seed);
    round_query();
    sinks = normal_values(s.group, seed + 1, 2.0f);
    // K and V of different scales, so scores are spread (softmax not flat) and a mix-up of K
    // and V shows.
    const std::vector<float> kx = normal_values(n_blocks * B * hd, seed + 2, 1.5f);
    const std::vector<float> vx = normal_values(n_blocks * B * hd, seed + 3, 3.0f);
    const size_t row = dtype_row_bytes(t, hd);
    for (int64_t b = 0; b < n_blocks; ++b) {
      std::vector<uint8_t> kb(B * row), vb(B * row);
      for (int64_t j = 0; j < B; ++j) {
        ref.quantize_row[id(t)](kx.data() + (b * B + j) * hd, kb.data() + j * row, hd);
        ref.quantize_row[id(t)](vx.data() + (b * B + j) * hd, vb.data() + j * row, hd);
        const int64_t pos = b * B + j;
        if (pos < s.first || pos >= s.n_ctx) {
          poison(kb.data() + j * row, hd);
          poison(vb.data() + j * row, hd);
        }
      }
      k.push_back(kb);
      v.push_back(vb);
    }
    for (int64_t pos = 0; pos < s.n_ctx; ++pos) {
      const int64_t b = pos / B, j = pos % B;
      const auto kd = decode(ref, t, k[b].data() + j * row, hd);
      const auto vd = decode(ref, t, v[b].data() + j * row, hd);
      k_dec.insert(k_dec.end(), kd.begin(), kd.end());
      v_dec.insert(v_dec.end(), vd.begin(), vd.end());
    }
    for (int64_t b = s.first / B; b < n_blocks; ++b) { v_ptr.push_back(v[b].data()); }
  }

  // Over a quantized K the kernels score q rounded to q8 per 32-element block (d * code, the
  // products their integer dot computes exactly); over F32 / F16, q itself.
  void round_query() {
    q_scored = q;
    if (type != DType::kQ8_0 && type != DType::kQ4_0) return;
    int8_t codes[kAttnQueryBlock];
    for (size_t i = 0; i < q.size(); i += kAttnQueryBlock) {
      const float d = round_query_block_q8(q.data() + i, codes);
      for (int64_t e = 0; e < kAttnQueryBlock; ++e) q_scored[i + e] = d * static_cast<float>(codes[e]);
    }
  }

  // NaN in every element of a row: floats directly, quantized blocks through their f16 scale.
  void poison(uint8_t* row, int64_t hd) const {
    const uint16_t nan16 = 0x7E00;
    if (type == DType::kF32) {
      const float nan = std::numeric_limits<float>::quiet_NaN();
      for (int64_t e = 0; e < hd; ++e) std::memcpy(row + e * 4, &nan, 4);
    } else if (type == DType::kF16) {
      for (int64_t e = 0; e < hd; ++e) std::memcpy(row + e * 2, &nan16, 2);
    } else {
      const size_t block = dtype_traits(type).type_size;  // Q8_0 and Q4_0 start with f16 d
      for (int64_t b = 0; b < hd / 32; ++b) std::memcpy(row + b * block, &nan16, 2);
    }
  }

  std::vector<float> run(const KernelTable& table) const {
    const int64_t hd = shape.head_dim, B = kAttnBlockTokens;
    std::vector<float> out(shape.group * hd, -1.0f);
    std::vector<float> scratch(attention_scratch_floats(shape.group, hd), std::numeric_limits<float>::quiet_NaN());
    AttentionArgs a;
    a.group = shape.group;
    a.head_dim = hd;
    a.scale = 1.0f / std::sqrt(static_cast<float>(hd));
    // K as this level's kernel reads it (store_k_row), placed row by row from the rows in order.
    const size_t row = dtype_row_bytes(type, hd);
    std::vector<std::vector<uint8_t>> k_level(k.size(), std::vector<uint8_t>(B * row));
    for (size_t b = 0; b < k.size(); ++b)
      for (int64_t j = 0; j < B; ++j) table.store_k_row[id(type)](k[b].data() + j * row, k_level[b].data(), j, hd);
    std::vector<const void*> k_level_ptr;
    for (size_t b = static_cast<size_t>(shape.first / B); b < k.size(); ++b) k_level_ptr.push_back(k_level[b].data());
    a.q = q.data();
    a.sinks = shape.sinks ? sinks.data() : nullptr;
    a.k = k_level_ptr.data();
    a.v = v_ptr.data();
    a.n_blocks = static_cast<int64_t>(v_ptr.size());
    a.skip = shape.first % B;
    a.last_len = shape.n_ctx - (shape.n_ctx - 1) / B * B;
    a.out = out.data();
    a.scratch = scratch.data();
    table.attention[id(type)](a);
    return out;
  }

  // Two-pass softmax in double over the decoded K/V.
  std::vector<double> expected() const {
    const int64_t hd = shape.head_dim;
    const double scale = 1.0 / std::sqrt(static_cast<double>(static_cast<float>(hd)));
    std::vector<double> out(shape.group * hd, 0.0);
    for (int64_t h = 0; h < shape.group; ++h) {
      std::vector<double> s;
      double m = shape.sinks ? sinks[h] : -INFINITY;
      for (int64_t p = shape.first; p < shape.n_ctx; ++p) {
        double d = 0;
        for (int64_t e = 0; e < hd; ++e) d += static_cast<double>(q_scored[h * hd + e]) * k_dec[p * hd + e];
        s.push_back(d * static_cast<float>(scale));
        m = std::max(m, s.back());
      }
      double l = shape.sinks ? std::exp(sinks[h] - m) : 0.0;
      for (double x : s) l += std::exp(x - m);
      for (int64_t p = shape.first; p < shape.n_ctx; ++p) {
        const double w = std::exp(s[p - shape.first] - m) / l;
        for (int64_t e = 0; e < hd; ++e) out[h * hd + e] += w * v_dec[p * hd + e];
      }
    }
    return out;
  }

  double max_abs_v() const {
    double m = 0;
    for (int64_t p = shape.first; p < shape.n_ctx; ++p)
      for (int64_t e = 0; e < shape.head_dim; ++e)
        m = std::max(m, std::fabs(static_cast<double>(v_dec[p * shape.head_dim + e])));
    return m;
  }
};

// Tolerance, as a fraction of max |v| (the output is a convex combination of V rows, or less
// with a sink). Each probability carries: its score's rounding (a dot of head_dim products of
// O(1) terms, ~sqrt(hd) ulps in practice, ~1e-6 absolute for hd = 128, which exp turns into
// the same relative error), the exp polynomial's ~2 ulp, one rescale of the running sum and
// accumulators per block (1 ulp each, up to 19 blocks here: online softmax reorders the two-
// pass formula's sums, so nothing cancels exactly) and the final 1 / sum; the V accumulation
// adds one rounding per position relative to the running total. Summed: ~30 ulps, 2e-6 of
// max |v|; 1e-5 leaves 5x (measured: about 1.5e-7, printed as a share of the bound), while a
// wrong mask, a lost rescale or a block off by one moves outputs by 1e-2 of max |v| or more.
// Over a quantized K the SIMD levels' integer dot of the codes is exact and only its per-block
// scaling rounds (d_k * d_q * scale, 2 ulps per 32 elements), so the same bound holds against
// the expectation with q rounded as they round it (measured: 1.3e-7). Against the unrounded q
// the same outputs are off by 1.4e-3..2.8e-3 of max |v| (measured), 140-280x the bound: a level
// that rounded q differently, or not at all, fails here.
constexpr double kRelTolerance = 1e-5;

// The AVX-512 kernel multiplies a Q8_0 / Q4_0 V by the weights p_j * d_j rounded to 15-bit
// integers per step of two blocks (unit = the step's largest weight bound / 32767; see
// quantize_weights there): each weight is off by up to half a unit, at most 16 / 32767 of
// max |v| (4.9e-4) if all 32 roundings of a step fell the same way at the largest
// probability, ~sqrt(32) / 65534 x a typical |code| / 127 (~2e-5) as round-to-nearest
// errors of unrelated values fall. Measured: 1.4e-5..2.5e-5. 1e-4 leaves 4x and stays 100x
// under what a wrong mask or block moves (1e-2); V's own q8_0 rounding is 2e-3 of max |v|.
constexpr double kRelToleranceRoundedWeights = 1e-4;

bool rounds_weights(DType t, IsaLevel l) { return (t == DType::kQ8_0 || t == DType::kQ4_0) && l == IsaLevel::kAvx512; }

// The largest error / tolerance seen, printed per test (how much headroom the bound has).
double g_worst_share = 0;

void expect_matches(const Case& c, const std::vector<float>& got, const std::string& what, IsaLevel level) {
  const std::vector<double> want = c.expected();
  const double tol = (rounds_weights(c.type, level) ? kRelToleranceRoundedWeights : kRelTolerance) * c.max_abs_v();
  double worst = 0;
  for (size_t i = 0; i < want.size(); ++i) {
    ASSERT_TRUE(std::isfinite(got[i])) << what << " element " << i;
    worst = std::max(worst, std::fabs(got[i] - want[i]));
  }
  EXPECT_LE(worst, tol) << what;
  g_worst_share = std::max(g_worst_share, worst / tol);
}

std::string name(const Shape& s, DType t, IsaLevel l) {
  return "group " + std::to_string(s.group) + " hd " + std::to_string(s.head_dim) + " positions [" +
         std::to_string(s.first) + ", " + std::to_string(s.n_ctx) + ")" + (s.sinks ? " sinks " : " ") + dtype_name(t) +
         " " + isa_name(l);
}

TEST(Attention, EveryLevelMatchesTheTwoPassSoftmax) {
  const Shape shapes[] = {
      {4, 64, 0, 1, false},    // the first token: one position
      {4, 64, 0, 16, false},   // one full block
      {4, 64, 0, 300, false},  // 19 blocks, the last partial
      {4, 64, 37, 300, true},  // a sliding window: block 0 starts mid-block; sinks
      {1, 128, 5, 21, true},   // window inside two blocks, one head
      {3, 128, 0, 77, false},  // odd group (Llama 3.2 3B's 3:1)
      {8, 64, 0, 50, true},    // gpt-oss's 8 heads per KV head
      {12, 32, 3, 40, false},  // more heads than one register slice
      {2, 96, 16, 33, false},  // window starting on a block boundary
  };
  for (IsaLevel level : supported_levels()) {
    const KernelTable& table = kernel_table(level);
    for (DType t : kKvTypes) {
      uint32_t seed = 100;
      for (const Shape& s : shapes) {
        const Case c(s, t, seed += 10);
        expect_matches(c, c.run(table), name(s, t, level), level);
      }
    }
  }
  std::printf("[metrics] worst error %.3g of the tolerance\n", g_worst_share);
}

TEST(Attention, FloatCachesTakeHeadDimsBelowOneVector) {
  // Tiny models (stories260K: head_dim 8, tinystories: 16) keep F32/F16 caches.
  const Shape shapes[] = {{2, 2, 0, 5, true}, {2, 8, 0, 40, false}, {2, 16, 9, 40, false}, {1, 24, 0, 17, true}};
  for (IsaLevel level : supported_levels()) {
    for (DType t : {DType::kF32, DType::kF16}) {
      uint32_t seed = 500;
      for (const Shape& s : shapes) {
        const Case c(s, t, seed += 10);
        expect_matches(c, c.run(kernel_table(level)), name(s, t, level), level);
      }
    }
  }
  std::printf("[metrics] worst error %.3g of the tolerance\n", g_worst_share);
}

TEST(Attention, AHeadsResultDoesNotDependOnItsGroup) {
  // The same head alone and as head 2 of a group of 5: the same bits at every level (the
  // operations on one head never mix with another's).
  for (IsaLevel level : supported_levels()) {
    for (DType t : kKvTypes) {
      Case group(Shape{5, 64, 0, 90, true}, t, 900);
      Case alone(Shape{1, 64, 0, 90, true}, t, 900);
      alone.q.assign(group.q.begin() + 2 * 64, group.q.begin() + 3 * 64);
      alone.round_query();
      alone.sinks = {group.sinks[2]};
      const auto g = group.run(kernel_table(level));
      const auto a = alone.run(kernel_table(level));
      for (int64_t e = 0; e < 64; ++e) ASSERT_EQ(g[2 * 64 + e], a[e]) << dtype_name(t) << " " << isa_name(level);
    }
  }
}

}  // namespace
}  // namespace corral::kernels::testing
