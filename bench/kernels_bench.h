// Shared harness of the kernels_bench program (one file per kernel family registers its cases).
#pragma once

#include "tensor/dtype.h"

namespace corral::bench {

// Registers matmul (activation encoding + threaded gemm, as the model layer calls it) of a
// weight type: 2048x2048 and 8192x2048 weights times n = 1, 4, 8, 16, 128, 512 activation rows,
// on a 2-thread pool, at the level CORRAL_CPU selects. Counters: weight GB/s and GFLOP/s.
void register_matmul_benchmarks(DType weight_type);

}  // namespace corral::bench
