#include "base/metrics.h"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "base/check.h"

namespace corral::metrics {
namespace {

// HELP text escapes only backslash and newline (a quote is literal there).
std::string escape_help(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '\\') out += "\\\\";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

const char* type_name(Type t) {
  switch (t) {
    case Type::kCounter: return "counter";
    case Type::kGauge: return "gauge";
    case Type::kHistogram: return "histogram";
  }
  return "untyped";
}

// `{a="x",b="y"}` from names and values, with `extra` (already rendered, e.g. le="0.1") last;
// empty when there are no labels at all.
std::string label_block(const std::string& inner, const std::string& extra) {
  if (inner.empty() && extra.empty()) return "";
  if (inner.empty()) return "{" + extra + "}";
  if (extra.empty()) return "{" + inner + "}";
  return "{" + inner + "," + extra + "}";
}

void render_histogram(std::string& out, const std::string& name, const std::string& labels,
                      const Histogram::Snapshot& s) {
  for (size_t i = 0; i <= s.bounds.size(); ++i) {
    const std::string le = i < s.bounds.size() ? format_value(s.bounds[i]) : "+Inf";
    out += fmt::format("{}_bucket{} {}\n", name, label_block(labels, "le=\"" + le + "\""), s.cumulative[i]);
  }
  out += fmt::format("{}_sum{} {}\n", name, label_block(labels, ""), format_value(s.sum));
  out += fmt::format("{}_count{} {}\n", name, label_block(labels, ""), s.count);
}

}  // namespace

Histogram::Histogram(const std::vector<double>& bounds)
    : bounds_(bounds), counts_(new std::atomic<uint64_t>[bounds.size() + 1]) {
  for (size_t i = 0; i + 1 < bounds_.size(); ++i) CORRAL_CHECK(bounds_[i] < bounds_[i + 1]);
  for (size_t i = 0; i <= bounds_.size(); ++i) counts_[i].store(0, std::memory_order_relaxed);
}

void Histogram::observe(double v) {
  if (std::isnan(v)) return;
  // le is "less than or equal": the first bound >= v holds it; past the last, +Inf does.
  const size_t i = static_cast<size_t>(std::lower_bound(bounds_.begin(), bounds_.end(), v) - bounds_.begin());
  counts_[i].fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(v, std::memory_order_relaxed);
}

Histogram::Snapshot Histogram::snapshot() const {
  Snapshot s;
  s.bounds = bounds_;
  s.cumulative.resize(bounds_.size() + 1);
  uint64_t acc = 0;
  for (size_t i = 0; i <= bounds_.size(); ++i) {
    acc += counts_[i].load(std::memory_order_relaxed);
    s.cumulative[i] = acc;
  }
  s.count = acc;
  s.sum = sum_.load(std::memory_order_relaxed);
  return s;
}

std::vector<double> exponential_buckets(double start, double factor, int count) {
  CORRAL_CHECK(start > 0 && factor > 1 && count > 0);
  std::vector<double> b;
  double v = start;
  for (int i = 0; i < count; ++i, v *= factor) b.push_back(v);
  return b;
}

std::string escape_label_value(const std::string& v) {
  std::string out;
  for (char c : v) {
    if (c == '\\') out += "\\\\";
    else if (c == '"') out += "\\\"";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

std::string format_value(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  return fmt::format("{}", v);  // shortest text that reads back as the same double
}

bool valid_metric_name(const std::string& name) {
  if (name.empty()) return false;
  for (size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':';
    if (!alpha && !(i > 0 && c >= '0' && c <= '9')) return false;
  }
  return true;
}

FamilyBase::FamilyBase(std::string name, std::string help, Type type, std::vector<std::string> label_names)
    : name_(std::move(name)), help_(std::move(help)), type_(type), label_names_(std::move(label_names)) {
  CORRAL_CHECK(valid_metric_name(name_));
  if (type_ == Type::kCounter) CORRAL_CHECK(name_.size() > 6 && name_.ends_with("_total"));
  for (const auto& l : label_names_) {
    // Label names may not contain ':' and "le" is the histogram's own.
    CORRAL_CHECK(valid_metric_name(l) && l.find(':') == std::string::npos && l != "le");
  }
}

void FamilyBase::check_arity(const std::vector<std::string>& values) const {
  CORRAL_CHECK(values.size() == label_names_.size());
}

void FamilyBase::render(std::string& out) const {
  out += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name_, escape_help(help_), name_, type_name(type_));
  std::lock_guard<std::mutex> lk(mu_);
  for (const auto& [values, child] : children_locked()) {
    std::string labels;
    for (size_t i = 0; i < label_names_.size(); ++i) {
      if (i) labels += ',';
      labels += fmt::format("{}=\"{}\"", label_names_[i], escape_label_value((*values)[i]));
    }
    render_child(out, labels, child);
  }
}

template <>
void Family<Counter>::render_child(std::string& out, const std::string& labels, const void* child) const {
  out += fmt::format("{}{} {}\n", name_, label_block(labels, ""),
                     format_value(static_cast<const Counter*>(child)->value()));
}

template <>
void Family<Gauge>::render_child(std::string& out, const std::string& labels, const void* child) const {
  out +=
      fmt::format("{}{} {}\n", name_, label_block(labels, ""), format_value(static_cast<const Gauge*>(child)->value()));
}

template <>
void Family<Histogram>::render_child(std::string& out, const std::string& labels, const void* child) const {
  render_histogram(out, name_, labels, static_cast<const Histogram*>(child)->snapshot());
}

template <>
void Collected<double>::render_child(std::string& out, const std::string& labels, const void* child) const {
  out += fmt::format("{}{} {}\n", name_, label_block(labels, ""), format_value(*static_cast<const double*>(child)));
}

template <>
void Collected<Histogram::Snapshot>::render_child(std::string& out, const std::string& labels,
                                                  const void* child) const {
  render_histogram(out, name_, labels, *static_cast<const Histogram::Snapshot*>(child));
}

template <typename F>
F& Registry::add(std::unique_ptr<F> f) {
  std::lock_guard<std::mutex> lk(mu_);
  for (const auto& other : families_) CORRAL_CHECK(other->name() != f->name());
  F& ref = *f;
  families_.push_back(std::move(f));
  return ref;
}

Family<Counter>& Registry::counter(std::string name, std::string help, std::vector<std::string> labels) {
  return add(std::make_unique<Family<Counter>>(std::move(name), std::move(help), Type::kCounter, std::move(labels)));
}

Family<Gauge>& Registry::gauge(std::string name, std::string help, std::vector<std::string> labels) {
  return add(std::make_unique<Family<Gauge>>(std::move(name), std::move(help), Type::kGauge, std::move(labels)));
}

Family<Histogram>& Registry::histogram(std::string name, std::string help, std::vector<std::string> labels,
                                       std::vector<double> buckets) {
  return add(std::make_unique<Family<Histogram>>(std::move(name), std::move(help), Type::kHistogram, std::move(labels),
                                                 std::move(buckets)));
}

Collected<double>& Registry::collected(std::string name, std::string help, Type type, std::vector<std::string> labels,
                                       std::function<Collected<double>::Samples()> collect) {
  CORRAL_CHECK(type != Type::kHistogram);
  return add(std::make_unique<Collected<double>>(std::move(name), std::move(help), type, std::move(labels),
                                                 std::move(collect)));
}

Collected<Histogram::Snapshot>& Registry::collected_histogram(
    std::string name, std::string help, std::vector<std::string> labels,
    std::function<Collected<Histogram::Snapshot>::Samples()> collect) {
  return add(std::make_unique<Collected<Histogram::Snapshot>>(std::move(name), std::move(help), Type::kHistogram,
                                                              std::move(labels), std::move(collect)));
}

std::string Registry::render() const {
  std::string out;
  std::lock_guard<std::mutex> lk(mu_);
  for (const auto& f : families_) f->render(out);
  return out;
}

}  // namespace corral::metrics
