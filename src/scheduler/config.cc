#include "scheduler/config.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <limits>

#include <spdlog/spdlog.h>

namespace corral::scheduler {
namespace {

std::optional<std::string> env(const char* name) {
  const char* v = std::getenv(name);
  if (!v || !*v) return std::nullopt;
  std::string s(v);
  // Ollama's envconfig trims blanks and surrounding quotes.
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.pop_back();
  size_t b = 0;
  while (b < s.size() && (s[b] == ' ' || s[b] == '\t')) ++b;
  s = s.substr(b);
  if (s.size() >= 2 && (s.front() == '"' || s.front() == '\'') && s.back() == s.front()) s = s.substr(1, s.size() - 2);
  return s;
}

Result<int64_t> parse_int(const std::string& name, const std::string& s) {
  char* end = nullptr;
  errno = 0;
  const long long v = std::strtoll(s.c_str(), &end, 10);
  if (errno || end == s.c_str() || *end) return Status::errorf("{}={} is not an integer", name, s);
  return static_cast<int64_t>(v);
}

}  // namespace

KeepAlive keep_alive_from_seconds(double seconds) {
  if (seconds < 0) return KeepAlive(-1);
  // Bound to ~100 years so the arithmetic cannot overflow.
  seconds = std::min(seconds, 3.15e9);
  return std::chrono::duration_cast<KeepAlive>(std::chrono::duration<double>(seconds));
}

Result<KeepAlive> parse_keep_alive(const std::string& s) {
  if (s.empty()) return Status::error("empty duration");
  // A plain number is seconds.
  char* end = nullptr;
  const double plain = std::strtod(s.c_str(), &end);
  if (end != s.c_str() && *end == '\0') {
    if (!std::isfinite(plain)) return Status::errorf("invalid duration \"{}\"", s);
    return keep_alive_from_seconds(plain);
  }
  // Go's time.ParseDuration: [-+]? (number unit)+ with units ns us µs ms s m h.
  size_t i = 0;
  bool neg = false;
  if (s[i] == '-' || s[i] == '+') neg = s[i++] == '-';
  if (i >= s.size()) return Status::errorf("invalid duration \"{}\"", s);
  double total_ns = 0;
  while (i < s.size()) {
    const char* start = s.c_str() + i;
    const double v = std::strtod(start, &end);
    if (end == start || v < 0) return Status::errorf("invalid duration \"{}\"", s);
    i = static_cast<size_t>(end - s.c_str());
    size_t u = i;
    while (u < s.size() && !(std::isdigit(static_cast<unsigned char>(s[u])) || s[u] == '.')) ++u;
    const std::string unit = s.substr(i, u - i);
    double scale;
    if (unit == "ns") scale = 1;
    else if (unit == "us" || unit == "\xC2\xB5s" || unit == "\xCE\xBCs") scale = 1e3;
    else if (unit == "ms") scale = 1e6;
    else if (unit == "s") scale = 1e9;
    else if (unit == "m") scale = 60e9;
    else if (unit == "h") scale = 3600e9;
    else return Status::errorf("invalid duration \"{}\": unknown unit \"{}\"", s, unit);
    total_ns += v * scale;
    i = u;
  }
  if (neg) return KeepAlive(-1);
  return keep_alive_from_seconds(total_ns / 1e9);
}

Result<int64_t> parse_bytes(const std::string& s) {
  char* end = nullptr;
  const double v = std::strtod(s.c_str(), &end);
  if (end == s.c_str() || !(v >= 0)) return Status::errorf("invalid size \"{}\"", s);
  std::string unit(end);
  double mult = 1;
  if (unit.empty() || unit == "B") mult = 1;
  else if (unit == "KB") mult = 1e3;
  else if (unit == "MB") mult = 1e6;
  else if (unit == "GB") mult = 1e9;
  else if (unit == "KiB") mult = 1024.0;
  else if (unit == "MiB") mult = 1024.0 * 1024;
  else if (unit == "GiB") mult = 1024.0 * 1024 * 1024;
  else return Status::errorf("invalid size \"{}\": unknown unit \"{}\"", s, unit);
  return static_cast<int64_t>(v * mult);
}

int64_t total_memory_bytes() {
  std::ifstream in("/proc/meminfo");
  std::string key;
  int64_t kb = 0;
  std::string unit;
  while (in >> key >> kb >> unit) {
    if (key == "MemTotal:") return kb * 1024;
  }
  return 8ll << 30;  // unknown: assume a modest 8 GiB
}

Result<DType> parse_kv_cache_type(const std::string& s) {
  std::string t = s;
  std::transform(t.begin(), t.end(), t.begin(), [](unsigned char ch) { return std::tolower(ch); });
  if (t == "f32") return DType::kF32;
  if (t == "f16") return DType::kF16;
  // Real quantized caches (llama.cpp's 32-element blocks), read directly by the attention
  // kernels; a model whose head_dim is not a multiple of 32 keeps f16 (model::kv_storage_type).
  if (t == "q8_0") return DType::kQ8_0;
  if (t == "q4_0") return DType::kQ4_0;
  return Status::errorf("OLLAMA_KV_CACHE_TYPE={} is not one of f32, f16, q8_0, q4_0", s);
}

Result<SchedulerConfig> config_from_env() {
  SchedulerConfig c;
  if (auto v = env("OLLAMA_NUM_PARALLEL")) {
    CORRAL_ASSIGN_OR_RETURN(int64_t n, parse_int("OLLAMA_NUM_PARALLEL", *v));
    if (n < 0 || n > 256) return Status::errorf("OLLAMA_NUM_PARALLEL={} is out of range [0, 256]", n);
    c.num_parallel = static_cast<int>(n);
  }
  if (auto v = env("OLLAMA_MAX_QUEUE")) {
    CORRAL_ASSIGN_OR_RETURN(int64_t n, parse_int("OLLAMA_MAX_QUEUE", *v));
    if (n < 0 || n > 1000000) return Status::errorf("OLLAMA_MAX_QUEUE={} is out of range", n);
    c.max_queue = static_cast<int>(n);
  }
  if (auto v = env("OLLAMA_MAX_LOADED_MODELS")) {
    CORRAL_ASSIGN_OR_RETURN(int64_t n, parse_int("OLLAMA_MAX_LOADED_MODELS", *v));
    if (n < 0 || n > 1024) return Status::errorf("OLLAMA_MAX_LOADED_MODELS={} is out of range", n);
    c.max_loaded_models = n == 0 ? 3 : static_cast<int>(n);  // Ollama: 0 means the default
  }
  if (auto v = env("OLLAMA_KEEP_ALIVE")) {
    auto ka = parse_keep_alive(*v);
    if (!ka) return ka.status().with_context("OLLAMA_KEEP_ALIVE");
    c.keep_alive = *ka;
  }
  if (auto v = env("OLLAMA_CONTEXT_LENGTH")) {
    CORRAL_ASSIGN_OR_RETURN(int64_t n, parse_int("OLLAMA_CONTEXT_LENGTH", *v));
    if (n < 1 || n > (1 << 24)) return Status::errorf("OLLAMA_CONTEXT_LENGTH={} is out of range", n);
    c.context_length = n;
  }
  if (auto v = env("CORRAL_MAX_MEMORY")) {
    auto b = parse_bytes(*v);
    if (!b) return b.status().with_context("CORRAL_MAX_MEMORY");
    c.memory_budget_bytes = *b;
  }
  if (c.memory_budget_bytes == 0) c.memory_budget_bytes = total_memory_bytes() / 10 * 9;
  if (auto v = env("OLLAMA_KV_CACHE_TYPE")) { CORRAL_ASSIGN_OR_RETURN(c.kv_cache_type, parse_kv_cache_type(*v)); }
  if (auto v = env("CORRAL_MMAP")) {
    if (*v != "0" && *v != "1") return Status::errorf("CORRAL_MMAP={} is not 0 or 1", *v);
    c.mmap_weights = *v == "1";
  }
  if (auto v = env("CORRAL_THREADS")) {
    CORRAL_ASSIGN_OR_RETURN(int64_t n, parse_int("CORRAL_THREADS", *v));
    c.threads = static_cast<int>(std::clamp<int64_t>(n, 0, 1024));
  }
  CORRAL_ASSIGN_OR_RETURN(c.fairness, fairness_config_from_env());
  return c;
}

int64_t runner_num_ctx(const SchedulerConfig& config, int64_t spec_num_ctx) {
  return spec_num_ctx > 0 ? spec_num_ctx : config.context_length;
}

int64_t cap_num_ctx(int64_t num_ctx, int64_t trained) { return trained > 0 ? std::min(num_ctx, trained) : num_ctx; }

int64_t effective_num_ctx(int64_t runner_ctx, int64_t requested_num_ctx) {
  return requested_num_ctx > 0 ? std::min(requested_num_ctx, runner_ctx) : runner_ctx;
}

}  // namespace corral::scheduler
