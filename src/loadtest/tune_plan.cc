#include "loadtest/tune_plan.h"

#include <algorithm>
#include <cmath>
#include <functional>

#include <fmt/format.h>

#include "loadtest/bench_report.h"

namespace corral::cli {
namespace {

using bench::seconds_text;

// Settings whose results differ by less than this are a tie, and the smaller num_parallel
// wins it: less memory, shorter steps, the same throughput within measuring noise.
constexpr double kTie = 0.05;

int clamp_queue(double q, int num_parallel) {
  return static_cast<int>(std::clamp(std::ceil(q), static_cast<double>(num_parallel), 512.0));
}

// The best candidate by `score` (higher is better) among those `eligible`, preferring the
// smallest num_parallel within kTie of the best score.
const Candidate* best_by(const std::vector<Candidate>& cs, double (*score)(const bench::LevelStats&),
                         const std::function<bool(const Candidate&)>& eligible) {
  double top = -1;
  for (const Candidate& c : cs)
    if (c.stats && eligible(c)) top = std::max(top, score(*c.stats));
  if (top < 0) return nullptr;
  for (const Candidate& c : cs)  // candidates are in increasing num_parallel
    if (c.stats && eligible(c) && score(*c.stats) >= top * (1 - kTie)) return &c;
  return nullptr;
}

double tokens_per_s(const bench::LevelStats& s) { return s.output_tokens_per_s; }
double goodput(const bench::LevelStats& s) { return s.goodput_rps; }

}  // namespace

std::string ProfileSpec::describe() const {
  std::string slo;
  if (slo_ttft_s) slo += fmt::format("p95 TTFT <= {}", seconds_text(*slo_ttft_s));
  if (slo_tpot_s)
    slo += fmt::format("{}p95 time per output token <= {}", slo.empty() ? "" : ", ", seconds_text(*slo_tpot_s));
  if (slo_e2e_s) slo += fmt::format("{}end-to-end <= {}", slo.empty() ? "" : ", ", seconds_text(*slo_e2e_s));
  return fmt::format("profile {}: ~{}-token prompts, {} tokens out, {} client{} per slot; {}", name, prompt_tokens,
                     num_predict, clients_per_slot, clients_per_slot == 1 ? "" : "s",
                     slo.empty() ? "throughput only" : "SLO " + slo);
}

Result<ProfileSpec> profile_spec(const std::string& name) {
  ProfileSpec p;
  p.name = name;
  if (name == "chat") {
    // People read about 4-5 words a second: a stream slower than 4 tokens/s feels stuck, and
    // a first token later than ~5 s on a CPU server feels broken.
    p.profile = Profile::kChat;
    p.prompt_tokens = 128;
    p.num_predict = 64;
    p.slo_ttft_s = 5;
    p.slo_tpot_s = 0.25;
    p.wanted_ctx = 4096;
  } else if (name == "agent") {
    // Tool-calling loops: short prompts and answers, bursts from more callers than slots, and
    // a caller that gives up (times out) after half a minute.
    p.profile = Profile::kAgent;
    p.prompt_tokens = 48;
    p.num_predict = 24;
    p.clients_per_slot = 2;
    p.slo_e2e_s = 30;
    p.wanted_ctx = 8192;  // tool results accumulate in the conversation
  } else if (name == "batch") {
    p.profile = Profile::kBatch;
    p.prompt_tokens = 128;
    p.num_predict = 128;
    p.wanted_ctx = 2048;
  } else {
    return Status::errorf("--profile must be chat, agent or batch, not \"{}\"", name);
  }
  return p;
}

bool meets_slo(const ProfileSpec& p, const bench::LevelStats& s) {
  if (s.ok == 0 || s.errors > 0 || s.rejected > 0) return false;
  if (p.slo_ttft_s && (s.ttft.n == 0 || s.ttft.p95 > *p.slo_ttft_s)) return false;
  if (p.slo_tpot_s && s.tpot.n > 0 && s.tpot.p95 > *p.slo_tpot_s) return false;
  if (p.slo_e2e_s && s.e2e.p95 > *p.slo_e2e_s) return false;
  return true;
}

Recommendation recommend(const ProfileSpec& p, const std::vector<Candidate>& cs, const MemoryModel& mem,
                         int64_t mem_budget, int64_t ctx_ceiling) {
  Recommendation r;
  auto clean = [](const Candidate& c) { return c.stats->ok > 0 && c.stats->errors == 0; };
  const Candidate* pick = nullptr;
  switch (p.profile) {
    case Profile::kChat:
      pick = best_by(cs, tokens_per_s, [&](const Candidate& c) { return meets_slo(p, *c.stats); });
      if (pick) {
        r.why.push_back(
            fmt::format("num_parallel {} gives the most output tokens/s ({:.1f}) among the settings that meet the SLO "
                        "(p95 TTFT {}, p95 time per output token {}).",
                        pick->num_parallel, pick->stats->output_tokens_per_s, seconds_text(pick->stats->ttft.p95),
                        seconds_text(pick->stats->tpot.p95)));
      } else {
        // Nothing meets it: the lowest first-token latency is the least bad for people waiting.
        for (const Candidate& c : cs)
          if (c.stats && clean(c) && (!pick || c.stats->ttft.p95 < pick->stats->ttft.p95)) pick = &c;
        if (pick)
          r.why.push_back(
              fmt::format("No setting met the SLO on this machine; num_parallel {} has the lowest p95 TTFT ({}). "
                          "Consider a smaller "
                          "model or quantization, or a looser --slo-ttft / --slo-tpot.",
                          pick->num_parallel, seconds_text(pick->stats->ttft.p95)));
      }
      break;
    case Profile::kAgent:
      pick = best_by(cs, goodput, clean);
      if (pick)
        r.why.push_back(
            fmt::format("num_parallel {} completes the most requests within the {} deadline ({:.2f}/s, "
                        "p95 end-to-end {}).",
                        pick->num_parallel, seconds_text(p.slo_e2e_s.value_or(0)), pick->stats->goodput_rps,
                        seconds_text(pick->stats->e2e.p95)));
      break;
    case Profile::kBatch:
      pick = best_by(cs, tokens_per_s, clean);
      if (pick)
        r.why.push_back(fmt::format("num_parallel {} gives the most output tokens/s ({:.1f}); latency is not a goal.",
                                    pick->num_parallel, pick->stats->output_tokens_per_s));
      break;
  }
  if (!pick) {
    r.why.push_back("No setting completed a request cleanly; keeping num_parallel 1.");
    r.num_parallel = 1;
  } else {
    r.num_parallel = pick->num_parallel;
    for (const Candidate& c : cs) {
      if (!c.stats || &c == pick || c.num_parallel < pick->num_parallel) continue;
      // Why not more: the next larger setting's figures.
      r.why.push_back(fmt::format("num_parallel {}: {:.1f} tokens/s, p95 TTFT {}, p95 end-to-end {}{}.", c.num_parallel,
                                  c.stats->output_tokens_per_s, seconds_text(c.stats->ttft.p95),
                                  seconds_text(c.stats->e2e.p95),
                                  p.profile == Profile::kChat && !meets_slo(p, *c.stats) ? " (misses the SLO)" : ""));
      break;
    }
  }

  // The queue bound: a request behind Q waiting ones waits about Q / (requests/s). Past the
  // latency budget it is late anyway, and a quick 503 lets the caller retry elsewhere.
  const double rps = pick ? pick->stats->requests_per_s : 0;
  if (p.profile == Profile::kBatch || rps <= 0) {
    r.max_queue = 512;
    r.why.push_back("OLLAMA_MAX_QUEUE=512 (the default): batch callers would rather wait than retry.");
  } else {
    const double budget = (p.profile == Profile::kChat ? p.slo_ttft_s : p.slo_e2e_s).value_or(30);
    r.max_queue = clamp_queue(rps * budget, r.num_parallel);
    r.why.push_back(
        fmt::format("OLLAMA_MAX_QUEUE={}: at {:.2f} requests/s that many waiting requests take about {} to "
                    "drain; later ones would miss the SLO and get a 503 instead.",
                    r.max_queue, rps, seconds_text(budget)));
  }

  // Context: what the workload wants, within the model's training length and the memory left.
  const int64_t want = std::min(p.wanted_ctx, ctx_ceiling > 0 ? ctx_ceiling : p.wanted_ctx);
  r.num_ctx = mem_budget > 0 ? mem.max_context(r.num_parallel, mem_budget, want) : std::optional<int64_t>(want);
  if (!r.num_ctx) {
    r.why.push_back(fmt::format("Even a 512-token context for {} slots does not fit the {} available.", r.num_parallel,
                                gib_text(mem_budget)));
  } else if (mem_budget > 0) {
    r.why.push_back(fmt::format("num_ctx {}: {} for {} slot{}, within the {} available{}.", *r.num_ctx,
                                gib_text(mem.bytes_for(r.num_parallel, *r.num_ctx)), r.num_parallel,
                                r.num_parallel == 1 ? "" : "s", gib_text(mem_budget),
                                *r.num_ctx < want ? " (less than the profile wants)" : ""));
  }
  return r;
}

std::string systemd_dropin(const Recommendation& r) {
  std::string s =
      fmt::format("[Service]\nEnvironment=\"OLLAMA_NUM_PARALLEL={}\"\nEnvironment=\"OLLAMA_MAX_QUEUE={}\"\n",
                  r.num_parallel, r.max_queue);
  if (r.num_ctx) s += fmt::format("Environment=\"OLLAMA_CONTEXT_LENGTH={}\"\n", *r.num_ctx);
  return s;
}

std::string compose_snippet(const Recommendation& r) {
  std::string s = fmt::format(
      "services:\n  ollama:\n    environment:\n      - OLLAMA_NUM_PARALLEL={}\n      - OLLAMA_MAX_QUEUE={}\n",
      r.num_parallel, r.max_queue);
  if (r.num_ctx) s += fmt::format("      - OLLAMA_CONTEXT_LENGTH={}\n", *r.num_ctx);
  return s;
}

std::string modelfile_snippet(const std::string& model, const Recommendation& r) {
  std::string s = fmt::format("FROM {}\nPARAMETER num_parallel {}\n", model, r.num_parallel);
  if (r.num_ctx) s += fmt::format("PARAMETER num_ctx {}\n", *r.num_ctx);
  return s;
}

}  // namespace corral::cli
