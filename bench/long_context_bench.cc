// long_context_bench: the step time of batched decode at a long context against a short one,
// per KV cache type, and the KV memory it holds (issue 13's "long context" row: 8 sequences
// decoding at 4,096 positions each should step in <= 1.5x the time of 128).
//
// Each sequence's cache is filled to the context length without running the prompt through
// the model (8 x 4,096 prompt tokens of a 1B model take minutes on 2 cores): its blocks are
// allocated through the KV cache as a prefill would and every row is written with random
// values encoded in the cache's type, so attention reads real bytes from resident pages (and
// not the shared zero page untouched memory maps to). The decode steps then run the real
// forward pass: every sequence appends one token per step, all in one batch.
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "base/thread_pool.h"
#include "engine/engine.h"
#include "kernels/api.h"
#include "model/model.h"

namespace {

using corral::DType;
using corral::ThreadPool;
using namespace corral::engine;
using Clock = std::chrono::steady_clock;

// CPU time of the whole process (user + system, every thread) in ms.
double process_cpu_ms() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return (u.ru_utime.tv_sec + u.ru_stime.tv_sec) * 1e3 + (u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e3;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0.0 : v[v.size() / 2];
}

// Writes every row of the sequence's blocks with rows drawn from `pool_rows` (each row
// head_dim values encoded in the cache's type, row_bytes apart).
void fill_sequence(KvCache& kv, SeqId s, int64_t n_heads, int64_t head_dim, const std::vector<uint8_t>& pool_rows,
                   std::mt19937& rng) {
  const corral::model::KvStorage& st = kv.storage();
  const corral::model::KvLayout& layout = st.layout();
  const size_t row = st.row_bytes();
  const corral::kernels::StoreKRowFn store_k = corral::kernels::active().store_k_row[static_cast<uint32_t>(st.type())];
  const size_t n_pool = pool_rows.size() / row;
  for (int64_t il = 0; il < static_cast<int64_t>(layout.layer_group.size()); ++il) {
    const int64_t g = st.group_of(il);
    for (int32_t block : kv.blocks(s, g)) {
      if (block < 0) continue;
      for (int64_t h = 0; h < n_heads; ++h) {
        // kKvBlockTokens consecutive pool rows from a random start: V's in order, K's in the
        // kernels' block layout (store_k_row).
        size_t start = rng() % (n_pool - corral::model::kKvBlockTokens);
        std::memcpy(st.v(block, il, h), pool_rows.data() + start * row, corral::model::kKvBlockTokens * row);
        start = rng() % (n_pool - corral::model::kKvBlockTokens);
        for (int64_t j = 0; j < corral::model::kKvBlockTokens; ++j)
          store_k(pool_rows.data() + (start + j) * row, st.k(block, il, h), j, head_dim);
      }
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"long_context_bench: batched decode step time at a long vs a short context, per KV type"};
  std::string model_path;
  int threads = 0, seqs = 8, steps = 16, reps = 3;
  std::vector<int64_t> contexts = {128, 4096};
  std::vector<std::string> kv_types = {"f32", "f16", "q8_0", "q4_0"};
  app.add_option("--model,-m", model_path, "GGUF model file")->required();
  app.add_option("--threads,-t", threads, "compute threads (0: the pool's default)")->capture_default_str();
  app.add_option("--seqs", seqs, "sequences decoding together")->capture_default_str();
  app.add_option("--contexts", contexts, "cached positions per sequence before decoding")->capture_default_str();
  app.add_option("--kv-types", kv_types, "KV cache types: f32 f16 q8_0 q4_0")->capture_default_str();
  app.add_option("--steps", steps, "timed decode steps per run (after one untimed)")->capture_default_str();
  app.add_option("--reps,-r", reps, "runs per (type, context); median step of all")->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  if (threads > 0) ThreadPool::set_global_threads(threads);
  ThreadPool& pool = ThreadPool::global();
  auto loaded = corral::model::load_model(model_path);
  if (!loaded) {
    fmt::print(stderr, "Error: {}\n", loaded.error());
    return 1;
  }
  std::shared_ptr<const corral::model::Model> model = std::move(loaded.value());
  const auto& cfg = model->config();
  fmt::print("model: {} ({}, {:.2f} GB of weights, {} layers, {} KV heads x {})\n", model_path, cfg.arch,
             static_cast<double>(model->weight_bytes()) / 1e9, cfg.n_layer, cfg.n_head_kv, cfg.head_dim);
  fmt::print("threads: {}, kernels: {}, {} sequences, {} steps x {} runs\n\n", pool.size(),
             corral::isa_name(corral::kernels::active().isa), seqs, steps, reps);
  // Attention reads each sequence's cached K and V once per step: the bytes held. CPU time is
  // the process's (all threads, including the pool's spin-waits) per step: on a shared
  // machine it moves less with other processes' load than wall time.
  fmt::print(
      "| KV type | context | step ms (median) | vs first | CPU ms / step | vs first | KV held = read per step |\n");
  fmt::print("|---|---|---|---|---|---|---|\n");

  nlohmann::json results = nlohmann::json::array();
  std::mt19937 rng(42);
  for (const std::string& name : kv_types) {
    DType type;
    if (!corral::dtype_from_name(name, &type) || !corral::model::kv_type_supported(type)) {
      fmt::print(stderr, "Error: --kv-types: {} is not one of f32 f16 q8_0 q4_0\n", name);
      return 1;
    }
    const DType held = corral::model::kv_storage_type(type, cfg.head_dim);
    // A pool of random rows in the cache's type to copy from.
    const int64_t n_pool = 4096;
    const size_t row = corral::model::kv_row_bytes(held, cfg.head_dim);
    std::vector<uint8_t> pool_rows(n_pool * row);
    {
      std::normal_distribution<float> dist(0.0f, 1.0f);
      std::vector<float> x(static_cast<size_t>(cfg.head_dim));
      for (int64_t r = 0; r < n_pool; ++r) {
        for (float& v : x) v = dist(rng);
        corral::kernels::quantize_row(held, x.data(), pool_rows.data() + r * row, cfg.head_dim);
      }
    }
    // Contexts alternate within each run (128, 4096, 128, 4096, ...), so a change in the
    // machine's load hits both alike (these machines are shared).
    std::vector<std::vector<double>> step_ms(contexts.size()), cpu_ms(contexts.size());
    std::vector<size_t> kv_bytes(contexts.size());
    for (int r = 0; r < reps; ++r) {
      for (size_t ci = 0; ci < contexts.size(); ++ci) {
        const int64_t ctx = contexts[ci];
        const int64_t capacity = seqs * (ctx + steps + 2 * corral::model::kKvBlockTokens);
        Engine eng(model, EngineConfig{capacity, type}, pool);
        std::vector<SeqId> ids;
        for (int i = 0; i < seqs; ++i) {
          const SeqId s = eng.kv().create();
          if (!eng.kv().prepare_append(s, ctx).is_ok()) {
            fmt::print(stderr, "Error: KV pool too small\n");
            return 1;
          }
          eng.kv().commit_append(s, ctx);
          fill_sequence(eng.kv(), s, cfg.n_head_kv, cfg.head_dim, pool_rows, rng);
          ids.push_back(s);
        }
        std::vector<float> logits;
        for (int st = 0; st <= steps; ++st) {
          std::vector<SeqFeed> feeds;
          for (SeqId s : ids) feeds.push_back({s, {static_cast<int32_t>(rng() % cfg.n_vocab)}, Outputs::kLast});
          const auto t0 = Clock::now();
          const double c0 = process_cpu_ms();
          eng.eval(feeds, &logits);
          if (st == 0) continue;  // untimed: the first step after filling
          step_ms[ci].push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
          cpu_ms[ci].push_back(process_cpu_ms() - c0);
        }
        kv_bytes[ci] = eng.kv().used_bytes();
      }
    }
    const double first_ms = median(step_ms[0]), first_cpu = median(cpu_ms[0]);
    for (size_t ci = 0; ci < contexts.size(); ++ci) {
      const double ms = median(step_ms[ci]), cpu = median(cpu_ms[ci]);
      fmt::print("| {} | {} | {:.1f} | {:.2f}x | {:.1f} | {:.2f}x | {:.1f} MB |\n", name, contexts[ci], ms,
                 ms / first_ms, cpu, cpu / first_cpu, kv_bytes[ci] / 1e6);
      results.push_back({{"kv_type", name},
                         {"held_type", corral::dtype_name(held)},
                         {"context", contexts[ci]},
                         {"seqs", seqs},
                         {"step_ms", ms},
                         {"step_cpu_ms", cpu},
                         {"kv_bytes", kv_bytes[ci]},
                         {"ratio_to_first", ms / first_ms},
                         {"cpu_ratio_to_first", cpu / first_cpu},
                         {"threads", pool.size()}});
    }
    std::fflush(stdout);
  }
  fmt::print("\n{}\n", results.dump());
  return 0;
}
