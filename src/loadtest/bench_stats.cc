#include "loadtest/bench_stats.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace corral::cli::bench {
namespace {

using ojson = nlohmann::ordered_json;
using json = nlohmann::json;

double percentile(const std::vector<double>& sorted, double q) {
  if (sorted.size() == 1) return sorted[0];
  const double pos = q * static_cast<double>(sorted.size() - 1);
  const size_t lo = static_cast<size_t>(std::floor(pos));
  const size_t hi = std::min(lo + 1, sorted.size() - 1);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - static_cast<double>(lo));
}

// JSON numbers rounded to microseconds (or 3 decimals for rates): exact enough, readable.
double r6(double v) { return std::round(v * 1e6) / 1e6; }
double r3(double v) { return std::round(v * 1e3) / 1e3; }

ojson summary_json(const Summary& s) {
  if (s.n == 0) return nullptr;
  return ojson{{"n", s.n},         {"mean", r6(s.mean)}, {"p50", r6(s.p50)},
               {"p95", r6(s.p95)}, {"p99", r6(s.p99)},   {"max", r6(s.max)}};
}

Summary summary_from(const json& j) {
  Summary s;
  if (!j.is_object()) return s;
  s.n = j.value("n", 0);
  s.mean = j.value("mean", 0.0);
  s.p50 = j.value("p50", 0.0);
  s.p95 = j.value("p95", 0.0);
  s.p99 = j.value("p99", 0.0);
  s.max = j.value("max", 0.0);
  return s;
}

ojson opt(const std::optional<double>& v) { return v ? ojson(*v) : ojson(nullptr); }

}  // namespace

Summary summarize(std::vector<double> v) {
  Summary s;
  if (v.empty()) return s;
  std::sort(v.begin(), v.end());
  s.n = static_cast<int>(v.size());
  s.mean = std::accumulate(v.begin(), v.end(), 0.0) / static_cast<double>(v.size());
  s.p50 = percentile(v, 0.50);
  s.p95 = percentile(v, 0.95);
  s.p99 = percentile(v, 0.99);
  s.max = v.back();
  return s;
}

LevelStats aggregate(int concurrency, const std::vector<RequestResult>& results, double wall_s, const Slo& slo) {
  LevelStats l;
  l.concurrency = concurrency;
  l.wall_s = wall_s;
  l.sent = static_cast<int>(results.size());
  std::vector<double> ttft, tpot, itl, e2e;
  double out_tokens = 0, prompt_tokens = 0;
  for (const RequestResult& r : results) {
    if (!r.ok()) {
      if (r.status == 503) ++l.rejected;
      else ++l.errors;
      const std::string msg = r.status == 503 ? "" : r.error;
      if (!msg.empty() && l.error_samples.size() < 3 &&
          std::find(l.error_samples.begin(), l.error_samples.end(), msg) == l.error_samples.end())
        l.error_samples.push_back(msg);
      continue;
    }
    ++l.ok;
    out_tokens += static_cast<double>(r.output_tokens);
    prompt_tokens += static_cast<double>(r.prompt_tokens);
    e2e.push_back(r.e2e_s);
    if (r.ttft_s >= 0) {
      ttft.push_back(r.ttft_s);
      // Time per output token after the first, as vLLM and llmperf define it.
      if (r.output_tokens > 1) tpot.push_back((r.e2e_s - r.ttft_s) / static_cast<double>(r.output_tokens - 1));
    }
    for (float g : r.itl_s) itl.push_back(g);
    const bool ttft_ok = !slo.ttft_s || (r.ttft_s >= 0 && r.ttft_s <= *slo.ttft_s);
    const bool e2e_ok = !slo.e2e_s || r.e2e_s <= *slo.e2e_s;
    l.slo_met += ttft_ok && e2e_ok;
  }
  if (wall_s > 0) {
    l.requests_per_s = l.ok / wall_s;
    l.output_tokens_per_s = out_tokens / wall_s;
    l.goodput_rps = l.slo_met / wall_s;
  }
  if (l.ok > 0) {
    l.mean_prompt_tokens = prompt_tokens / l.ok;
    l.mean_output_tokens = out_tokens / l.ok;
  }
  l.ttft = summarize(std::move(ttft));
  l.tpot = summarize(std::move(tpot));
  l.itl = summarize(std::move(itl));
  l.e2e = summarize(std::move(e2e));
  return l;
}

nlohmann::ordered_json to_json(const Run& run) {
  ojson levels = ojson::array();
  for (const LevelStats& l : run.levels) {
    levels.push_back(ojson{{"concurrency", l.concurrency},
                           {"requests", l.sent},
                           {"ok", l.ok},
                           {"rejected_503", l.rejected},
                           {"errors", l.errors},
                           {"wall_s", r3(l.wall_s)},
                           {"requests_per_s", r3(l.requests_per_s)},
                           {"output_tokens_per_s", r3(l.output_tokens_per_s)},
                           {"goodput_rps", r3(l.goodput_rps)},
                           {"slo_met", l.slo_met},
                           {"mean_prompt_tokens", r3(l.mean_prompt_tokens)},
                           {"mean_output_tokens", r3(l.mean_output_tokens)},
                           {"ttft_s", summary_json(l.ttft)},
                           {"tpot_s", summary_json(l.tpot)},
                           {"itl_s", summary_json(l.itl)},
                           {"e2e_s", summary_json(l.e2e)},
                           {"error_samples", l.error_samples}});
  }
  return ojson{{"corral_bench", 1},
               {"label", run.label},
               {"host", run.host},
               {"model", run.model},
               {"api", run.api},
               {"stream", run.stream},
               {"num_predict", run.num_predict},
               {"slo", {{"ttft_s", opt(run.slo.ttft_s)}, {"e2e_s", opt(run.slo.e2e_s)}}},
               {"levels", levels}};
}

Result<Run> run_from_json(const nlohmann::json& j) {
  if (!j.is_object() || !j.contains("levels") || !j["levels"].is_array())
    return Status::error("not a `corral bench --json` result (no \"levels\" array)");
  Run run;
  run.label = j.value("label", "");
  run.host = j.value("host", "");
  run.model = j.value("model", "");
  run.api = j.value("api", "");
  run.stream = j.value("stream", true);
  run.num_predict = j.value("num_predict", int64_t{0});
  for (const json& lj : j["levels"]) {
    if (!lj.is_object() || !lj.contains("concurrency") || !lj["concurrency"].is_number_integer())
      return Status::error("a level without an integer \"concurrency\"");
    LevelStats l;
    l.concurrency = lj["concurrency"].get<int>();
    l.sent = lj.value("requests", 0);
    l.ok = lj.value("ok", 0);
    l.rejected = lj.value("rejected_503", 0);
    l.errors = lj.value("errors", 0);
    l.wall_s = lj.value("wall_s", 0.0);
    l.requests_per_s = lj.value("requests_per_s", 0.0);
    l.output_tokens_per_s = lj.value("output_tokens_per_s", 0.0);
    l.goodput_rps = lj.value("goodput_rps", 0.0);
    l.slo_met = lj.value("slo_met", 0);
    l.mean_prompt_tokens = lj.value("mean_prompt_tokens", 0.0);
    l.mean_output_tokens = lj.value("mean_output_tokens", 0.0);
    l.ttft = summary_from(lj.value("ttft_s", json()));
    l.tpot = summary_from(lj.value("tpot_s", json()));
    l.itl = summary_from(lj.value("itl_s", json()));
    l.e2e = summary_from(lj.value("e2e_s", json()));
    run.levels.push_back(std::move(l));
  }
  return run;
}

}  // namespace corral::cli::bench
