// K-quant cases of kernels_bench (the harness and main are in kernels_bench.cc): matmul of
// Q2_K..Q6_K weights at the shared shapes, plus the shapes K-quants meet in Llama-3.2-1B
// Q4_K_M beyond those: the tied 128256x2048 output matrix (Q6_K, the largest single matmul)
// and 2048x8192 ffn_down; a single-thread gemm on cached operands (CPU time, so it stays
// meaningful on a busy machine); the Q8_K activation quantizer; dequantize_row.
//   CORRAL_CPU=avx2 build/bin/kernels_bench --benchmark_filter='_K'
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "base/cpu_features.h"
#include "base/thread_pool.h"
#include "kernels/api.h"
#include "kernels/matmul.h"
#include "kernels_bench.h"

namespace corral::bench {
namespace {

const DType kKQuants[] = {DType::kQ4_K, DType::kQ6_K, DType::kQ5_K, DType::kQ3_K, DType::kQ2_K};

// The baselines' thread count (BASELINES.md: 2 vCPUs).
ThreadPool& two_threads() {
  static ThreadPool p(2);
  return p;
}

std::vector<float> normal_values(int64_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.0f, 1.0f);
  std::vector<float> v(static_cast<size_t>(n));
  for (float& x : v) x = dist(rng);
  return v;
}

uint32_t id(DType t) { return static_cast<uint32_t>(t); }

// A weight matrix in enough copies to exceed any cache (decode reads weights from DRAM once per
// token; CORRAL_BENCH_COLD_MB as in kernels_bench.cc, default 1 GiB). Speed does not depend on
// the values, so 16 encoded rows are repeated: the 128256-row matrix is set up in a second.
struct ColdWeights {
  DType type = DType::kF32;
  int64_t m = 0, k = 0;
  size_t row_bytes = 0, matrix_bytes = 0;
  int64_t copies = 0;
  std::vector<uint8_t> bytes;  // [copies][m][row_bytes]
};

const ColdWeights& cold_weights(DType t, int64_t m, int64_t k) {
  static std::unique_ptr<ColdWeights> kept;  // one set at a time: each is ~1 GiB
  if (kept && kept->type == t && kept->m == m && kept->k == k) return *kept;
  kept.reset();
  auto w = std::make_unique<ColdWeights>();
  w->type = t;
  w->m = m;
  w->k = k;
  w->row_bytes = dtype_row_bytes(t, k);
  w->matrix_bytes = w->row_bytes * m;
  const char* env = std::getenv("CORRAL_BENCH_COLD_MB");
  const size_t cold = (env ? std::strtoull(env, nullptr, 10) : 1024) << 20;
  w->copies = std::max<int64_t>(1, static_cast<int64_t>(cold / w->matrix_bytes));
  w->bytes.resize(w->matrix_bytes * w->copies);
  constexpr int64_t kDistinctRows = 16;
  const std::vector<float> values = normal_values(kDistinctRows * k, 1);
  for (int64_t r = 0; r < kDistinctRows; ++r) {
    kernels::quantize_row(t, values.data() + r * k, w->bytes.data() + r * w->row_bytes, k);
  }
  for (size_t at = kDistinctRows * w->row_bytes; at < w->bytes.size(); at += w->row_bytes) {
    std::memcpy(w->bytes.data() + at, w->bytes.data() + at % (kDistinctRows * w->row_bytes),
                w->row_bytes);
  }
  kept = std::move(w);
  return *kept;
}

void set_counters(benchmark::State& state, double weight_bytes, double flops) {
  const double iters = static_cast<double>(state.iterations());
  state.counters["GB/s"] = benchmark::Counter(iters * weight_bytes / 1e9, benchmark::Counter::kIsRate);
  state.counters["GFLOP/s"] = benchmark::Counter(iters * flops / 1e9, benchmark::Counter::kIsRate);
  state.SetLabel(isa_name(selected_isa()));
}

// matmul as the model calls it (encode activations, threaded gemm), weights from DRAM.
void matmul_case(benchmark::State& state, DType t, int64_t m, int64_t k) {
  const int64_t n = state.range(0);
  const ColdWeights& cw = cold_weights(t, m, k);
  const std::vector<float> x = normal_values(n * k, 2);
  std::vector<float> y(n * m);
  kernels::MatmulScratch scratch;
  int64_t copy = 0;
  for (auto _ : state) {
    const kernels::WeightMatrix w{t, m, k, cw.bytes.data() + copy * cw.matrix_bytes, cw.row_bytes};
    kernels::matmul(w, x.data(), n, y.data(), m, two_threads(), scratch);
    benchmark::DoNotOptimize(y.data());
    benchmark::ClobberMemory();
    copy = (copy + 1) % cw.copies;
  }
  set_counters(state, static_cast<double>(cw.matrix_bytes), 2.0 * m * n * k);
}

// One thread, one gemm call over 128 rows of 2048 (L2-resident) and n activation rows: the
// kernel's throughput per core, without memory or threading effects.
void gemm_hot_case(benchmark::State& state, DType t) {
  const int64_t m = 128, k = 2048, n = state.range(0);
  const size_t w_row = dtype_row_bytes(t, k), x_row = dtype_row_bytes(DType::kQ8_K, k);
  std::vector<uint8_t> w(m * w_row), x(n * x_row);
  const std::vector<float> wf = normal_values(m * k, 3), xf = normal_values(n * k, 4);
  for (int64_t r = 0; r < m; ++r) kernels::quantize_row(t, wf.data() + r * k, w.data() + r * w_row, k);
  for (int64_t r = 0; r < n; ++r) {
    kernels::quantize_row(DType::kQ8_K, xf.data() + r * k, x.data() + r * x_row, k);
  }
  std::vector<float> y(n * m);
  const kernels::GemmFn gemm = kernels::active().gemm[id(t)];
  for (auto _ : state) {
    gemm(k, w.data(), w_row, m, x.data(), x_row, n, y.data(), m);
    benchmark::DoNotOptimize(y.data());
    benchmark::ClobberMemory();
  }
  set_counters(state, static_cast<double>(m * w_row), 2.0 * m * n * k);
}

// One thread encoding a decode step's activation row (2048 or 8192 floats) as Q8_K.
void quantize_q8_k_case(benchmark::State& state) {
  const int64_t k = state.range(0);
  const std::vector<float> x = normal_values(k, 5);
  std::vector<uint8_t> out(dtype_row_bytes(DType::kQ8_K, k));
  for (auto _ : state) {
    kernels::quantize_row(DType::kQ8_K, x.data(), out.data(), k);
    benchmark::DoNotOptimize(out.data());
  }
  state.counters["GB/s"] = benchmark::Counter(
      static_cast<double>(state.iterations()) * k * sizeof(float) / 1e9, benchmark::Counter::kIsRate);
  state.SetLabel(isa_name(selected_isa()));
}

// One thread decoding a 2048-wide row (an embedding lookup), GB/s of floats written.
void dequantize_case(benchmark::State& state, DType t) {
  const int64_t k = 2048;
  std::vector<uint8_t> row(dtype_row_bytes(t, k));
  kernels::quantize_row(t, normal_values(k, 6).data(), row.data(), k);
  std::vector<float> out(k);
  for (auto _ : state) {
    kernels::dequantize_row(t, row.data(), out.data(), k);
    benchmark::DoNotOptimize(out.data());
  }
  state.counters["GB/s"] = benchmark::Counter(
      static_cast<double>(state.iterations()) * k * sizeof(float) / 1e9, benchmark::Counter::kIsRate);
  state.SetLabel(isa_name(selected_isa()));
}

[[maybe_unused]] const bool registered = [] {
  for (DType t : kKQuants) {
    const std::string type = dtype_name(t);
    register_matmul_benchmarks(t);  // 2048x2048 and 8192x2048, n = 1 .. 512
    std::vector<std::pair<int64_t, int64_t>> shapes = {{2048, 8192}};
    if (t == DType::kQ6_K || t == DType::kQ4_K) shapes.push_back({128256, 2048});
    for (auto [m, k] : shapes) {
      const std::string name = "matmul/" + type + "/" + std::to_string(m) + "x" + std::to_string(k);
      benchmark::RegisterBenchmark(name.c_str(), matmul_case, t, m, k)
          ->ArgName("n")
          ->Arg(1)
          ->Arg(2)
          ->Arg(4)
          ->Arg(8)
          ->Arg(16)
          ->Arg(128)
          ->Arg(512)
          ->UseRealTime()
          ->Unit(benchmark::kMillisecond);
    }
    benchmark::RegisterBenchmark(("gemm_hot_1_thread/" + type).c_str(), gemm_hot_case, t)
        ->ArgName("n")
        ->Arg(1)
        ->Arg(8)
        ->Arg(16)
        ->Arg(64)
        ->Unit(benchmark::kMicrosecond);
    benchmark::RegisterBenchmark(("dequantize_row/" + type).c_str(), dequantize_case, t);
  }
  benchmark::RegisterBenchmark("quantize_row/q8_K", quantize_q8_k_case)->ArgName("k")->Arg(2048)->Arg(8192);
  return true;
}();

}  // namespace
}  // namespace corral::bench
