// The decisions of `corral tune`, apart from the measuring: the workload profiles, which
// measured num_parallel to recommend and why, the queue bound and context length that go with
// it, and the systemd / docker-compose / Modelfile snippets that apply them.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "loadtest/bench_stats.h"
#include "loadtest/tune_memory.h"

namespace corral::cli {

enum class Profile { kChat, kAgent, kBatch };

struct ProfileSpec {
  Profile profile = Profile::kChat;
  std::string name;
  int prompt_tokens = 128;
  int64_t num_predict = 64;
  int clients_per_slot = 1;          // offered load: clients = num_parallel x this
  std::optional<double> slo_ttft_s;  // p95 limits the recommendation must meet
  std::optional<double> slo_tpot_s;
  std::optional<double> slo_e2e_s;
  int64_t wanted_ctx = 4096;  // context the workload needs

  std::string describe() const;  // one line for the report
};

// chat: interactive, latency SLO (p95 TTFT and time per output token); agent: many short
// prompts from more clients than slots, requests/s within an end-to-end SLO; batch: output
// tokens/s only.
Result<ProfileSpec> profile_spec(const std::string& name);

struct Candidate {
  int num_parallel = 0;
  std::optional<bench::LevelStats> stats;  // absent when not measured
  int64_t size_bytes = 0;                  // the server's resident estimate (/api/ps), 0: unknown
  std::string skipped;                     // why it was not measured
};

bool meets_slo(const ProfileSpec& p, const bench::LevelStats& s);

struct Recommendation {
  int num_parallel = 1;
  int max_queue = 512;
  std::optional<int64_t> num_ctx;  // nullopt: the model does not fit even at 512
  std::vector<std::string> why;    // the reasoning, one sentence per line
};

// mem_budget: bytes the model may use (available memory, less a margin); ctx_ceiling: the
// model's training context.
Recommendation recommend(const ProfileSpec& p, const std::vector<Candidate>& candidates, const MemoryModel& mem,
                         int64_t mem_budget, int64_t ctx_ceiling);

std::string systemd_dropin(const Recommendation& r);
std::string compose_snippet(const Recommendation& r);
std::string modelfile_snippet(const std::string& model, const Recommendation& r);

}  // namespace corral::cli
