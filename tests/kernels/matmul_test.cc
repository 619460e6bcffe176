// matmul: correct for odd shapes, and bit-identical whatever the thread count, the batch a row
// is in, or how its activations were encoded (shared or per call).
#include "kernels/matmul.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>

#include "kernel_test_util.h"

namespace corral::kernels::testing {
namespace {

// A weight matrix encoded from N(0, 1) values, with the storage it borrows.
struct EncodedWeights {
  std::vector<uint8_t> bytes;  // [rows][row_stride]
  WeightMatrix w;
};

EncodedWeights make_weights(DType t, int64_t rows, int64_t cols, uint32_t seed) {
  EncodedWeights e;
  const std::vector<float> values = normal_values(rows * cols, seed);
  e.bytes = encode(kernel_table(IsaLevel::kGeneric), t, values);
  e.w = WeightMatrix{t, rows, cols, e.bytes.data(), dtype_row_bytes(t, cols)};
  return e;
}

// Smallest k that is a whole number of blocks of both the weights and their activations.
int64_t unit_of(DType t) { return std::max(dtype_block_size(t), dtype_block_size(activation_type(t))); }

std::vector<float> run_matmul(const WeightMatrix& w, const std::vector<float>& x, int64_t n, ThreadPool& pool) {
  MatmulScratch scratch;
  std::vector<float> y(n * w.rows);
  matmul(w, x.data(), n, y.data(), w.rows, pool, scratch);
  return y;
}

bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

class MatmulTest : public ::testing::TestWithParam<DType> {};

TEST_P(MatmulTest, ThreadCountDoesNotChangeBits) {
  const DType t = GetParam();
  const int64_t m = 67, n = 5, k = 2 * unit_of(t) + (unit_of(t) == 1 ? 255 : 0);
  const EncodedWeights e = make_weights(t, m, k, 3);
  const std::vector<float> x = normal_values(n * k, 4);
  ThreadPool one(1), two(2);
  const std::vector<float> ref = run_matmul(e.w, x, n, one);
  // Work is handed out dynamically, so repeat to see different splits.
  for (int rep = 0; rep < 5; ++rep) EXPECT_TRUE(same_bits(run_matmul(e.w, x, n, two), ref));
}

// A token's outputs must not depend on which other tokens share its batch. k = 8192 also makes
// the activations span several n-tiles (256 KiB each), so rows land in different tiles.
TEST_P(MatmulTest, RowAloneEqualsRowInBatch) {
  const DType t = GetParam();
  ThreadPool pool(2);
  for (auto [n, k] : {std::pair<int64_t, int64_t>{8, 4 * unit_of(t)}, {33, 8192}}) {
    SCOPED_TRACE(k);
    const int64_t m = 19;
    const EncodedWeights e = make_weights(t, m, k, 5);
    const std::vector<float> x = normal_values(n * k, 6);
    const std::vector<float> batch = run_matmul(e.w, x, n, pool);
    for (int64_t j : {int64_t{0}, int64_t{3}, n - 1}) {
      const std::vector<float> row(x.begin() + j * k, x.begin() + (j + 1) * k);
      const std::vector<float> alone = run_matmul(e.w, row, 1, pool);
      const std::vector<float> in_batch(batch.begin() + j * m, batch.begin() + (j + 1) * m);
      EXPECT_TRUE(same_bits(alone, in_batch)) << "row " << j;
    }
  }
}

// Shapes around the 16-row chunks and single rows/tokens, against an f64 reference over the
// decoded weights and the decoded activations matmul actually used.
TEST_P(MatmulTest, OddShapesMatchReference) {
  const DType t = GetParam();
  const int64_t k = 3 * unit_of(t) + (unit_of(t) == 1 ? 97 : 0);
  ThreadPool pool(2);
  const KernelTable& generic = kernel_table(IsaLevel::kGeneric);
  for (int64_t m : {1, 3, 17, 255}) {
    const EncodedWeights e = make_weights(t, m, k, static_cast<uint32_t>(m));
    const std::vector<float> w_dec = decode(generic, t, e.bytes.data(), m * k);
    for (int64_t n : {1, 2, 5, 33}) {
      SCOPED_TRACE(::testing::Message() << "m=" << m << " n=" << n);
      const std::vector<float> x = normal_values(n * k, static_cast<uint32_t>(100 + n));
      MatmulScratch scratch;
      const QuantizedActivations& qa = quantize_activations(activation_type(t), x.data(), n, k, pool, scratch);
      const std::vector<float> x_dec = decode(generic, qa.type, qa.data, n * k);
      std::vector<float> y(n * m);
      matmul_quantized(e.w, qa, y.data(), m, pool);
      for (int64_t j = 0; j < n; ++j) {
        for (int64_t i = 0; i < m; ++i) {
          const auto* x_row = static_cast<const uint8_t*>(qa.data) + j * qa.row_bytes;
          double ref = q8_1_sum_correction(t, e.bytes.data() + i * e.w.row_stride, x_row, k);
          double mag = std::fabs(ref);
          for (int64_t c = 0; c < k; ++c) {
            const double p = static_cast<double>(w_dec[i * k + c]) * x_dec[j * k + c];
            ref += p;
            mag += std::fabs(p);
          }
          // As gemm_test.cc: exact integer sums leave only f32 rounding.
          ASSERT_NEAR(y[j * m + i], ref, 1e-5 * mag) << "i=" << i << " j=" << j;
        }
      }
    }
  }
}

// Q, K and V (or gate and up) share one encoding of their input; the result must be the
// same as encoding it per call.
TEST_P(MatmulTest, SharedActivationsGiveTheSameBits) {
  const DType t = GetParam();
  const int64_t n = 3, k = 2 * unit_of(t);
  const EncodedWeights a = make_weights(t, 20, k, 8), b = make_weights(t, 9, k, 9);
  const std::vector<float> x = normal_values(n * k, 10);
  ThreadPool pool(2);
  MatmulScratch scratch;
  const QuantizedActivations& qa = quantize_activations(activation_type(t), x.data(), n, k, pool, scratch);
  std::vector<float> ya(n * 20), yb(n * 9);
  matmul_quantized(a.w, qa, ya.data(), 20, pool);
  matmul_quantized(b.w, qa, yb.data(), 9, pool);
  EXPECT_TRUE(same_bits(ya, run_matmul(a.w, x, n, pool)));
  EXPECT_TRUE(same_bits(yb, run_matmul(b.w, x, n, pool)));
}

// y rows ldy apart: columns past w.rows belong to someone else (e.g. a wider output buffer).
TEST_P(MatmulTest, HonoursOutputStride) {
  const DType t = GetParam();
  const int64_t m = 21, n = 4, k = unit_of(t) * 2, ldy = 40;
  const EncodedWeights e = make_weights(t, m, k, 11);
  const std::vector<float> x = normal_values(n * k, 12);
  ThreadPool pool(2);
  MatmulScratch scratch;
  std::vector<float> y(n * ldy, 123.0f);
  matmul(e.w, x.data(), n, y.data(), ldy, pool, scratch);
  const std::vector<float> packed = run_matmul(e.w, x, n, pool);
  for (int64_t j = 0; j < n; ++j) {
    for (int64_t i = 0; i < ldy; ++i) {
      if (i < m) {
        EXPECT_EQ(y[j * ldy + i], packed[j * m + i]);
      } else {
        EXPECT_EQ(y[j * ldy + i], 123.0f);
      }
    }
  }
}

TEST_P(MatmulTest, GetRowIsThatRowDecoded) {
  const DType t = GetParam();
  const int64_t rows = 6, k = 2 * dtype_block_size(t) * (dtype_block_size(t) == 1 ? 33 : 1);
  const EncodedWeights e = make_weights(t, rows, k, 13);
  const std::vector<float> all = decode(kernel_table(IsaLevel::kGeneric), t, e.bytes.data(), rows * k);
  std::vector<float> row(k);
  for (int64_t r = 0; r < rows; ++r) {
    get_row(e.w, r, row.data());
    EXPECT_TRUE(same_bits(row, std::vector<float>(all.begin() + r * k, all.begin() + (r + 1) * k)));
  }
}

INSTANTIATE_TEST_SUITE_P(WeightTypes, MatmulTest, ::testing::ValuesIn(weight_types()), type_param_name);

// Interleaved weights (api.h kInterleaveRows) give the same bits as the rows they came from, for
// one token (the one-row kernels) and batches (the rows16 engine), with partial last groups and
// several row chunks; get_row reads them back unchanged. The AVX-512 Q4_K and Q6_K kernels and
// those of the 32-element formats take interleaved weights (for these, widths of 3 and 11
// blocks also reach the one-row kernel's partial last step); at AVX2 only Q4_0 and Q8_0 do, and
// without either level (or under CORRAL_CPU=generic) this test is skipped.
TEST(MatmulInterleaved, SameBitsAsRowOrder) {
  ThreadPool pool(2);
  int tested = 0;
  for (DType t : weight_types()) {
    if (!can_interleave(t)) continue;
    ++tested;
    for (int64_t m : {16, 19, 67, 133, 300}) {
      std::vector<int64_t> widths = {256, 2048};
      if (dtype_block_size(t) == 32) widths.insert(widths.end(), {96, 352});
      for (int64_t k : widths) {
        SCOPED_TRACE(::testing::Message() << dtype_name(t) << " m " << m << " k " << k);
        const EncodedWeights e = make_weights(t, m, k, static_cast<uint32_t>(m + k));
        std::vector<uint8_t> bytes = e.bytes;
        interleave_rows(t, bytes.data(), m, e.w.row_stride);
        // One block per row (a K-quant at k = 256) is already in interleaved order; more must move.
        if (k > dtype_block_size(t)) {
          EXPECT_NE(std::memcmp(bytes.data(), e.bytes.data(), bytes.size()), 0) << "the order changed";
        }
        WeightMatrix w = e.w;
        w.data = bytes.data();
        w.interleaved = true;
        for (int64_t n : {1, 2, 5, 8, 17}) {
          const std::vector<float> x = normal_values(n * k, static_cast<uint32_t>(n));
          EXPECT_TRUE(same_bits(run_matmul(w, x, n, pool), run_matmul(e.w, x, n, pool))) << "n " << n;
        }
        std::vector<float> a(k), b(k);
        for (int64_t r : {int64_t{0}, int64_t{5}, m / 2, m - 1}) {
          get_row(w, r, a.data());
          get_row(e.w, r, b.data());
          EXPECT_TRUE(same_bits(a, b)) << "row " << r;
        }
      }
    }
  }
  if (tested == 0) GTEST_SKIP() << "no kernel on this CPU takes interleaved weights";
  if (selected_isa() == IsaLevel::kAvx512) {
    EXPECT_EQ(tested, 9) << "Q4_K, Q6_K, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, IQ4_NL, MXFP4";
  } else {
    EXPECT_EQ(tested, 2) << "Q4_0, Q8_0";
  }
}

// Every level this CPU runs, called through its own table (so the AVX2 kernels are tested on an
// AVX-512 machine too): gemm_interleaved on interleaved bytes gives gemm's bits on the rows in
// order, for whole matrices (full groups and a partial last one) and for row chunks that start
// at a group, at every activation-row count up to two passes of the widest column group.
TEST(MatmulInterleaved, EveryLevelSameBitsAsItsRowOrder) {
  int tested = 0;
  for (IsaLevel level : supported_levels()) {
    const KernelTable& table = kernel_table(level);
    for (DType t : weight_types()) {
      // interleave_rows asks the active level whether t interleaves.
      if (table.gemm_interleaved[id(t)] == nullptr || !can_interleave(t)) continue;
      ++tested;
      const DType at = activation_type(t);
      for (int64_t m : {16, 35, 48}) {
        for (int64_t k : {unit_of(t), 3 * unit_of(t), int64_t{2048}}) {
          SCOPED_TRACE(::testing::Message() << isa_name(level) << " " << dtype_name(t) << " m " << m << " k " << k);
          const EncodedWeights e = make_weights(t, m, k, static_cast<uint32_t>(m * k));
          std::vector<uint8_t> bytes = e.bytes;
          interleave_rows(t, bytes.data(), m, e.w.row_stride);
          for (int64_t n : {1, 2, 3, 4, 5, 8, 9, 17}) {
            const std::vector<uint8_t> x =
                encode(kernel_table(IsaLevel::kGeneric), at, normal_values(n * k, static_cast<uint32_t>(n + k)));
            const size_t x_stride = dtype_row_bytes(at, k);
            std::vector<float> want(n * m), whole(n * m), chunks(n * m);
            table.gemm[id(t)](k, e.bytes.data(), e.w.row_stride, m, x.data(), x_stride, n, want.data(), m);
            table.gemm_interleaved[id(t)](k, bytes.data(), e.w.row_stride, m, x.data(), x_stride, n, whole.data(), m);
            for (int64_t i0 = 0; i0 < m; i0 += kInterleaveRows) {
              table.gemm_interleaved[id(t)](k, bytes.data() + i0 * e.w.row_stride, e.w.row_stride,
                                            std::min(kInterleaveRows, m - i0), x.data(), x_stride, n,
                                            chunks.data() + i0, m);
            }
            EXPECT_TRUE(same_bits(whole, want)) << "n " << n;
            EXPECT_TRUE(same_bits(chunks, want)) << "n " << n << " in chunks of 16 rows";
          }
        }
      }
    }
  }
  if (tested == 0) GTEST_SKIP() << "no level on this CPU takes interleaved weights";
}

// One scratch serves inputs of any size in any order: it grows, and smaller inputs reuse it.
TEST(MatmulScratch, ReusedAcrossSizes) {
  ThreadPool pool(2);
  MatmulScratch scratch;
  const EncodedWeights e = make_weights(DType::kQ8_0, 16, 256, 14);
  for (int64_t n : {2, 40, 1, 7}) {
    const std::vector<float> x = normal_values(n * 256, static_cast<uint32_t>(n));
    std::vector<float> y(n * 16);
    matmul(e.w, x.data(), n, y.data(), 16, pool, scratch);
    EXPECT_TRUE(same_bits(y, run_matmul(e.w, x, n, pool))) << n;
  }
}

}  // namespace
}  // namespace corral::kernels::testing
