// corral tune: the parallel-inference guide's tuning loop, automated. For a model and a
// workload profile it measures memory headroom, sweeps num_parallel (each on a fresh temporary
// server, or on a running one through derived models with PARAMETER num_parallel), measures
// each setting with the bench engine, and prints the recommended settings with the table
// behind them plus the systemd drop-in, docker-compose and Modelfile snippets that apply them.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>

#include <fmt/format.h>

#include "cli/commands.h"
#include "loadtest/bench_options.h"
#include "loadtest/bench_report.h"
#include "loadtest/bench_runner.h"
#include "loadtest/bench_target.h"
#include "loadtest/tune_plan.h"
#include "loadtest/tune_server.h"
#include "scheduler/config.h"
#include "store/store.h"

namespace corral::cli {
namespace {

using Clock = std::chrono::steady_clock;

// Memory the models may take: MemAvailable less a tenth, for the OS and the clients.
constexpr double kMemoryShare = 0.9;

struct TuneOptions {
  std::string model, profile = "chat", host, parallel = "1,2,4,8", budget = "5m", write_dir;
  std::string slo_ttft, slo_tpot, slo_e2e;
  int prompt_tokens = 0;
  int64_t num_predict = 0;
};

// The model's resident size and context as the server reports them once it is loaded.
struct Loaded {
  int64_t size = 0, num_ctx = 0;
};

Loaded loaded_info(const std::string& url, const std::string& model) {
  Loaded l;
  auto ps = bench::json_call("GET", url + "/api/ps");
  if (!ps || !ps->is_object()) return l;
  for (const auto& m : ps->value("models", nlohmann::json::array())) {
    const std::string name = m.value("name", "");
    if (name == model || name == model + ":latest") {
      l.size = m.value("size", int64_t{0});
      l.num_ctx = m.value("context_length", int64_t{0});
    }
  }
  return l;
}

// The model's training context (<arch>.context_length in /api/show), 0 when unknown.
int64_t training_context(const std::string& url, const std::string& model) {
  auto show = bench::json_call("POST", url + "/api/show", {{"model", model}});
  if (!show || !show->is_object() || !show->contains("model_info")) return 0;
  for (const auto& [k, v] : (*show)["model_info"].items())
    if (k.size() > 15 && k.ends_with(".context_length") && v.is_number_integer()) return v.get<int64_t>();
  return 0;
}

// One sweep step's server: a temporary one per step, or derived models on a running server.
class Session {
 public:
  virtual ~Session() = default;
  virtual std::string url() const = 0;
  virtual const std::string& model() const = 0;
};

class TempSession final : public Session {
 public:
  static Result<std::unique_ptr<TempSession>> start(const std::string& model, int num_parallel) {
    auto server =
        TempServer::start(store::Store::default_root(), {{"OLLAMA_NUM_PARALLEL", std::to_string(num_parallel)},
                                                         {"OLLAMA_MAX_QUEUE", "512"},
                                                         {"OLLAMA_KEEP_ALIVE", "-1"}});
    if (!server) return server.status();
    auto s = std::make_unique<TempSession>();
    s->server_ = std::move(server).value();
    s->model_ = model;
    return s;
  }
  std::string url() const override { return server_->url(); }
  const std::string& model() const override { return model_; }

 private:
  std::unique_ptr<TempServer> server_;
  std::string model_;
};

// On a running server: `FROM <model>` + `PARAMETER num_parallel N` as a temporary model, so
// the server's other models and settings stay as they are. Unloaded and deleted afterwards.
class DerivedSession final : public Session {
 public:
  static Result<std::unique_ptr<DerivedSession>> start(const std::string& url, const std::string& model,
                                                       int num_parallel) {
    auto s = std::make_unique<DerivedSession>();
    s->url_ = url;
    s->model_ = fmt::format("corral-tune-{}-np{}", getpid(), num_parallel);
    auto r = bench::json_call(
        "POST", url + "/api/create",
        {{"model", s->model_}, {"from", model}, {"parameters", {{"num_parallel", num_parallel}}}, {"stream", false}});
    if (!r) return Status::errorf("creating a model with num_parallel {}: {}", num_parallel, r.error());
    return s;
  }
  ~DerivedSession() override {
    (void)bench::json_call("POST", url_ + "/api/generate", {{"model", model_}, {"keep_alive", 0}});
    (void)bench::json_call("DELETE", url_ + "/api/delete", {{"model", model_}});
  }
  std::string url() const override { return url_; }
  const std::string& model() const override { return model_; }

