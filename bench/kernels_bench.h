// Shared harness of the kernels_bench program (one file per kernel family registers its cases;
// main and the harness are in kernels_bench.cc).
#pragma once

#include <benchmark/benchmark.h>

#include <cstdint>
#include <initializer_list>
#include <vector>

#include "base/thread_pool.h"
#include "tensor/dtype.h"

namespace corral::bench {

// The thread pool matmul cases run on: 2 threads, the baselines' count (BASELINES.md: 2 vCPUs).
ThreadPool& bench_pool();

// n values from N(0, 1), the same for the same seed.
std::vector<float> normal_values(int64_t n, uint32_t seed);

// The "GB/s" (weight bytes read) and "GFLOP/s" rate counters per iteration, and the ISA label.
void set_counters(benchmark::State& state, double weight_bytes, double flops);

// Registers matmul/<type>/<m>x<k> (activation encoding + threaded gemm, as the model layer
// calls it, weights cycled from DRAM) for n = 1, 2, 4, 8, 16, 128, 512 activation rows.
void register_matmul_shape(DType weight_type, int64_t m, int64_t k);
// The shared shapes: 2048x2048 and 8192x2048.
void register_matmul_benchmarks(DType weight_type);
// Registers gemm_hot_1_thread/<type>: one thread, one gemm call over m rows of 2048 that stay
// in L2, for each n; CPU time, so it stays meaningful on a busy machine.
void register_gemm_hot(DType weight_type, int64_t m, std::initializer_list<int64_t> ns);

}  // namespace corral::bench
