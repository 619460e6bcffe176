// Cases of kernels_bench for the blocked attention kernel (kernels::AttentionArgs): one thread,
// one call per iteration for the 1B shape's GQA group (4 query heads of 64 sharing a KV head)
// over 4,096 positions (256 KV blocks), per KV cache type. `attention/<type>/0` reads the same
// blocks every call (they stay in L2 for q4_0 / q8_0: the kernel's compute alone); `/1` cycles
// through 64 KV heads' blocks (128 MB of f32, 18 MB of q4_0: DRAM / L3 as in a long-context
// decode step). Counters: ns per KV block of 16 positions (CPU time), GB/s of K and V read.
//   CORRAL_CPU=avx2 build/bin/kernels_bench --benchmark_filter=attention
#include <benchmark/benchmark.h>

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "base/cpu_features.h"
#include "kernels/api.h"
#include "kernels_bench.h"

namespace corral::bench {
namespace {

constexpr int64_t kGroup = 4, kHeadDim = 64, kBlocks = 256, kHeads = 64;

void attention_case(benchmark::State& state, DType t) {
  const bool cold = state.range(0) != 0;
  const int64_t n_kv = cold ? kHeads : 1;
  const size_t row = dtype_row_bytes(t, kHeadDim), block = kernels::kAttnBlockTokens * row;
  // [n_kv][kBlocks] K blocks then V blocks, each block its own 64-byte-aligned slot.
  const size_t slot = (block + 63) / 64 * 64;
  std::vector<uint8_t> kv(2 * n_kv * kBlocks * slot + 64);
  uint8_t* base = kv.data() + (64 - reinterpret_cast<uintptr_t>(kv.data()) % 64) % 64;
  const std::vector<float> x = normal_values(4096 * kHeadDim, 11);
  // K blocks (the first n_kv * kBlocks) in the kernels' layout (store_k_row), V rows in order.
  const kernels::StoreKRowFn store_k = kernels::active().store_k_row[static_cast<uint32_t>(t)];
  std::vector<uint8_t> encoded(row);
  for (int64_t b = 0; b < 2 * n_kv * kBlocks; ++b)
    for (int64_t j = 0; j < kernels::kAttnBlockTokens; ++j) {
      const float* src = x.data() + ((b * 16 + j) % 4096) * kHeadDim;
      if (b < n_kv * kBlocks) {
        kernels::quantize_row(t, src, encoded.data(), kHeadDim);
        store_k(encoded.data(), base + b * slot, j, kHeadDim);
      } else {
        kernels::quantize_row(t, src, base + b * slot + j * row, kHeadDim);
      }
    }
  std::vector<const void*> ptrs(2 * n_kv * kBlocks);
  for (size_t i = 0; i < ptrs.size(); ++i) ptrs[i] = base + i * slot;
  const std::vector<float> q = normal_values(kGroup * kHeadDim, 12);
  std::vector<float> out(kGroup * kHeadDim), scratch(kernels::attention_scratch_floats(kGroup, kHeadDim));
  kernels::AttentionArgs a;
  a.group = kGroup;
  a.head_dim = kHeadDim;
  a.scale = 1.0f / std::sqrt(static_cast<float>(kHeadDim));
  a.q = q.data();
  a.n_blocks = kBlocks;
  a.skip = 0;
  a.last_len = kernels::kAttnBlockTokens;
  a.out = out.data();
  a.scratch = scratch.data();
  const kernels::AttentionFn attend = kernels::active().attention[static_cast<uint32_t>(t)];
  int64_t head = 0;
  for (auto _ : state) {
    a.k = ptrs.data() + head * kBlocks;
    a.v = ptrs.data() + (n_kv + head) * kBlocks;
    attend(a);
    benchmark::DoNotOptimize(out.data());
    head = (head + 1) % n_kv;
  }
  const double iters = static_cast<double>(state.iterations());
  state.counters["ns/block"] =
      benchmark::Counter(iters * kBlocks * 1e-9, benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
  state.counters["GB/s"] =
      benchmark::Counter(iters * 2.0 * kBlocks * static_cast<double>(block) / 1e9, benchmark::Counter::kIsRate);
  state.SetLabel(isa_name(selected_isa()));
}

[[maybe_unused]] const bool registered = [] {
  for (DType t : {DType::kF32, DType::kF16, DType::kQ8_0, DType::kQ4_0})
    benchmark::RegisterBenchmark((std::string("attention/") + dtype_name(t)).c_str(), attention_case, t)
        ->Arg(0)
        ->Arg(1);
  return true;
}();

}  // namespace
}  // namespace corral::bench
