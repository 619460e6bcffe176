// K-quant cases of kernels_bench (the harness and main are in kernels_bench.cc): matmul of
// Q2_K..Q6_K weights at the shared shapes, plus the shapes K-quants meet in Llama-3.2-1B
// Q4_K_M beyond those: the tied 128256x2048 output matrix (Q6_K, the largest single matmul)
// and 2048x8192 ffn_down; a single-thread gemm on cached operands (CPU time, so it stays
// meaningful on a busy machine); the Q8_K activation quantizer; dequantize_row.
//   CORRAL_CPU=avx2 build/bin/kernels_bench --benchmark_filter='_K'
#include <benchmark/benchmark.h>

#include <cstdint>
#include <cstring>
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

// One thread encoding a decode step's activation row (2048 or 8192 floats) as Q8_K.
void quantize_q8_k_case(benchmark::State& state) {
  const int64_t k = state.range(0);
  const std::vector<float> x = normal_values(k, 5);
  std::vector<uint8_t> out(dtype_row_bytes(DType::kQ8_K, k));
  for (auto _ : state) {
    kernels::quantize_row(DType::kQ8_K, x.data(), out.data(), k);
    benchmark::DoNotOptimize(out.data());
  }
  state.counters["GB/s"] = benchmark::Counter(static_cast<double>(state.iterations()) * k * sizeof(float) / 1e9,
                                              benchmark::Counter::kIsRate);
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
  state.counters["GB/s"] = benchmark::Counter(static_cast<double>(state.iterations()) * k * sizeof(float) / 1e9,
                                              benchmark::Counter::kIsRate);
  state.SetLabel(isa_name(selected_isa()));
}

[[maybe_unused]] const bool registered = [] {
  for (DType t : kKQuants) {
    const std::string type = dtype_name(t);
    register_matmul_benchmarks(t);         // 2048x2048 and 8192x2048, n = 1 .. 512
    register_matmul_shape(t, 2048, 8192);  // ffn_down
    if (t == DType::kQ6_K || t == DType::kQ4_K) register_matmul_shape(t, 128256, 2048);  // tied output
    register_gemm_hot(t, 128, {1, 2, 3, 4, 6, 8, 16, 64});
    benchmark::RegisterBenchmark(("dequantize_row/" + type).c_str(), dequantize_case, t);
  }
  benchmark::RegisterBenchmark("quantize_row/q8_K", quantize_q8_k_case)->ArgName("k")->Arg(2048)->Arg(8192);
  return true;
}();

}  // namespace
}  // namespace corral::bench
