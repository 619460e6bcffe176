// kv_window_bench: KV memory of long conversations on a model with sliding-window layers
// (gemma3, gpt-oss), with the window-only cache corral uses against a full cache (every layer
// keeps every position, llama.cpp's --swa-full). The bytes are the allocator's: blocks in use
// in each KV pool times their size, sampled after every step (the peak) and at the end.
//
// Conversations are fed as the runner feeds them: prompt chunks within a per-step token
// budget, round-robin, then every conversation decodes together. --allocator-only drives the
// same appends through the KV cache without the forward pass (the allocation does not depend
// on the values; a full run of 8 x 4096 tokens of a 1B model takes long on 2 cores).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "base/thread_pool.h"
#include "engine/engine.h"
#include "model/model.h"

namespace {

using corral::DType;
using corral::ThreadPool;
using namespace corral::engine;
using Clock = std::chrono::steady_clock;

struct Options {
  int seqs = 8;
  int64_t tokens = 4096;  // positions per conversation at the end
  int64_t gen = 64;       // of which generated (decoded together)
  int64_t step_budget = 512;
  bool allocator_only = false;
};

struct Result {
  size_t peak_bytes = 0, end_bytes = 0, capacity_bytes = 0;
  std::vector<int64_t> end_blocks;  // [n_groups]
  double seconds = 0;
};

// Runs the conversations on a fresh cache (or engine): `swa_full` keeps every position.
Result run(const std::shared_ptr<const corral::model::Model>& m, const Options& o, DType kv_type, bool swa_full) {
  EngineConfig cfg;
  cfg.kv_capacity_tokens = o.seqs * o.tokens;
  cfg.kv_type = kv_type;
  cfg.kv_sequences = o.seqs;
  cfg.kv_step_tokens = o.step_budget;
  cfg.kv_swa_full = swa_full;
  std::unique_ptr<Engine> eng;
  std::unique_ptr<KvCache> bare;
  if (o.allocator_only) bare = std::make_unique<KvCache>(*m, kv_sizing(cfg), kv_type);
  else eng = std::make_unique<Engine>(m, cfg, ThreadPool::global());
  KvCache& kv = eng ? eng->kv() : *bare;

  const int64_t V = m->config().n_vocab;
  std::mt19937 rng(7);
  std::uniform_int_distribution<int32_t> tok(0, static_cast<int32_t>(V - 1));
  std::vector<SeqId> seqs;
  for (int i = 0; i < o.seqs; ++i) seqs.push_back(kv.create());
  Result r;
  std::vector<float> logits;
  auto step = [&](const std::vector<SeqFeed>& feeds) {
    if (eng) {
      eng->eval(feeds, &logits);
    } else {
      for (const SeqFeed& f : feeds)
        if (corral::Status s = kv.prepare_append(f.seq, static_cast<int64_t>(f.tokens.size())); !s) {
          fmt::print(stderr, "{}\n", s.message());
          std::exit(1);
        }
      for (const SeqFeed& f : feeds) kv.commit_append(f.seq, static_cast<int64_t>(f.tokens.size()));
    }
    r.peak_bytes = std::max(r.peak_bytes, kv.used_bytes());
  };
  const auto t0 = Clock::now();
  // Prompts: round-robin chunks within the step budget.
  const int64_t prompt = o.tokens - o.gen;
  std::vector<int64_t> fed(seqs.size(), 0);
  for (size_t next = 0;;) {
    std::vector<SeqFeed> feeds;
    int64_t budget = o.step_budget;
    for (size_t k = 0; k < seqs.size() && budget > 0; ++k) {
      const size_t i = (next + k) % seqs.size();
      const int64_t n = std::min(prompt - fed[i], budget);
      if (n <= 0) continue;
      SeqFeed f{seqs[i], {}, fed[i] + n == prompt ? Outputs::kLast : Outputs::kNone};
      for (int64_t j = 0; j < n; ++j) f.tokens.push_back(tok(rng));
      fed[i] += n;
      budget -= n;
      feeds.push_back(std::move(f));
    }
    if (feeds.empty()) break;
    step(feeds);
    next = (next + 1) % seqs.size();
  }
  // Then every conversation decodes together.
  for (int64_t g = 0; g < o.gen; ++g) {
    std::vector<SeqFeed> feeds;
    for (SeqId s : seqs) feeds.push_back({s, {tok(rng)}, Outputs::kLast});
    step(feeds);
  }
  r.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  r.end_bytes = kv.used_bytes();
  r.capacity_bytes = kv.capacity_bytes();
  for (int64_t g = 0; g < kv.n_groups(); ++g) r.end_blocks.push_back(kv.used_blocks(g));
  return r;
}

std::string mib(size_t b) { return fmt::format("{:.1f} MiB", static_cast<double>(b) / (1 << 20)); }

std::string cpu_model() {
  FILE* f = std::fopen("/proc/cpuinfo", "r");
  if (!f) return "unknown";
  char line[512];
  std::string model = "unknown";
  while (std::fgets(line, sizeof line, f)) {
    std::string s(line);
    if (s.rfind("model name", 0) == 0) {
      model = s.substr(s.find(':') + 2);
      if (!model.empty() && model.back() == '\n') model.pop_back();
      break;
    }
  }
  std::fclose(f);
  return model;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"kv_window_bench: KV memory of long conversations, window-only sliding-window layers vs a full cache"};
  std::string model_path, kv_type_name = "f32";
  int threads = 2;
  Options o;
  app.add_option("-m,--model", model_path, "GGUF model with sliding-window layers")->required();
  app.add_option("-t,--threads", threads, "compute threads")->capture_default_str();
  app.add_option("--seqs", o.seqs, "conversations")->capture_default_str();
  app.add_option("--tokens", o.tokens, "positions per conversation at the end")->capture_default_str();
  app.add_option("--gen", o.gen, "of which decoded together at the end")->capture_default_str();
  app.add_option("--step-budget", o.step_budget, "tokens per step (the runner's budget)")->capture_default_str();
  app.add_option("--kv-type", kv_type_name, "f32 | f16")->capture_default_str();
  app.add_flag("--allocator-only", o.allocator_only, "drive the KV cache without the forward pass");
  CLI11_PARSE(app, argc, argv);
  if (o.seqs < 1 || o.tokens < 2 || o.gen < 1 || o.gen >= o.tokens || o.step_budget < 1) {
    fmt::print(stderr, "need seqs >= 1 and 1 <= gen < tokens\n");
    return 1;
  }
  ThreadPool::set_global_threads(threads);
  const DType kv_type = kv_type_name == "f16" ? DType::kF16 : DType::kF32;
  auto loaded = corral::model::load_model(model_path);
  if (!loaded) {
    fmt::print(stderr, "{}\n", loaded.error());
    return 1;
  }
  std::shared_ptr<const corral::model::Model> m = std::move(loaded).value();
  const auto layout = m->kv_layout();
  std::string groups;
  for (int64_t g = 0; g < layout.n_groups(); ++g)
    groups += fmt::format("{}{} layers {}", g ? ", " : "", layout.group_size[g],
                          layout.windows[g] ? fmt::format("window {}", layout.windows[g]) : "full");
  fmt::print("model {} ({}, {} layers: {}), {} conversations x {} tokens ({} generated), KV {}, {}\n", model_path,
             m->config().arch, m->config().n_layer, groups, o.seqs, o.tokens, o.gen, kv_type_name,
             o.allocator_only ? "allocator only" : "forward pass");
  fmt::print("CPU: {}\n", cpu_model());
  const Result win = run(m, o, kv_type, false);
  const Result full = run(m, o, kv_type, true);
  fmt::print("| cache | KV in use at the end | peak | pools' capacity | time |\n|---|---|---|---|---|\n");
  for (const auto& [name, r] : {std::pair{"window-only SWA layers", &win}, {"full cache (swa_full)", &full}})
    fmt::print("| {} | {} | {} | {} | {:.1f} s |\n", name, mib(r->end_bytes), mib(r->peak_bytes),
               mib(r->capacity_bytes), r->seconds);
  fmt::print("saving: {:.2f}x less KV at the end\n",
             static_cast<double>(full.end_bytes) / static_cast<double>(std::max<size_t>(1, win.end_bytes)));
  nlohmann::json j{{"model", model_path},
                   {"arch", m->config().arch},
                   {"seqs", o.seqs},
                   {"tokens", o.tokens},
                   {"gen", o.gen},
                   {"kv_type", kv_type_name},
                   {"allocator_only", o.allocator_only},
                   {"window_end_bytes", win.end_bytes},
                   {"window_peak_bytes", win.peak_bytes},
                   {"window_end_blocks", win.end_blocks},
                   {"full_end_bytes", full.end_bytes},
                   {"full_peak_bytes", full.peak_bytes},
                   {"full_end_blocks", full.end_blocks},
                   {"window_seconds", win.seconds},
                   {"full_seconds", full.seconds},
                   {"cpu", cpu_model()}};
  fmt::print("{}\n", j.dump());
  return 0;
}
