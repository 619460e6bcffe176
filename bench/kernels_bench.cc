// Kernel benchmarks: matmul per weight type and batch size, the activation quantizers, row
// decoding and the f32 vector ops, at the ISA level CORRAL_CPU selects (default: the best the
// CPU has). Run it once per level to compare, e.g.
//   CORRAL_CPU=avx2 build/bin/kernels_bench --benchmark_filter='matmul/q4_0'
// The legacy family (floats, Q4_0..Q8_0) registers here; other families add files
// bench/kernels_bench_*.cc that call register_matmul_benchmarks.
#include "kernels_bench.h"

#include <benchmark/benchmark.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include <immintrin.h>

#include "base/cpu_features.h"
#include "base/resident_memory.h"
#include "base/thread_pool.h"
#include "kernels/api.h"
#include "kernels/matmul.h"

namespace corral::bench {
namespace {

using kernels::kernel_table;

// Decode reads every weight from DRAM once per token: a matrix that fits the last-level cache
// would measure the cache instead. So each benchmark cycles through copies of its matrix that
// together exceed any cache (1 GiB; CORRAL_BENCH_COLD_MB overrides), on huge pages as the
// engine keeps weights (ResidentMemory), interleaved where the engine would interleave them
// (the matmul_interleaved cases). Speed does not depend on the values, so 16 encoded rows are
// repeated: the 128256-row matrix is set up in a second.
struct ColdWeights {
  DType type = DType::kF32;
  int64_t m = 0, k = 0;
  bool interleaved = false;
  size_t row_bytes = 0, matrix_bytes = 0;
  int64_t copies = 0;
  ResidentMemory memory;  // [copies][m][row_bytes], each copy interleaved or in row order
};

const ColdWeights& cold_weights(DType t, int64_t m, int64_t k, bool interleaved) {
  static std::unique_ptr<ColdWeights> kept;  // one set at a time: each is ~1 GiB
  if (kept && kept->type == t && kept->m == m && kept->k == k && kept->interleaved == interleaved) return *kept;
  kept.reset();
  auto w = std::make_unique<ColdWeights>();
  w->type = t;
  w->m = m;
  w->k = k;
  w->interleaved = interleaved;
  w->row_bytes = dtype_row_bytes(t, k);
  w->matrix_bytes = w->row_bytes * m;
  const char* env = std::getenv("CORRAL_BENCH_COLD_MB");
  const size_t cold = (env ? std::strtoull(env, nullptr, 10) : 1024) << 20;
  w->copies = std::max<int64_t>(1, static_cast<int64_t>(cold / w->matrix_bytes));
  std::vector<uint8_t> bytes(w->matrix_bytes * w->copies);
  const int64_t distinct = std::min<int64_t>(16, m);
  const std::vector<float> values = normal_values(distinct * k, 1);
  const auto quantize = kernel_table(IsaLevel::kGeneric).quantize_row[static_cast<uint32_t>(t)];
  for (int64_t r = 0; r < distinct; ++r) quantize(values.data() + r * k, bytes.data() + r * w->row_bytes, k);
  for (size_t at = distinct * w->row_bytes; at < bytes.size(); at += w->row_bytes) {
    std::memcpy(bytes.data() + at, bytes.data() + at % (distinct * w->row_bytes), w->row_bytes);
  }
  if (interleaved) {
    for (int64_t c = 0; c < w->copies; ++c)
      kernels::interleave_rows(t, bytes.data() + c * w->matrix_bytes, m, w->row_bytes);
  }
  w->memory = std::move(ResidentMemory::copy_of(bytes.data(), bytes.size())).value();
  kept = std::move(w);
  return *kept;
}

void matmul_case(benchmark::State& state, DType t, int64_t m, int64_t k, bool interleaved) {
  const int64_t n = state.range(0);
  const ColdWeights& cw = cold_weights(t, m, k, interleaved);
  const std::vector<float> x = normal_values(n * k, 2);
  std::vector<float> y(n * m);
  kernels::MatmulScratch scratch;
  int64_t copy = 0;
  for (auto _ : state) {
    kernels::WeightMatrix w{t, m, k, cw.memory.data() + copy * cw.matrix_bytes, cw.row_bytes};
    w.interleaved = interleaved;
    kernels::matmul(w, x.data(), n, y.data(), m, bench_pool(), scratch);
    benchmark::DoNotOptimize(y.data());
    benchmark::ClobberMemory();
    copy = (copy + 1) % cw.copies;
  }
  set_counters(state, static_cast<double>(cw.matrix_bytes), 2.0 * m * n * k);
}

void gemm_hot_case(benchmark::State& state, DType t, int64_t m) {
  const int64_t k = 2048, n = state.range(0);
  const DType at = kernels::activation_type(t);
  const kernels::KernelTable& generic = kernel_table(IsaLevel::kGeneric);
  const size_t w_row = dtype_row_bytes(t, k), x_row = dtype_row_bytes(at, k);
  std::vector<uint8_t> w(m * w_row), x(n * x_row);
  const std::vector<float> wf = normal_values(m * k, 7), xf = normal_values(n * k, 8);
  for (int64_t r = 0; r < m; ++r) {
    generic.quantize_row[static_cast<uint32_t>(t)](wf.data() + r * k, w.data() + r * w_row, k);
  }
  for (int64_t r = 0; r < n; ++r) {
    generic.quantize_row[static_cast<uint32_t>(at)](xf.data() + r * k, x.data() + r * x_row, k);
  }
  std::vector<float> y(n * m);
  const kernels::GemmFn gemm = kernels::active().gemm[static_cast<uint32_t>(t)];
  for (auto _ : state) {
    gemm(k, w.data(), w_row, m, x.data(), x_row, n, y.data(), m);
    benchmark::DoNotOptimize(y.data());
    benchmark::ClobberMemory();
  }
  set_counters(state, static_cast<double>(m * w_row), 2.0 * m * n * k);
}

// The read-bandwidth roofline on the same pool (BASELINES.md measures 28.3 GB/s on 2 threads):
// sums a 1 GiB array of integers (integer adds vectorise in the baseline build).
// Sums 32-byte vectors with four independent accumulators: the loop must be limited by the
// loads, not by the adds (a scalar or one-accumulator loop measured ~26 GB/s on the 2-vCPU AMD
// EPYC, where ik_llama.cpp decodes from ~42 GB/s).
__attribute__((target("avx2"))) uint64_t sum_words(const uint64_t* p, size_t n) {
  __m256i a0 = _mm256_setzero_si256(), a1 = a0, a2 = a0, a3 = a0;
  for (size_t i = 0; i + 16 <= n; i += 16) {
    a0 = _mm256_add_epi64(a0, _mm256_load_si256(reinterpret_cast<const __m256i*>(p + i)));
    a1 = _mm256_add_epi64(a1, _mm256_load_si256(reinterpret_cast<const __m256i*>(p + i + 4)));
    a2 = _mm256_add_epi64(a2, _mm256_load_si256(reinterpret_cast<const __m256i*>(p + i + 8)));
    a3 = _mm256_add_epi64(a3, _mm256_load_si256(reinterpret_cast<const __m256i*>(p + i + 12)));
  }
  alignas(32) uint64_t out[4];
  _mm256_store_si256(reinterpret_cast<__m256i*>(out),
                     _mm256_add_epi64(_mm256_add_epi64(a0, a1), _mm256_add_epi64(a2, a3)));
  return out[0] + out[1] + out[2] + out[3];
}

// DRAM read bandwidth as decode sees it: 1 GiB (far beyond any cache) on 2 MiB huge pages, as
// the engine keeps weights (ResidentMemory), read by two threads in 1 MiB chunks.
void memory_read_bandwidth(benchmark::State& state) {
  static const size_t bytes = size_t{1} << 30;
  static ResidentMemory mem = [] {
    std::vector<uint8_t> ones(bytes, 1);
    return std::move(ResidentMemory::copy_of(ones.data(), bytes)).value();
  }();
  const auto* words = reinterpret_cast<const uint64_t*>(mem.data());
  const int64_t chunk = (1 << 20) / 8;
  const int64_t n_chunks = static_cast<int64_t>(bytes / 8) / chunk;
  for (auto _ : state) {
    std::atomic<uint64_t> total{0};
    bench_pool().parallel_for(n_chunks, 16, [&](int64_t begin, int64_t end) {
      total += sum_words(words + begin * chunk, static_cast<size_t>((end - begin) * chunk));
    });
    benchmark::DoNotOptimize(total.load());
  }
  state.counters["GB/s"] = benchmark::Counter(
      static_cast<double>(state.iterations()) * static_cast<double>(bytes) / 1e9, benchmark::Counter::kIsRate);
}

// One thread encoding a row of 4096 activations (a decode step's input), GB/s of floats.
void quantize_case(benchmark::State& state, DType t) {
  const int64_t k = 4096;
  const std::vector<float> x = normal_values(k, 3);
  std::vector<uint8_t> out(dtype_row_bytes(t, k));
  const auto quantize = kernels::active().quantize_row[static_cast<uint32_t>(t)];
  for (auto _ : state) {
    quantize(x.data(), out.data(), k);
    benchmark::DoNotOptimize(out.data());
  }
  state.counters["GB/s"] = benchmark::Counter(static_cast<double>(state.iterations()) * k * sizeof(float) / 1e9,
                                              benchmark::Counter::kIsRate);
  state.SetLabel(isa_name(selected_isa()));
}

// One thread decoding a row of 4096 elements (an embedding lookup), GB/s of floats written.
void dequantize_case(benchmark::State& state, DType t) {
  const int64_t k = 4096;
  std::vector<uint8_t> row(dtype_row_bytes(t, k));
  kernel_table(IsaLevel::kGeneric).quantize_row[static_cast<uint32_t>(t)](normal_values(k, 4).data(), row.data(), k);
  std::vector<float> out(k);
  const auto dequantize = kernels::active().dequantize_row[static_cast<uint32_t>(t)];
  for (auto _ : state) {
    dequantize(row.data(), out.data(), k);
    benchmark::DoNotOptimize(out.data());
  }
  state.counters["GB/s"] = benchmark::Counter(static_cast<double>(state.iterations()) * k * sizeof(float) / 1e9,
                                              benchmark::Counter::kIsRate);
  state.SetLabel(isa_name(selected_isa()));
}

// The f32 vector ops on 4096 elements (an embedding width), one thread, ns per call.
void f32_ops_case(benchmark::State& state, int op) {
  const int64_t n = 4096;
  std::vector<float> a = normal_values(n, 5), b = normal_values(n, 6), y(n);
  const kernels::KernelTable& t = kernels::active();
  for (auto _ : state) {
    switch (op) {
      case 0: t.rms_norm(a.data(), b.data(), y.data(), n, 1e-5f); break;
      case 1: t.swiglu(a.data(), b.data(), y.data(), n); break;
      case 2:
        std::memcpy(y.data(), a.data(), n * sizeof(float));
        t.softmax(y.data(), n);
        break;
      case 3: benchmark::DoNotOptimize(t.dot_f32(a.data(), b.data(), n)); break;
      case 4: t.axpy_f32(0.5f, a.data(), y.data(), n); break;
      case 5: t.scale_f32(a.data(), 0.5f, y.data(), n); break;
      default: t.add_f32(a.data(), b.data(), y.data(), n); break;
    }
    benchmark::DoNotOptimize(y.data());
  }
  state.SetLabel(isa_name(selected_isa()));
}

[[maybe_unused]] const bool registered = [] {
  for (DType t :
       {DType::kF32, DType::kF16, DType::kBF16, DType::kQ4_0, DType::kQ4_1, DType::kQ5_0, DType::kQ5_1, DType::kQ8_0}) {
    register_matmul_benchmarks(t);
    register_gemm_hot(t, 256, {1, 2, 3, 4, 6, 8, 64});
  }
  benchmark::RegisterBenchmark("memory/read_bandwidth_2_threads", memory_read_bandwidth)
      ->UseRealTime()
      ->Unit(benchmark::kMillisecond);
  for (DType t : {DType::kQ8_0, DType::kQ8_1}) {
    benchmark::RegisterBenchmark((std::string("quantize_row/") + dtype_name(t)).c_str(), quantize_case, t);
  }
  for (DType t : {DType::kF16, DType::kBF16, DType::kQ4_0, DType::kQ4_1, DType::kQ5_0, DType::kQ5_1, DType::kQ8_0}) {
    benchmark::RegisterBenchmark((std::string("dequantize_row/") + dtype_name(t)).c_str(), dequantize_case, t);
  }
  const char* ops[] = {"rms_norm", "swiglu", "softmax", "dot_f32", "axpy_f32", "scale_f32", "add_f32"};
  for (int op = 0; op < 7; ++op) {
    benchmark::RegisterBenchmark((std::string("f32_ops/") + ops[op]).c_str(), f32_ops_case, op);
  }
  return true;
}();

}  // namespace

ThreadPool& bench_pool() {
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

void set_counters(benchmark::State& state, double weight_bytes, double flops) {
  const double iters = static_cast<double>(state.iterations());
  state.counters["GB/s"] = benchmark::Counter(iters * weight_bytes / 1e9, benchmark::Counter::kIsRate);
  state.counters["GFLOP/s"] = benchmark::Counter(iters * flops / 1e9, benchmark::Counter::kIsRate);
  state.SetLabel(isa_name(selected_isa()));
}

void register_matmul_shape(DType t, int64_t m, int64_t k) {
  const std::string shape = std::string(dtype_name(t)) + "/" + std::to_string(m) + "x" + std::to_string(k);
  for (bool interleaved : {false, true}) {
    if (interleaved && !kernels::can_interleave(t)) continue;
    const std::string name = (interleaved ? "matmul_interleaved/" : "matmul/") + shape;
    auto* b = benchmark::RegisterBenchmark(name.c_str(), matmul_case, t, m, k, interleaved)->ArgName("n");
    for (int64_t n : {1, 2, 4, 8, 16, 128, 512}) b->Arg(n);
    b->UseRealTime()->Unit(benchmark::kMillisecond);
  }
}

void register_matmul_benchmarks(DType t) {
  register_matmul_shape(t, 2048, 2048);
  register_matmul_shape(t, 8192, 2048);
}

void register_gemm_hot(DType t, int64_t m, std::initializer_list<int64_t> ns) {
  auto* b =
      benchmark::RegisterBenchmark((std::string("gemm_hot_1_thread/") + dtype_name(t)).c_str(), gemm_hot_case, t, m)
          ->ArgName("n");
  for (int64_t n : ns) b->Arg(n);
  b->Unit(benchmark::kMicrosecond);
}

}  // namespace corral::bench

BENCHMARK_MAIN();