 private:
  std::string url_, model_;
};

std::string candidates_table(const ProfileSpec& p, const std::vector<Candidate>& cs) {
  std::vector<std::vector<std::string>> rows;
  for (const Candidate& c : cs) {
    if (!c.stats) {
      rows.push_back(
          {std::to_string(c.num_parallel), "-", "-", "-", "-", "-", "-", "-", "-", "-", "-", "skipped: " + c.skipped});
      continue;
    }
    const bench::LevelStats& s = *c.stats;
    auto p95 = [](const bench::Summary& x) { return x.n ? bench::seconds_text(x.p95) : std::string("-"); };
    rows.push_back({std::to_string(c.num_parallel), std::to_string(s.concurrency), std::to_string(s.ok),
                    std::to_string(s.rejected + s.errors), fmt::format("{:.2f}", s.requests_per_s),
                    fmt::format("{:.1f}", s.output_tokens_per_s), p95(s.ttft), p95(s.tpot), p95(s.e2e),
                    meets_slo(p, s) ? "yes" : "no", c.size_bytes ? gib_text(c.size_bytes) : "-", ""});
  }
  return bench::text_table({"NUM_PARALLEL", "CLIENTS", "OK", "FAILED", "REQ/S", "OUT TOK/S", "TTFT P95", "TPOT P95",
                            "E2E P95", "SLO MET", "MEMORY", ""},
                           rows);
}

Status write_snippets(const std::string& dir, const std::string& model, const Recommendation& r) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  const std::pair<const char*, std::string> files[] = {{"override.conf", systemd_dropin(r)},
                                                       {"docker-compose.override.yml", compose_snippet(r)},
                                                       {"Modelfile", modelfile_snippet(model, r)}};
  for (const auto& [name, text] : files) {
    std::ofstream out(dir + "/" + name, std::ios::trunc);
    if (!(out << text)) return Status::errorf("cannot write {}/{}", dir, name);
  }
  return Status::ok();
}

Result<ProfileSpec> profile_from(const TuneOptions& o) {
  auto p = profile_spec(o.profile);
  if (!p) return p.status();
  if (o.prompt_tokens > 0) p->prompt_tokens = o.prompt_tokens;
  if (o.num_predict > 0) p->num_predict = o.num_predict;
  for (auto [flag, text, slot] :
       {std::tuple{"--slo-ttft", &o.slo_ttft, &p->slo_ttft_s}, std::tuple{"--slo-tpot", &o.slo_tpot, &p->slo_tpot_s},
        std::tuple{"--slo-e2e", &o.slo_e2e, &p->slo_e2e_s}}) {
    if (text->empty()) continue;
    auto s = bench::parse_seconds(*text, flag);
    if (!s) return s.status();
    *slot = *s;
  }
  return p;
}

// A server to measure one num_parallel on: the user's (a derived model with that
// PARAMETER num_parallel) or a temporary one of our own.
Result<std::unique_ptr<Session>> start_session(const std::optional<bench::Target>& target, const std::string& model,
                                               int num_parallel) {
  if (target) {
    CORRAL_ASSIGN_OR_RETURN(auto s, DerivedSession::start(target->url, model, num_parallel));
    return std::unique_ptr<Session>(std::move(s));
  }
  CORRAL_ASSIGN_OR_RETURN(auto s, TempSession::start(model, num_parallel));
  return std::unique_ptr<Session>(std::move(s));
}

// The recommendation with its reasons and the snippets that apply it (written to
// --write-dir too when given).
Status print_recommendation(const TuneOptions& o, const ProfileSpec& profile, const Recommendation& r) {
  fmt::print("recommended for {} ({} workload):\n  OLLAMA_NUM_PARALLEL={}  OLLAMA_MAX_QUEUE={}  num_ctx {}\n", o.model,
             profile.name, r.num_parallel, r.max_queue, r.num_ctx ? std::to_string(*r.num_ctx) : "(does not fit)");
  fmt::print("why:\n");
  for (const std::string& w : r.why) fmt::print("  - {}\n", w);
  fmt::print(
      "\nsystemd drop-in (/etc/systemd/system/ollama.service.d/override.conf, then systemctl daemon-reload "
      "&& systemctl restart ollama):\n{}\n",
      systemd_dropin(r));
  fmt::print("docker-compose:\n{}\n", compose_snippet(r));
  fmt::print("per model instead (Modelfile for `corral create`):\n{}", modelfile_snippet(o.model, r));
  if (!o.write_dir.empty()) {
    CORRAL_RETURN_IF_ERROR(write_snippets(o.write_dir, o.model, r));
    fmt::print("\nwrote override.conf, docker-compose.override.yml and Modelfile to {}\n", o.write_dir);
  }
  return Status::ok();
}

// One step of the sweep: the workload against `session` and its share of the time left.
std::pair<bench::Workload, bench::SweepPlan> sweep_step(const Session& session, const ProfileSpec& profile,
                                                        int num_parallel, double left, size_t steps_left) {
  bench::Workload w;
  w.request.base_url = session.url();
  w.request.model = session.model();
  w.request.num_predict = profile.num_predict;
  w.request.timeout_s = std::max(30.0, left * 2);
  w.prompt_tokens = profile.prompt_tokens;
  bench::SweepPlan plan;
  const int clients = num_parallel * profile.clients_per_slot;
  plan.concurrency = {clients};
  // At least two waves (the second starts while the first still decodes); a fast model gets
  // more, for steadier percentiles, until the time share runs out.
  plan.requests = 8 * clients;
  // This step's share of what is left; new requests stop after 60% of it so that the ones
  // in flight finish within the share.
  plan.duration_s = 0.6 * left / static_cast<double>(steps_left);
  plan.slo.e2e_s = profile.slo_e2e_s;
  plan.slo.ttft_s = profile.slo_ttft_s;
  fmt::print(stderr, "num_parallel {}: {} client{} for up to {} ...\n", num_parallel, clients, clients == 1 ? "" : "s",
             bench::seconds_text(plan.duration_s));
  return {w, plan};
}

int run_tune(const TuneOptions& o) {
  auto profile = profile_from(o);
  if (!profile) return bench::print_error(profile.status());
  auto parallel = bench::parse_int_list(o.parallel, 1, 256, "--parallel");
  if (!parallel) return bench::print_error(parallel.status());
  std::sort(parallel->begin(), parallel->end());
  parallel->erase(std::unique(parallel->begin(), parallel->end()), parallel->end());
  auto budget = bench::parse_seconds(o.budget, "--budget");
  if (!budget) return bench::print_error(budget.status());
  std::optional<bench::Target> target;
  if (!o.host.empty()) {
    auto t = bench::resolve_target(o.host);
    if (!t) return bench::print_error(t.status());
    target = *t;
  }
  // Measured before anything of ours is loaded. A remote server's memory is not ours to see.
  const int64_t available = !target || target->loopback ? available_memory_bytes() : 0;
  int64_t mem_budget = static_cast<int64_t>(static_cast<double>(available) * kMemoryShare);
  // The temporary servers inherit CORRAL_MAX_MEMORY: they refuse to load past it.
  if (auto sc = scheduler::config_from_env(); sc && !target && available > 0)
    mem_budget = std::min(mem_budget, sc->memory_budget_bytes);

  fmt::print("corral tune: {} ({})\n", o.model, profile->describe());
  if (available > 0)
    fmt::print("memory: {} available now; the model may use {}\n", gib_text(available), gib_text(mem_budget));
  fmt::print("sweeping num_parallel {} on {}, budget {}\n\n", o.parallel,
             target ? target->url + " (derived models with PARAMETER num_parallel)" : std::string("a temporary server"),
             bench::seconds_text(*budget));
  std::fflush(stdout);  // before the progress lines on stderr

  bench::StopOnInterrupt interrupts;
  const auto t0 = Clock::now();
  auto elapsed = [&] { return std::chrono::duration<double>(Clock::now() - t0).count(); };
  std::vector<Candidate> cs;
  std::optional<MemoryModel> mem;
  int64_t ctx_ceiling = 0;
  std::string failed;  // a setting that could not be measured: the larger ones are not tried
  for (size_t i = 0; i < parallel->size(); ++i) {
    Candidate c;
    c.num_parallel = (*parallel)[i];
    const double left = *budget - elapsed();
    if (bench::stop_flag().load()) c.skipped = "interrupted";
    else if (!failed.empty()) c.skipped = failed;
    else if (left <= 0) c.skipped = "time budget used up";
    else if (mem && mem_budget > 0 && mem->bytes_for(c.num_parallel, mem->num_ctx) > mem_budget)
      c.skipped = fmt::format("needs ~{}", gib_text(mem->bytes_for(c.num_parallel, mem->num_ctx)));
    if (!c.skipped.empty()) {
      cs.push_back(std::move(c));
      continue;
    }
    auto started = start_session(target, o.model, c.num_parallel);
    if (!started) return bench::print_error(started.status());
    std::unique_ptr<Session> session = std::move(started).value();
    const auto [w, plan] = sweep_step(*session, *profile, c.num_parallel, left, parallel->size() - i);
    auto stats = bench::run_sweep(w, plan, bench::stop_flag(), nullptr);
    if (!stats) {
      // Nothing measured yet: the model or the server is the problem, not the setting.
      if (cs.empty() || std::none_of(cs.begin(), cs.end(), [](const Candidate& p) { return p.stats.has_value(); }))
        return bench::print_error(fmt::format("num_parallel {}: {}", c.num_parallel, stats.error()));
      // A larger setting that fails (typically: it does not fit in memory) ends the sweep.
      c.skipped = fmt::format("failed: {}", stats.error());
      failed = fmt::format("num_parallel {} failed", c.num_parallel);
      cs.push_back(std::move(c));
      continue;
    }
    if (!stats->empty()) c.stats = stats->front();
    const Loaded l = loaded_info(session->url(), session->model());
    c.size_bytes = l.size;
    if (ctx_ceiling == 0) ctx_ceiling = training_context(session->url(), session->model());
    // The memory model from the first two sizes seen (different num_parallel, same context).
    for (const Candidate& prev : cs) {
      if (mem || !prev.stats || prev.size_bytes == 0 || c.size_bytes == 0) continue;
      mem = fit_memory(prev.num_parallel, prev.size_bytes, std::pair{c.num_parallel, c.size_bytes}, l.num_ctx);
    }
    cs.push_back(std::move(c));
  }
  if (!mem) {
    for (const Candidate& c : cs)
      if (c.size_bytes > 0 && !mem) mem = fit_memory(c.num_parallel, c.size_bytes, std::nullopt, 4096);
  }

  fmt::print("{}\n", candidates_table(*profile, cs));
  const Recommendation r = recommend(*profile, cs, mem.value_or(MemoryModel{}), mem ? mem_budget : 0, ctx_ceiling);
  if (Status st = print_recommendation(o, *profile, r); !st) return bench::print_error(st);
  return bench::stop_flag().load() ? 130 : 0;
}

}  // namespace

