#include "loadtest/bench_plot.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <set>

#include <fmt/format.h>

#include "loadtest/bench_report.h"

namespace corral::cli::bench {
namespace {

// Colour-blind-safe (Okabe-Ito) colours, one per run.
constexpr const char* kColors[] = {"#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9"};
constexpr int kWidth = 960, kHeight = 440;
constexpr double kTop = 70, kBottom = 370;  // plot area, y pixels

struct Panel {
  double left, right;  // plot area, x pixels
  std::string y_label;
  AxisRange y;
};

// Concurrency on a log2 axis when it spans a factor of 4 or more (1, 2, 4, 8, 16 spread out
// evenly), else linear.
class XAxis {
 public:
  explicit XAxis(const std::set<int>& values) : values_(values) {
    lo_ = *values.begin();
    hi_ = *values.rbegin();
    log_ = hi_ >= 4 * lo_;
  }
  double frac(double c) const {
    if (hi_ == lo_) return 0.5;
    return log_ ? (std::log2(c) - std::log2(lo_)) / (std::log2(hi_) - std::log2(lo_)) : (c - lo_) / (hi_ - lo_);
  }
  const std::set<int>& ticks() const { return values_; }
  bool log() const { return log_; }

 private:
  std::set<int> values_;
  double lo_ = 1, hi_ = 1;
  bool log_ = false;
};

std::string num(double v) { return fmt::format("{:.1f}", v); }

std::string tick_label(double v, double step) {
  // As many decimals as the step needs: 0.25 -> 2, 0.5 -> 1, 5 -> 0.
  int decimals = 0;
  for (double s = step; decimals < 6 && std::fabs(s - std::round(s)) > 1e-9 * std::max(1.0, s); s *= 10) ++decimals;
  return fmt::format("{:.{}f}", v, decimals);
}

void draw_frame(std::string& svg, const Panel& p, const XAxis& x, const std::string& x_label) {
  // Horizontal grid lines and y tick labels.
  for (double v = 0; v <= p.y.max + p.y.step * 1e-6; v += p.y.step) {
    const double y = kBottom - (v / p.y.max) * (kBottom - kTop);
    svg += fmt::format(R"(<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="#ddd"/>)", num(p.left), num(y), num(p.right),
                       num(y));
    svg += fmt::format(R"(<text x="{}" y="{}" text-anchor="end" font-size="12">{}</text>)", num(p.left - 6), num(y + 4),
                       tick_label(v, p.y.step));
    svg += "\n";
  }
  for (int c : x.ticks()) {
    const double xx = p.left + x.frac(c) * (p.right - p.left);
    svg += fmt::format(R"(<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="#999"/>)", num(xx), num(kBottom), num(xx),
                       num(kBottom + 5));
    svg += fmt::format(R"(<text x="{}" y="{}" text-anchor="middle" font-size="12">{}</text>)", num(xx),
                       num(kBottom + 20), c);
    svg += "\n";
  }
  svg += fmt::format(R"(<rect x="{}" y="{}" width="{}" height="{}" fill="none" stroke="#333"/>)", num(p.left),
                     num(kTop), num(p.right - p.left), num(kBottom - kTop));
  svg +=
      fmt::format(R"(<text x="{}" y="{}" text-anchor="middle" font-size="13">{}</text>)", num((p.left + p.right) / 2),
                  num(kBottom + 42), xml_escape(x_label + (x.log() ? " (log scale)" : "")));
  const double ymid = (kTop + kBottom) / 2;
  svg += fmt::format(
      R"svg(<text x="{}" y="{}" text-anchor="middle" font-size="13" transform="rotate(-90 {} {})">{}</text>)svg",
      num(p.left - 48), num(ymid), num(p.left - 48), num(ymid), xml_escape(p.y_label));
  svg += "\n";
}

// One series: a polyline through the levels that have a value, with a dot at each.
void draw_series(std::string& svg, const Panel& p, const XAxis& x, const Run& run, const char* color, const char* dash,
                 const std::function<std::optional<double>(const LevelStats&)>& value) {
  std::string points;
  std::string dots;
  for (const LevelStats& l : run.levels) {
    const auto v = value(l);
    if (!v) continue;
    const double xx = p.left + x.frac(l.concurrency) * (p.right - p.left);
    const double yy = kBottom - std::min(*v / p.y.max, 1.0) * (kBottom - kTop);
    points += fmt::format("{},{} ", num(xx), num(yy));
    dots += fmt::format(R"(<circle cx="{}" cy="{}" r="3.5" fill="{}"/>)", num(xx), num(yy), color);
  }
  if (points.empty()) return;
  points.pop_back();
  svg += fmt::format(R"(<polyline points="{}" fill="none" stroke="{}" stroke-width="2"{}/>)", points, color,
                     dash[0] ? fmt::format(R"( stroke-dasharray="{}")", dash) : "");
  svg += dots + "\n";
}

std::optional<double> throughput(const LevelStats& l) {
  return l.ok > 0 ? std::optional<double>(l.output_tokens_per_s) : std::nullopt;
}
std::optional<double> e2e_p95(const LevelStats& l) {
  return l.e2e.n > 0 ? std::optional<double>(l.e2e.p95) : std::nullopt;
}
std::optional<double> ttft_p95(const LevelStats& l) {
  return l.ttft.n > 0 ? std::optional<double>(l.ttft.p95) : std::nullopt;
}

}  // namespace

AxisRange nice_range(double max, int ticks) {
  if (!(max > 0) || !std::isfinite(max)) return AxisRange{1, 0.2};
  const double raw = max / ticks;
  const double mag = std::pow(10, std::floor(std::log10(raw)));
  const double norm = raw / mag;
  const double step = (norm <= 1 ? 1 : norm <= 2 ? 2 : norm <= 2.5 ? 2.5 : norm <= 5 ? 5 : 10) * mag;
  return AxisRange{std::ceil(max / step - 1e-9) * step, step};
}

std::string xml_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&apos;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string render_svg(const std::vector<Run>& runs, const std::string& title) {
  std::set<int> conc;
  double max_tps = 0, max_lat = 0;
  for (const Run& r : runs) {
    for (const LevelStats& l : r.levels) {
      conc.insert(std::max(1, l.concurrency));
      if (auto v = throughput(l)) max_tps = std::max(max_tps, *v);
      if (auto v = e2e_p95(l)) max_lat = std::max(max_lat, *v);
      if (auto v = ttft_p95(l)) max_lat = std::max(max_lat, *v);
    }
  }
  if (conc.empty()) conc.insert(1);
  const XAxis x(conc);
  const Panel left{80, 450, "output tokens/s (all requests)", nice_range(max_tps * 1.05)};
  const Panel right{570, 940, "p95 latency (s)", nice_range(max_lat * 1.05)};

  std::string svg = fmt::format(
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      R"(<svg xmlns="http://www.w3.org/2000/svg" width="{}" height="{}" viewBox="0 0 {} {}" font-family="sans-serif">)"
      "\n"
      R"(<rect width="100%" height="100%" fill="white"/>)"
      "\n",
      kWidth, kHeight, kWidth, kHeight);
  svg += fmt::format(R"(<text x="{}" y="24" text-anchor="middle" font-size="16" font-weight="bold">{}</text>)",
                     kWidth / 2, xml_escape(title));
  svg += "\n";
  draw_frame(svg, left, x, "concurrent clients");
  draw_frame(svg, right, x, "concurrent clients");
  for (size_t i = 0; i < runs.size(); ++i) {
    const char* color = kColors[i % (sizeof(kColors) / sizeof(kColors[0]))];
    draw_series(svg, left, x, runs[i], color, "", throughput);
    draw_series(svg, right, x, runs[i], color, "", e2e_p95);
    draw_series(svg, right, x, runs[i], color, "6 4", ttft_p95);
    // Legend: one entry per run, above the panels.
    const double lx = 80 + static_cast<double>(i % 3) * 290, ly = 44 + static_cast<double>(i / 3) * 14;
    const std::string label = runs[i].label.empty() ? fmt::format("run {}", i + 1) : runs[i].label;
    svg += fmt::format(R"(<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="{}" stroke-width="3"/>)", num(lx), num(ly - 4),
                       num(lx + 24), num(ly - 4), color);
    svg += fmt::format(R"(<text x="{}" y="{}" font-size="12">{}</text>)", num(lx + 30), num(ly), xml_escape(label));
    svg += "\n";
  }
  svg += fmt::format(
      R"(<text x="{}" y="{}" text-anchor="end" font-size="11" fill="#555">solid: end-to-end p95, dashed: time to first token p95</text>)",
      num(right.right), num(kHeight - 12));
  svg += "\n</svg>\n";
  return svg;
}

}  // namespace corral::cli::bench
