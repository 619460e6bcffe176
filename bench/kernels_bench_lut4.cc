// Cases of kernels_bench for the 4-bit lookup-table formats (the harness and main are in
// kernels_bench.cc): matmul of IQ4_NL, IQ4_XS and MXFP4 weights at the shared shapes plus
// gpt-oss's expert shape (2880 x 2880, the released models' hidden size), a single-thread gemm
// on cached operands (CPU time, so it stays meaningful on a busy machine), and dequantize_row.
//   CORRAL_CPU=avx2 build/bin/kernels_bench --benchmark_filter='iq4|mxfp4'
#include <benchmark/benchmark.h>

#include <cstdint>
#include <string>
#include <vector>

#include "base/cpu_features.h"
#include "kernels/api.h"
#include "kernels_bench.h"

namespace corral::bench {
namespace {

const DType kLut4[] = {DType::kMXFP4, DType::kIQ4_NL, DType::kIQ4_XS};

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
  for (DType t : kLut4) {
    register_matmul_benchmarks(t);                                 // 2048x2048 and 8192x2048, n = 1 .. 512
    if (t == DType::kMXFP4) register_matmul_shape(t, 2880, 2880);  // a gpt-oss expert matrix
    register_gemm_hot(t, 256, {1, 8, 64});
    benchmark::RegisterBenchmark((std::string("dequantize_row/") + dtype_name(t)).c_str(), dequantize_case, t);
  }
  return true;
}();

}  // namespace
}  // namespace corral::bench
