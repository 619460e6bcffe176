// What one concurrency level of a load test amounts to: throughput, latency percentiles and
// goodput from the requests' results, and the JSON form `corral bench --json` prints and
// `--compare` reads back.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/status.h"
#include "loadtest/bench_request.h"

namespace corral::cli::bench {

// Percentiles by linear interpolation between closest ranks (numpy's default).
struct Summary {
  int n = 0;  // samples; the rest is meaningless when 0
  double mean = 0, p50 = 0, p95 = 0, p99 = 0, max = 0;
};
Summary summarize(std::vector<double> v);

// Service-level objectives for goodput: a request counts when it succeeded and met each one
// that is set.
struct Slo {
  std::optional<double> ttft_s, e2e_s;
};

struct LevelStats {
  int concurrency = 0;
  int sent = 0, ok = 0, rejected = 0, errors = 0;  // rejected: HTTP 503
  double wall_s = 0;                               // first request sent to last one done
  double requests_per_s = 0;                       // successful requests
  double output_tokens_per_s = 0;                  // of successful requests
  double goodput_rps = 0;                          // successful requests meeting the SLOs
  int slo_met = 0;
  double mean_prompt_tokens = 0, mean_output_tokens = 0;
  Summary ttft, tpot, itl, e2e;            // seconds; ttft/tpot/itl need streaming
  std::vector<std::string> error_samples;  // a few distinct messages
};

LevelStats aggregate(int concurrency, const std::vector<RequestResult>& results, double wall_s, const Slo& slo);

// A whole run: the settings and one LevelStats per concurrency.
struct Run {
  std::string label;  // legend name in plots, e.g. "OLLAMA_NUM_PARALLEL=8"
  std::string host, model, api;
  bool stream = true;
  int64_t num_predict = 0;
  Slo slo;
  std::vector<LevelStats> levels;
};

nlohmann::ordered_json to_json(const Run& run);
// Reads what to_json wrote (the fields plots and tables use); a clear error otherwise.
Result<Run> run_from_json(const nlohmann::json& j);

}  // namespace corral::cli::bench
