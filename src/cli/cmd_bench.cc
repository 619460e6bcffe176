// corral bench: an LLM-aware load generator for any Ollama-compatible server (corral or
// Ollama). It sweeps concurrency levels, and for each reports requests/s, output tokens/s,
// p50/p95/p99 of time to first token, time per output token, inter-token latency and
// end-to-end latency, and goodput against optional SLOs; a table for people, --json for
// machines, --plot for the picture, --compare to overlay an earlier run.
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <memory>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "loadtest/bench_options.h"
#include "loadtest/bench_plot.h"
#include "loadtest/bench_report.h"
#include "loadtest/bench_runner.h"
#include "loadtest/bench_target.h"

namespace corral::cli {
namespace {

// Hard bounds: a typo must not turn into a day-long flood.
constexpr int kMaxConcurrency = 1024;
constexpr int kMaxRequests = 100000;

struct BenchOptions {
  std::string host, model, concurrency = "1,2,4,8", duration, prompt, prompt_file, api = "ollama";
  std::string plot, save, label, slo_ttft, slo_e2e, timeout = "10m";
  std::vector<std::string> compare;
  int requests = 0, prompt_tokens = 64, warmup = 1;
  int64_t num_predict = 64;
  bool stream = true, json = false;
};

Status write_file(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!(out << text) || !out.flush()) return Status::errorf("cannot write {}", path);
  return Status::ok();
}

// The legend and heading of the run being measured when it has no --label. Never saved: a
// file compared later is named by its path instead.
constexpr const char* kThisRun = "this run";

Result<bench::Run> load_run(const std::string& path) {
  std::ifstream in(path);
  if (!in) return Status::errorf("cannot read {}", path);
  const auto j = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return Status::errorf("{} is not JSON", path);
  auto run = bench::run_from_json(j);
  if (!run) return Status::errorf("{}: {}", path, run.error());
  // Unlabelled: named by its file. "this run" is the measured run's display name, which builds
  // before this one also wrote into files saved without --label.
  if (run->label.empty() || run->label == kThisRun) run->label = path;
  return run;
}

// The numeric and choice flags in range.
Status check_limits(const BenchOptions& o) {
  if (o.requests < 0 || o.requests > kMaxRequests) return Status::errorf("--requests must be 0 to {}", kMaxRequests);
  if (o.num_predict < 1) return Status::error("--num-predict must be at least 1");
  if (o.api != "ollama" && o.api != "openai") return Status::error("--api must be ollama or openai");
  return Status::ok();
}

// What each request sends: the API, model, prompts (--prompt, --prompt-file or generated) and
// the per-request timeout.
Result<bench::Workload> workload_from(const BenchOptions& o, const std::string& url) {
  bench::Workload w;
  w.request.base_url = url;
  w.request.api = o.api == "openai" ? bench::Api::kOpenAI : bench::Api::kOllama;
  w.request.model = o.model;
  w.request.num_predict = o.num_predict;
  w.request.stream = o.stream;
  w.prompt_tokens = o.prompt_tokens;
  if (!o.prompt.empty()) w.prompts = {o.prompt};
  if (!o.prompt_file.empty()) { CORRAL_ASSIGN_OR_RETURN(w.prompts, bench::read_prompt_file(o.prompt_file)); }
  CORRAL_ASSIGN_OR_RETURN(w.request.timeout_s, bench::parse_seconds(o.timeout, "--timeout"));
  return w;
}

// The sweep: concurrency levels, how long or how many requests each runs, and the SLOs.
Result<bench::SweepPlan> plan_from(const BenchOptions& o, std::vector<int> levels) {
  bench::SweepPlan plan;
  plan.concurrency = std::move(levels);
  plan.requests = o.requests;
  plan.warmup = o.warmup;
  if (!o.duration.empty()) {
    CORRAL_ASSIGN_OR_RETURN(plan.duration_s, bench::parse_seconds(o.duration, "--duration"));
    // --duration alone: the time decides, the request cap only guards against a runaway.
    if (o.requests == 0) plan.requests = kMaxRequests;
  }
  for (auto [flag, text, slot] : {std::tuple{"--slo-ttft", &o.slo_ttft, &plan.slo.ttft_s},
                                  std::tuple{"--slo-e2e", &o.slo_e2e, &plan.slo.e2e_s}}) {
    if (text->empty()) continue;
    CORRAL_ASSIGN_OR_RETURN(*slot, bench::parse_seconds(*text, flag));
  }
  return plan;
}

Result<std::vector<bench::Run>> load_compared_runs(const BenchOptions& o) {
  std::vector<bench::Run> compare;
  for (const std::string& path : o.compare) {
    CORRAL_ASSIGN_OR_RETURN(bench::Run c, load_run(path));
    compare.push_back(std::move(c));
  }
  return compare;
}

// Runs the sweep with a live progress line (on a terminal) and a line per finished level.
Result<std::vector<bench::LevelStats>> sweep(const BenchOptions& o, const std::string& url, const bench::Workload& w,
                                             const bench::SweepPlan& plan) {
  const bool tty = isatty(STDERR_FILENO);
  auto progress = [tty](const bench::Live& l) {
    if (tty) fmt::print(stderr, "\r\033[K{}", bench::progress_line(l));
  };
  auto level_done = [tty, &o](const bench::LevelStats& l) {
    if (tty) fmt::print(stderr, "\r\033[K");
    if (!o.json)
      fmt::print(stderr, "concurrency {}: {} ok, {} rejected (503), {} errors, {:.2f} req/s, {:.1f} output tokens/s\n",
                 l.concurrency, l.ok, l.rejected, l.errors, l.requests_per_s, l.output_tokens_per_s);
  };
  if (!o.json)
    fmt::print(stderr, "corral bench: {} at {}, {} API, {} predicted tokens per request, concurrency {}\n", o.model,
               url, o.api, o.num_predict, o.concurrency);
  return bench::run_sweep(w, plan, bench::stop_flag(), progress, level_done);
}

// The results: the table (or --json) on stdout, then --save and --plot.
Status report(const BenchOptions& o, const bench::Run& run, const std::vector<bench::Run>& compare) {
  const std::string json_text = bench::to_json(run).dump(2) + "\n";
  if (o.json) {
    fmt::print("{}", json_text);
  } else {
    fmt::print("\n{}\n{}", bench::results_table(run), bench::results_notes(run));
    for (const bench::Run& c : compare) fmt::print("\ncompared with {}:\n{}", c.label, bench::results_table(c));
  }
  if (!o.save.empty()) CORRAL_RETURN_IF_ERROR(write_file(o.save, json_text));
  if (!o.plot.empty()) {
    std::vector<bench::Run> runs{run};
    if (runs[0].label.empty()) runs[0].label = kThisRun;
    runs.insert(runs.end(), compare.begin(), compare.end());
    CORRAL_RETURN_IF_ERROR(write_file(o.plot, bench::render_svg(runs, "corral bench: " + o.model)));
  }
  return Status::ok();
}

int run_bench(const BenchOptions& o) {
  if (o.model.empty()) return bench::print_error("--model is required");
  auto target = bench::resolve_target(o.host);
  if (!target) return bench::print_error(target.status());
  auto levels = bench::parse_int_list(o.concurrency, 1, kMaxConcurrency, "--concurrency");
  if (!levels) return bench::print_error(levels.status());
  if (Status s = check_limits(o); !s) return bench::print_error(s);
  auto w = workload_from(o, target->url);
  if (!w) return bench::print_error(w.status());
  auto plan = plan_from(o, std::move(levels).value());
  if (!plan) return bench::print_error(plan.status());
  auto compare = load_compared_runs(o);
  if (!compare) return bench::print_error(compare.status());

  bench::StopOnInterrupt interrupts;  // Ctrl-C ends the sweep early; what was measured is still shown
  auto stats = sweep(o, target->url, *w, *plan);
  if (!stats) return bench::print_error(stats.status());
  bench::Run run;
  run.label = o.label;  // empty without --label, so a saved file does not claim "this run"
  run.host = target->url;
  run.model = o.model;
  run.api = o.api;
  run.stream = o.stream;
  run.num_predict = o.num_predict;
  run.slo = plan->slo;
  run.levels = std::move(stats).value();
  if (Status s = report(o, run, *compare); !s) return bench::print_error(s);
  if (bench::stop_flag().load()) return 130;  // as a shell reports a Ctrl-C
  int ok = 0;
  for (const auto& l : run.levels) ok += l.ok;
  return ok > 0 ? 0 : bench::print_error("no request succeeded");
}

}  // namespace

