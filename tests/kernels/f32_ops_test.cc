// The f32 vector ops at every ISA level against their formulas evaluated in double.
#include <gtest/gtest.h>

#include <cmath>

#include "kernel_test_util.h"

namespace corral::kernels::testing {
namespace {

// Odd length, so SIMD paths also run their scalar tails.
constexpr int64_t kN = 301;

// Relative tolerance per element against the double formula: a few f32 roundings, plus room
// for the polynomial exp a SIMD path may use (ggml's are within a few ulp) in swiglu/softmax.
constexpr double kTolerance = 1e-5;

// magnitude[i]: what element i's rounding error scales with (|want| unless terms cancel).
void expect_close(const std::vector<float>& got, const std::vector<double>& want,
                  const std::vector<double>& magnitude) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) { EXPECT_NEAR(got[i], want[i], kTolerance * magnitude[i]) << i; }
}

void expect_close(const std::vector<float>& got, const std::vector<double>& want) {
  std::vector<double> magnitude(want.size());
  for (size_t i = 0; i < want.size(); ++i) magnitude[i] = std::fabs(want[i]);
  expect_close(got, want, magnitude);
}

TEST(F32Ops, RmsNorm) {
  const std::vector<float> x = normal_values(kN, 1, 3.0f), w = normal_values(kN, 2);
  const float eps = 1e-5f;
  double ss = 0;
  for (float v : x) ss += static_cast<double>(v) * v;
  const double scale = 1.0 / std::sqrt(ss / kN + eps);
  std::vector<double> want_w(kN), want_plain(kN);
  for (int64_t i = 0; i < kN; ++i) {
    want_plain[i] = x[i] * scale;
    want_w[i] = x[i] * scale * w[i];
  }
  for (IsaLevel level : supported_levels()) {
    SCOPED_TRACE(isa_name(level));
    const KernelTable& t = kernel_table(level);
    std::vector<float> y(kN);
    t.rms_norm(x.data(), w.data(), y.data(), kN, eps);
    expect_close(y, want_w);
    std::vector<float> in_place = x;  // y may alias x; w may be absent
    t.rms_norm(in_place.data(), nullptr, in_place.data(), kN, eps);
    expect_close(in_place, want_plain);
  }
}

TEST(F32Ops, Swiglu) {
  const std::vector<float> gate = normal_values(kN, 3, 4.0f), up = normal_values(kN, 4);
  std::vector<double> want(kN);
  for (int64_t i = 0; i < kN; ++i) {
    const double g = gate[i];
    want[i] = g / (1.0 + std::exp(-g)) * up[i];
  }
  for (IsaLevel level : supported_levels()) {
    SCOPED_TRACE(isa_name(level));
    std::vector<float> out = gate;  // out may alias gate
    kernel_table(level).swiglu(out.data(), up.data(), out.data(), kN);
    expect_close(out, want);
  }
}

TEST(F32Ops, GegluTanh) {
  const std::vector<float> gate = normal_values(kN, 6, 4.0f), up = normal_values(kN, 7);
  std::vector<double> want(kN), magnitude(kN);
  for (int64_t i = 0; i < kN; ++i) {
    const double g = gate[i];
    want[i] = 0.5 * g * (1.0 + std::tanh(std::sqrt(2.0 / M_PI) * g * (1.0 + 0.044715 * g * g))) * up[i];
    // For negative g, 1 + tanh(...) cancels: the rounding error scales with |g * up|.
    magnitude[i] = std::fabs(g * up[i]);
  }
  for (IsaLevel level : supported_levels()) {
    SCOPED_TRACE(isa_name(level));
    std::vector<float> out = gate;  // out may alias gate
    kernel_table(level).geglu_tanh(out.data(), up.data(), out.data(), kN);
    expect_close(out, want, magnitude);
    // Known values of the tanh approximation (not erf's GELU: 0.841345 at 1).
    const float g[3] = {1.0f, -30.0f, 30.0f}, one[3] = {1.0f, 1.0f, 1.0f};
    float y[3];
    kernel_table(level).geglu_tanh(g, one, y, 3);
    EXPECT_NEAR(y[0], 0.841192f, 1e-6f);
    EXPECT_EQ(y[1], 0.0f);  // -0 or 0: tanh saturates at -1
    EXPECT_FLOAT_EQ(y[2], 30.0f);
  }
}

TEST(F32Ops, SoftmaxOfLargeLogits) {
  std::vector<float> x = normal_values(kN, 5, 5.0f);
  for (float& v : x) v += 1000.0f;  // exp(x) alone would overflow: the max must be subtracted
  double mx = -INFINITY, sum = 0;
  for (float v : x) mx = std::max(mx, static_cast<double>(v));
  for (float v : x) sum += std::exp(v - mx);
  std::vector<double> want(kN);
  for (int64_t i = 0; i < kN; ++i) want[i] = std::exp(x[i] - mx) / sum;
  for (IsaLevel level : supported_levels()) {
    SCOPED_TRACE(isa_name(level));
    std::vector<float> y = x;
    kernel_table(level).softmax(y.data(), kN);
    expect_close(y, want);
  }
}

TEST(F32Ops, DotAxpyScaleAdd) {
  const std::vector<float> a = normal_values(kN, 6), b = normal_values(kN, 7);
  double dot = 0, mag = 0;
  for (int64_t i = 0; i < kN; ++i) {
    dot += static_cast<double>(a[i]) * b[i];
    mag += std::fabs(static_cast<double>(a[i]) * b[i]);
  }
  std::vector<double> axpy(kN), axpy_mag(kN), scaled(kN), sum(kN);
  for (int64_t i = 0; i < kN; ++i) {
    axpy[i] = b[i] + 0.75 * a[i];
    axpy_mag[i] = std::fabs(b[i]) + std::fabs(0.75 * a[i]);
    scaled[i] = a[i] * -1.5;
    sum[i] = static_cast<double>(a[i]) + b[i];
  }
  for (IsaLevel level : supported_levels()) {
    SCOPED_TRACE(isa_name(level));
    const KernelTable& t = kernel_table(level);
    // A sum's error scales with sum |a_i b_i|, not with the (cancelling) result.
    EXPECT_NEAR(t.dot_f32(a.data(), b.data(), kN), dot, kTolerance * mag);
    std::vector<float> y = b;
    t.axpy_f32(0.75f, a.data(), y.data(), kN);
    expect_close(y, axpy, axpy_mag);
    t.scale_f32(a.data(), -1.5f, y.data(), kN);
    expect_close(y, scaled);
    y = a;  // y may alias a
    t.add_f32(y.data(), b.data(), y.data(), kN);
    expect_close(y, sum);
  }
}

}  // namespace
}  // namespace corral::kernels::testing
