// Server-wide scheduling settings, from Ollama's environment variables (same names, same
// meaning, same defaults where Ollama has one).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "base/status.h"
#include "scheduler/fairness_config.h"
#include "tensor/dtype.h"

namespace corral::scheduler {

using Duration = std::chrono::nanoseconds;
// A keep-alive: how long an idle model stays loaded. Negative: forever.
using KeepAlive = Duration;

struct SchedulerConfig {
  int num_parallel = 0;                            // OLLAMA_NUM_PARALLEL; 0: 4 when memory allows, else 1
  int max_queue = 512;                             // OLLAMA_MAX_QUEUE: requests waiting for a slot or a load
  int max_loaded_models = 3;                       // OLLAMA_MAX_LOADED_MODELS (Ollama's CPU default)
  KeepAlive keep_alive = std::chrono::minutes(5);  // OLLAMA_KEEP_ALIVE
  int64_t context_length = 4096;                   // OLLAMA_CONTEXT_LENGTH: default num_ctx
  int64_t memory_budget_bytes = 0;                 // CORRAL_MAX_MEMORY (bytes, or e.g. "16GiB"); 0: 90% of RAM
  int threads = 0;                                 // compute threads (0: physical cores)
  // OLLAMA_KV_CACHE_TYPE: f32 (our default: exact, as the reference outputs were computed),
  // f16 (Ollama's default: half the KV memory), q8_0 or q4_0 (llama.cpp's blocks).
  DType kv_cache_type = DType::kF32;
  // CORRAL_MMAP=1: a loaded model reads its weights through the file mapping (shared with the
  // page cache, nothing copied) instead of a private copy on huge pages (faster decode).
  bool mmap_weights = false;
  FairnessConfig fairness;  // CORRAL_FAIRNESS, CORRAL_OBJECTIVES, CORRAL_PREEMPT, CORRAL_TENANTS
};

// The context of each slot of a model's runner: the model's PARAMETER num_ctx, else the
// server's OLLAMA_CONTEXT_LENGTH.
int64_t runner_num_ctx(const SchedulerConfig& config, int64_t spec_num_ctx);
// The context one request gets on a runner of `runner_ctx`: its own num_ctx when set (at most
// the runner's, whose KV pool is sized for it), else the runner's. The server truncates chats
// to this and the runner enforces it, so both agree.
int64_t effective_num_ctx(int64_t runner_ctx, int64_t requested_num_ctx);

// A context no larger than the model's trained length (`trained`, <arch>.context_length; 0:
// unknown, no cap), as Ollama caps num_ctx at n_ctx_train: a longer context only gives
// positions the model never saw (and memory for them).
int64_t cap_num_ctx(int64_t num_ctx, int64_t trained);

// "f32", "f16", "q8_0", "q4_0" -> the KV element type.
Result<DType> parse_kv_cache_type(const std::string& s);

// Reads the OLLAMA_* variables; an unparsable value is an error naming the variable.
Result<SchedulerConfig> config_from_env();

// Parses Ollama's keep-alive forms: a Go duration ("5m", "1h30m", "300ms", "-1s"), a number of
// seconds ("300", "-1"), as Ollama's api.Duration / envconfig do. Negative means forever.
Result<KeepAlive> parse_keep_alive(const std::string& s);
// The same from a JSON-ish number of seconds.
KeepAlive keep_alive_from_seconds(double seconds);

// "16GiB", "512MB", "1000000" -> bytes.
Result<int64_t> parse_bytes(const std::string& s);

// Total RAM from /proc/meminfo (bytes).
int64_t total_memory_bytes();

}  // namespace corral::scheduler
