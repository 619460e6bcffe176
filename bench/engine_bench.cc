// engine_bench: how fast the engine runs a model file, measured the way llama.cpp's
// llama-bench (pp512, tg128) and llama-batched-bench (B sequences x 128-token prompts, then 64
// tokens generated together) measure, so the numbers compare with ../shared/bench/BASELINES.md.
// Prints a table and one JSON line. Token ids are random: speed does not depend on them.
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "base/cpu_features.h"
#include "base/thread_pool.h"
#include "engine/engine.h"
#include "kernels/api.h"
#include "model/model.h"

namespace {

using corral::ThreadPool;
using namespace corral::engine;
using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const size_t i = std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size() - 1) + 0.5));
  return v[i];
}

std::vector<int32_t> random_tokens(int n, int64_t vocab, std::mt19937& rng) {
  std::uniform_int_distribution<int32_t> d(0, static_cast<int32_t>(vocab - 1));
  std::vector<int32_t> t(static_cast<size_t>(n));
  for (auto& x : t) x = d(rng);
  return t;
}

int32_t argmax(const float* x, int64_t n) { return static_cast<int32_t>(std::max_element(x, x + n) - x); }

// Feeds prompts (possibly of several sequences) in eval calls of at most `ubatch` tokens.
void prefill(Engine& eng, const std::vector<SeqId>& seqs, const std::vector<std::vector<int32_t>>& prompts, int ubatch,
             std::vector<float>* logits) {
  std::vector<size_t> fed(seqs.size(), 0);
  for (;;) {
    std::vector<SeqFeed> feeds;
    int budget = ubatch;
    for (size_t i = 0; i < seqs.size() && budget > 0; ++i) {
      const size_t left = prompts[i].size() - fed[i];
      if (left == 0) continue;
      const size_t n = std::min<size_t>(left, static_cast<size_t>(budget));
      feeds.push_back({seqs[i],
                       {prompts[i].begin() + fed[i], prompts[i].begin() + fed[i] + n},
                       fed[i] + n == prompts[i].size() ? Outputs::kLast : Outputs::kNone});
      fed[i] += n;
      budget -= static_cast<int>(n);
    }
    if (feeds.empty()) return;
    eng.eval(feeds, logits);
  }
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"engine_bench: prefill, decode and batched decode speed of a GGUF model"};
  std::string model_path;
  int threads = 2, n_prompt = 512, n_gen = 128, reps = 3, batched_prompt = 128, batched_gen = 64, ubatch = 512;
  std::string parallel = "1,2,4,8,16";
  // kernels_bench memory/read_bandwidth_2_threads on the 2-vCPU AMD EPYC of docs/performance.md
  // (1 GiB on huge pages, 2026-12-07); pass this machine's figure for a meaningful roofline.
  double bandwidth_gbs = 78.0;
  app.add_option("--model,-m", model_path, "GGUF model file")->required();
  app.add_option("--threads,-t", threads, "compute threads")->capture_default_str();
  app.add_option("--prompt,-p", n_prompt, "prefill test prompt length (pp)")->capture_default_str();
  app.add_option("--gen,-n", n_gen, "single-stream decode length (tg)")->capture_default_str();
  app.add_option("--reps,-r", reps, "repetitions (median reported)")->capture_default_str();
  app.add_option("--parallel", parallel, "batched test: sequence counts")->capture_default_str();
  app.add_option("--batched-prompt", batched_prompt, "batched test: prompt tokens per sequence")->capture_default_str();
  app.add_option("--batched-gen", batched_gen, "batched test: generated tokens per sequence")->capture_default_str();
  app.add_option("--ubatch", ubatch, "max tokens per forward pass during prefill")->capture_default_str();
  app.add_option("--bandwidth", bandwidth_gbs, "memory read bandwidth GB/s for the roofline")->capture_default_str();
  std::string kv_type_name = "f32";
  app.add_option("--kv-type", kv_type_name, "KV cache element type: f32, f16, q8_0 or q4_0")->capture_default_str();
  bool mmap_weights = false;
  app.add_flag("--mmap", mmap_weights, "read weights through the file mapping (the server's CORRAL_MMAP=1)");
  CLI11_PARSE(app, argc, argv);

  ThreadPool::set_global_threads(threads);
  auto m = corral::model::load_model(
      model_path, mmap_weights ? corral::model::WeightPlacement::kMapped : corral::model::WeightPlacement::kResident);
  if (!m) {
    fmt::print(stderr, "Error: {}\n", m.error());
    return 1;
  }
  auto model = m.value();
  const auto& cfg = model->config();
  if (!cfg.causal) {
    fmt::print(stderr, "Error: an encoder (embeddings only) has no decode to measure\n");
    return 1;
  }
  corral::DType kv_type;
  if (!corral::dtype_from_name(kv_type_name, &kv_type) || !corral::model::kv_type_supported(kv_type)) {
    fmt::print(stderr, "Error: --kv-type must be f32, f16, q8_0 or q4_0\n");
    return 1;
  }
  std::vector<int> par;
  for (size_t i = 0; i < parallel.size();) {
    size_t j = parallel.find(',', i);
    if (j == std::string::npos) j = parallel.size();
    par.push_back(std::stoi(parallel.substr(i, j - i)));
    i = j + 1;
  }
  const int max_par = *std::max_element(par.begin(), par.end());
  const int64_t kv_tokens =
      std::max<int64_t>(n_prompt + n_gen, static_cast<int64_t>(max_par) * (batched_prompt + batched_gen)) + 64;
  std::mt19937 rng(42);
  ThreadPool& pool = ThreadPool::global();

  fmt::print("model: {} ({}, {:.2f} GB of weights, {} layers, n_embd {}, vocab {})\n", model_path, cfg.arch,
             static_cast<double>(model->weight_bytes()) / 1e9, cfg.n_layer, cfg.n_embd, cfg.n_vocab);
  fmt::print("threads: {}, kernels: {}, KV cache: {}\n", pool.size(), corral::isa_name(corral::kernels::active().isa),
             kv_type_name);
  const double roofline = bandwidth_gbs * 1e9 / static_cast<double>(model->weight_bytes());

  // pp: one sequence, the whole prompt.
  std::vector<double> pp_runs, tg_runs, tg_step_ms;
  for (int r = 0; r < reps; ++r) {
    Engine eng(model, EngineConfig{kv_tokens, kv_type}, pool);
    SeqId s = eng.kv().create();
    std::vector<float> logits;
    auto t0 = Clock::now();
    prefill(eng, {s}, {random_tokens(n_prompt, cfg.n_vocab, rng)}, ubatch, &logits);
    pp_runs.push_back(n_prompt / seconds_since(t0));
  }
  // tg: one sequence from an empty context, one token per step (as llama-bench's tg).
  for (int r = 0; r < reps; ++r) {
    Engine eng(model, EngineConfig{kv_tokens, kv_type}, pool);
    SeqId s = eng.kv().create();
    std::vector<float> logits;
    int32_t tok = random_tokens(1, cfg.n_vocab, rng)[0];
    auto t0 = Clock::now();
    for (int i = 0; i < n_gen; ++i) {
      auto ts = Clock::now();
      eng.eval({{s, {tok}, Outputs::kLast}}, &logits);
      tok = argmax(logits.data(), cfg.n_vocab);
      tg_step_ms.push_back(seconds_since(ts) * 1e3);
    }
    tg_runs.push_back(n_gen / seconds_since(t0));
  }
  const double pp = median(pp_runs), tg = median(tg_runs);
  fmt::print("\n| test | tokens/s | notes |\n|---|---|---|\n");
  fmt::print("| pp{} | {:.1f} | prompt of {} tokens in forward passes of <= {} |\n", n_prompt, pp, n_prompt, ubatch);
  fmt::print(
      "| tg{} | {:.1f} | {:.0f}% of the {:.1f} tok/s bandwidth roofline; step p50 {:.1f} ms, p95 {:.1f} ms, p99 {:.1f} "
      "ms |\n",
      n_gen, tg, 100 * tg / roofline, roofline, percentile(tg_step_ms, 0.5), percentile(tg_step_ms, 0.95),
      percentile(tg_step_ms, 0.99));

  // Batched: B sequences, each a batched_prompt-token prompt, then batched_gen tokens together.
  nlohmann::json batched = nlohmann::json::array();
  fmt::print(
      "\n| parallel | S_PP tok/s | S_TG tok/s (aggregate) | TTFT ms (all prompts) | step p50 ms | step p95 ms | step "
      "p99 ms |\n|---|---|---|---|---|---|---|\n");
  for (int B : par) {
    std::vector<double> spp, stg;
    std::vector<double> steps, ttft;
    for (int r = 0; r < reps; ++r) {
      Engine eng(model, EngineConfig{kv_tokens, kv_type}, pool);
      std::vector<SeqId> seqs;
      std::vector<std::vector<int32_t>> prompts;
      for (int b = 0; b < B; ++b) {
        seqs.push_back(eng.kv().create());
        prompts.push_back(random_tokens(batched_prompt, cfg.n_vocab, rng));
      }
      std::vector<float> logits;
      auto t0 = Clock::now();
      prefill(eng, seqs, prompts, ubatch, &logits);
      const double t_pp = seconds_since(t0);
      spp.push_back(B * batched_prompt / t_pp);
      ttft.push_back(t_pp * 1e3);
      std::vector<int32_t> next(static_cast<size_t>(B), 0);
      auto t1 = Clock::now();
      for (int g = 0; g < batched_gen; ++g) {
        std::vector<SeqFeed> feeds;
        for (int b = 0; b < B; ++b) feeds.push_back({seqs[b], {next[b]}, Outputs::kLast});
        auto ts = Clock::now();
        eng.eval(feeds, &logits);
        steps.push_back(seconds_since(ts) * 1e3);
        for (int b = 0; b < B; ++b)
          next[b] = argmax(logits.data() + static_cast<int64_t>(b) * cfg.n_vocab, cfg.n_vocab);
      }
      stg.push_back(B * batched_gen / seconds_since(t1));
    }
    fmt::print("| {} | {:.1f} | {:.1f} | {:.0f} | {:.1f} | {:.1f} | {:.1f} |\n", B, median(spp), median(stg),
               median(ttft), percentile(steps, 0.5), percentile(steps, 0.95), percentile(steps, 0.99));
    batched.push_back({{"parallel", B},
                       {"s_pp", median(spp)},
                       {"s_tg", median(stg)},
                       {"ttft_ms", median(ttft)},
                       {"step_p50_ms", percentile(steps, 0.5)},
                       {"step_p95_ms", percentile(steps, 0.95)},
                       {"step_p99_ms", percentile(steps, 0.99)}});
  }
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  const double rss_mb = static_cast<double>(ru.ru_maxrss) / 1024.0;
  fmt::print("\npeak RSS: {:.0f} MB (weights {:.0f} MB, {})\n", rss_mb,
             static_cast<double>(model->weight_bytes()) / 1e6, mmap_weights ? "mmapped" : "resident");
  nlohmann::json j = {{"model", model_path},
                      {"threads", pool.size()},
                      {"kernels", corral::isa_name(corral::kernels::active().isa)},
                      {"kv_type", kv_type_name},
                      {"weight_bytes", model->weight_bytes()},
                      {"pp", n_prompt},
                      {"pp_tps", pp},
                      {"tg", n_gen},
                      {"tg_tps", tg},
                      {"tg_roofline_tps", roofline},
                      {"tg_step_p50_ms", percentile(tg_step_ms, 0.5)},
                      {"tg_step_p95_ms", percentile(tg_step_ms, 0.95)},
                      {"tg_step_p99_ms", percentile(tg_step_ms, 0.99)},
                      {"batched", batched},
                      {"peak_rss_mb", rss_mb}};
  fmt::print("{}\n", j.dump());
  return 0;
}