void register_bench(CLI::App& app, int& exit_code) {
  auto o = std::make_shared<BenchOptions>();
  CLI::App* cmd =
      app.add_subcommand("bench", "Load-test an Ollama-compatible server: a concurrency sweep with LLM latencies");
  cmd->add_option("--host", o->host, "Server to test (default: OLLAMA_HOST, which must be a loopback address)");
  cmd->add_option("--model,-m", o->model, "Model to request")->required();
  cmd->add_option("--concurrency,-c", o->concurrency, "Concurrent clients, one level or a sweep: 1,2,4,8")
      ->capture_default_str();
  cmd->add_option("--requests,-n", o->requests, "Requests per level (default: 2 x concurrency, at least 4)");
  cmd->add_option("--duration", o->duration, "Per level: stop sending new requests after this long (30s, 2m)");
  cmd->add_option("--prompt", o->prompt, "The prompt of every request");
  cmd->add_option("--prompt-file", o->prompt_file, "Prompts, one per line, used in turn");
  cmd->add_option("--prompt-tokens", o->prompt_tokens, "Length of synthetic prompts (when no prompt is given)")
      ->capture_default_str()
      ->check(CLI::Range(4, 1 << 20));
  cmd->add_option("--num-predict", o->num_predict, "Tokens to generate per request (num_predict / max_tokens)")
      ->capture_default_str();
  cmd->add_flag("--stream,!--no-stream", o->stream, "Stream responses (needed for TTFT, TPOT and ITL; default on)");
  cmd->add_option("--api", o->api, "ollama (/api/generate) or openai (/v1/chat/completions)")->capture_default_str();
  cmd->add_option("--slo-ttft", o->slo_ttft, "Goodput counts requests whose time to first token is at most this");
  cmd->add_option("--slo-e2e", o->slo_e2e, "Goodput counts requests that finish within this");
  cmd->add_option("--timeout", o->timeout, "Per-request time limit")->capture_default_str();
  cmd->add_option("--warmup", o->warmup, "Unmeasured requests first (they load the model)")
      ->capture_default_str()
      ->check(CLI::Range(0, 100));
  cmd->add_flag("--json", o->json, "Print the results as JSON");
  cmd->add_option("--save", o->save, "Also write the JSON results to this file (for --compare)");
  cmd->add_option("--plot", o->plot, "Write throughput and p95 latency against concurrency to this SVG file");
  cmd->add_option("--compare", o->compare,
                  "Saved JSON results (--save) to overlay in the plot and show beside this run")
      ->type_name("FILE.json ...");
  cmd->add_option("--label", o->label, "This run's name in plots (e.g. OLLAMA_NUM_PARALLEL=8)");
  cmd->callback([o, &exit_code] { exit_code = run_bench(*o); });
}

}  // namespace corral::cli
