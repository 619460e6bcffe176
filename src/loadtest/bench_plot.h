// The picture of a concurrency sweep, as a standalone SVG file written by hand (no plotting
// dependency): output tokens/s against concurrency on the left, p95 latency (end-to-end solid,
// time to first token dashed) on the right. Several runs overlay in different colours, e.g.
// OLLAMA_NUM_PARALLEL=1 against 8: the guide's "latency that stays flat vs grows linearly".
#pragma once

#include <string>
#include <vector>

#include "loadtest/bench_stats.h"

namespace corral::cli::bench {

std::string render_svg(const std::vector<Run>& runs, const std::string& title);

// Axis helpers (exposed for tests): a "nice" upper bound and tick step for [0, max] with about
// `ticks` ticks (steps of 1, 2, 2.5 or 5 times a power of ten).
struct AxisRange {
  double max = 1, step = 0.2;
};
AxisRange nice_range(double max, int ticks = 5);

// Text safe inside an XML element or attribute.
std::string xml_escape(const std::string& s);

}  // namespace corral::cli::bench
