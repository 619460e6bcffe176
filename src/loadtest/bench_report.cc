#include "loadtest/bench_report.h"

#include <fmt/format.h>

#include <algorithm>

namespace corral::cli::bench {
namespace {

std::string pct(const Summary& s, double Summary::*field) { return s.n == 0 ? "-" : seconds_text(s.*field); }

}  // namespace

std::string text_table(const std::vector<std::string>& header, const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> widths(header.size(), 0);
  for (size_t i = 0; i < header.size(); ++i) widths[i] = header[i].size();
  for (const auto& r : rows)
    for (size_t i = 0; i < r.size() && i < widths.size(); ++i) widths[i] = std::max(widths[i], r[i].size());
  std::string out;
  auto line = [&](const std::vector<std::string>& row) {
    std::string l;
    for (size_t i = 0; i < widths.size(); ++i) {
      const std::string& cell = i < row.size() ? row[i] : "";
      l += cell + std::string(widths[i] - std::min(widths[i], cell.size()) + 2, ' ');
    }
    while (!l.empty() && l.back() == ' ') l.pop_back();
    out += l + "\n";
  };
  line(header);
  for (const auto& r : rows) line(r);
  return out;
}

std::string seconds_text(double s) {
  if (s < 0.01) return fmt::format("{:.1f}ms", s * 1e3);
  if (s < 1) return fmt::format("{:.0f}ms", s * 1e3);
  if (s < 100) return fmt::format("{:.2f}s", s);
  return fmt::format("{:.0f}s", s);
}

std::string progress_line(const Live& l) {
  const double tps = l.elapsed_s > 0 ? static_cast<double>(l.tokens) / l.elapsed_s : 0;
  return fmt::format("concurrency {:>3}: {:>4}/{} requests done, {} failed, {:.1f} tokens/s streamed, {:.1f}s",
                     l.concurrency, l.done, l.planned, l.failed, tps, l.elapsed_s);
}

std::string results_table(const Run& run) {
  std::vector<std::vector<std::string>> rows;
  for (const LevelStats& l : run.levels) {
    rows.push_back({std::to_string(l.concurrency), std::to_string(l.sent), std::to_string(l.ok),
                    std::to_string(l.rejected), std::to_string(l.errors), fmt::format("{:.2f}", l.requests_per_s),
                    fmt::format("{:.1f}", l.output_tokens_per_s), pct(l.ttft, &Summary::p50),
                    pct(l.ttft, &Summary::p95), pct(l.ttft, &Summary::p99), pct(l.tpot, &Summary::p50),
                    pct(l.tpot, &Summary::p95), pct(l.itl, &Summary::p95), pct(l.e2e, &Summary::p50),
                    pct(l.e2e, &Summary::p95), pct(l.e2e, &Summary::p99), fmt::format("{:.2f}", l.goodput_rps)});
  }
  return text_table({"CONC", "REQS", "OK", "503", "ERR", "REQ/S", "OUT TOK/S", "TTFT P50", "P95", "P99", "TPOT P50",
                     "P95", "ITL P95", "E2E P50", "P95", "P99", "GOODPUT/S"},
                    rows);
}

std::string results_notes(const Run& run) {
  std::string out;
  if (run.slo.ttft_s || run.slo.e2e_s) {
    out += "goodput: successful requests per second";
    if (run.slo.ttft_s) out += fmt::format(" with TTFT <= {}", seconds_text(*run.slo.ttft_s));
    if (run.slo.e2e_s)
      out += fmt::format("{} E2E <= {}", run.slo.ttft_s ? " and" : " with", seconds_text(*run.slo.e2e_s));
    out += "\n";
  } else {
    out += "goodput: no --slo-ttft/--slo-e2e given, so every successful request counts\n";
  }
  if (!run.stream) out += "not streaming: TTFT, TPOT and ITL need --stream\n";
  for (const LevelStats& l : run.levels)
    for (const std::string& e : l.error_samples) out += fmt::format("concurrency {} error: {}\n", l.concurrency, e);
  return out;
}

}  // namespace corral::cli::bench
