// How `corral bench` shows its results to people: the live progress line while a level runs
// and the table of every level at the end.
#pragma once

#include <string>
#include <vector>

#include "loadtest/bench_runner.h"
#include "loadtest/bench_stats.h"

namespace corral::cli::bench {

// "812ms", "4.30s"; "-" when there are no samples.
std::string seconds_text(double s);

// A borderless table: cells left-aligned, each column as wide as its widest cell, columns
// two spaces apart.
std::string text_table(const std::vector<std::string>& header, const std::vector<std::vector<std::string>>& rows);

// One line (no newline): concurrency, requests done / planned, failures, tokens/s so far.
std::string progress_line(const Live& live);

// The table of a run: one row per concurrency level, latencies as p50/p95/p99.
std::string results_table(const Run& run);

// Lines under the table: the SLO used for goodput, and error messages seen.
std::string results_notes(const Run& run);

}  // namespace corral::cli::bench