void register_tune(CLI::App& app, int& exit_code) {
  auto o = std::make_shared<TuneOptions>();
  CLI::App* cmd =
      app.add_subcommand("tune", "Measure a model at several num_parallel settings and recommend the settings");
  cmd->add_option("--model,-m", o->model, "Model to tune for")->required();
  cmd->add_option("--profile", o->profile,
                  "Workload: chat (latency SLO), agent (many short requests), batch (throughput)")
      ->capture_default_str();
  cmd->add_option("--host", o->host, "Tune a running server (derived models) instead of temporary ones");
  cmd->add_option("--parallel", o->parallel, "num_parallel settings to try")->capture_default_str();
  cmd->add_option("--budget", o->budget, "Time for the whole sweep, about (90s, 5m)")->capture_default_str();
  cmd->add_option("--prompt-tokens", o->prompt_tokens, "Override the profile's prompt length")
      ->check(CLI::Range(4, 1 << 20));
  cmd->add_option("--num-predict", o->num_predict, "Override the profile's tokens per answer");
  cmd->add_option("--slo-ttft", o->slo_ttft, "Override the p95 time-to-first-token limit (chat)");
  cmd->add_option("--slo-tpot", o->slo_tpot, "Override the p95 time-per-output-token limit (chat)");
  cmd->add_option("--slo-e2e", o->slo_e2e, "Override the end-to-end deadline (agent)");
  cmd->add_option("--write", o->write_dir, "Also write override.conf, docker-compose.override.yml and Modelfile here");
  cmd->callback([o, &exit_code] { exit_code = run_tune(*o); });
}

}  // namespace corral::cli
