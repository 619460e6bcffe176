// A small metrics registry with Prometheus text exposition (format 0.0.4): counters, gauges and
// histograms with fixed buckets, each a family of children told apart by label values.
//
// Cost model: looking up a child (Family::with) takes the family's mutex and may allocate, so
// callers look a child up once (per model, say) and keep the reference; updating a child is
// lock-free (one or two relaxed atomic operations, no allocation), cheap enough for an engine
// step. Children live as long as the registry; references to them never dangle or move.
//
// Names follow Prometheus: [a-zA-Z_:][a-zA-Z0-9_:]*. Colons are reserved for recording rules by
// convention but legal, and vLLM-style names ("corral:num_requests_running") use them on
// purpose so dashboards written for vLLM translate by changing the prefix. Counter names must
// end in "_total" (the 0.0.4 text format names the family by its sample name).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <type_traits>
#include <vector>

namespace corral::metrics {

class Counter {
 public:
  // Negative increments are a programming error (counters only go up) and are ignored.
  void inc(double v = 1) {
    if (v > 0) value_.fetch_add(v, std::memory_order_relaxed);
  }
  double value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0};
};

class Gauge {
 public:
  void set(double v) { value_.store(v, std::memory_order_relaxed); }
  void add(double v) { value_.fetch_add(v, std::memory_order_relaxed); }
  double value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0};
};

class Histogram {
 public:
  // bounds: the buckets' upper bounds (le), strictly increasing, without +Inf.
  explicit Histogram(const std::vector<double>& bounds);
  void observe(double v);

  struct Snapshot {
    std::vector<double> bounds;
    std::vector<uint64_t> cumulative;  // [bounds.size() + 1]: the last one is +Inf == count
    double sum = 0;
    uint64_t count = 0;
  };
  // Per-bucket counts are read one by one while others may observe; count is derived from the
  // buckets so the exposition always has +Inf == _count.
  Snapshot snapshot() const;

 private:
  std::vector<double> bounds_;
  std::unique_ptr<std::atomic<uint64_t>[]> counts_;  // [bounds_.size() + 1], not cumulative
  std::atomic<double> sum_{0};
};

// Buckets from `start`, multiplying by `factor`, `count` of them (Prometheus' ExponentialBuckets).
std::vector<double> exponential_buckets(double start, double factor, int count);

enum class Type { kCounter, kGauge, kHistogram };

class FamilyBase {
 public:
  FamilyBase(std::string name, std::string help, Type type, std::vector<std::string> label_names);
  virtual ~FamilyBase() = default;
  const std::string& name() const { return name_; }
  // Appends the family's # HELP, # TYPE and sample lines.
  void render(std::string& out) const;

 protected:
  virtual void render_child(std::string& out, const std::string& labels, const void* child) const = 0;
  // Children in label-value order, for rendering (called with mu_ held).
  virtual std::vector<std::pair<const std::vector<std::string>*, const void*>> children_locked() const = 0;
  void check_arity(const std::vector<std::string>& values) const;

  std::string name_, help_;
  Type type_;
  std::vector<std::string> label_names_;
  mutable std::mutex mu_;
};

template <typename T>
class Family final : public FamilyBase {
 public:
  Family(std::string name, std::string help, Type type, std::vector<std::string> label_names,
         std::vector<double> buckets = {})
      : FamilyBase(std::move(name), std::move(help), type, std::move(label_names)), buckets_(std::move(buckets)) {
    // An unlabeled family always has its one child, so it is exposed (as 0) from the start.
    if (label_names_.empty()) with({});
  }

  // The child for these label values (one per label name, in order), created on first use.
  T& with(const std::vector<std::string>& values) {
    check_arity(values);
    std::lock_guard<std::mutex> lk(mu_);
    auto& slot = children_[values];
    if (!slot) slot = make();
    return *slot;
  }

 private:
  std::unique_ptr<T> make() const {
    if constexpr (std::is_same_v<T, Histogram>) return std::make_unique<T>(buckets_);
    else return std::make_unique<T>();
  }
  void render_child(std::string& out, const std::string& labels, const void* child) const override;
  std::vector<std::pair<const std::vector<std::string>*, const void*>> children_locked() const override {
    std::vector<std::pair<const std::vector<std::string>*, const void*>> v;
    for (const auto& [k, c] : children_) v.emplace_back(&k, c.get());
    return v;
  }

  std::vector<double> buckets_;
  std::map<std::vector<std::string>, std::unique_ptr<T>> children_;  // guarded by mu_
};

// Defined in metrics.cc, one per child type.
template <>
void Family<Counter>::render_child(std::string& out, const std::string& labels, const void* child) const;
template <>
void Family<Gauge>::render_child(std::string& out, const std::string& labels, const void* child) const;
template <>
void Family<Histogram>::render_child(std::string& out, const std::string& labels, const void* child) const;

// A family whose samples are computed when it is rendered (a Prometheus "collector"): for series
// that are another view of numbers kept elsewhere, e.g. the same counters under a second name.
// V is double (counter, gauge) or Histogram::Snapshot (histogram). The callback runs on the
// scraping thread with the family's mutex held; it must not touch this registry.
template <typename V>
class Collected final : public FamilyBase {
 public:
  using Samples = std::vector<std::pair<std::vector<std::string>, V>>;  // label values -> value
  Collected(std::string name, std::string help, Type type, std::vector<std::string> label_names,
            std::function<Samples()> collect)
      : FamilyBase(std::move(name), std::move(help), type, std::move(label_names)), collect_(std::move(collect)) {}

 private:
  void render_child(std::string& out, const std::string& labels, const void* child) const override;
  std::vector<std::pair<const std::vector<std::string>*, const void*>> children_locked() const override {
    cache_ = collect_();
    std::vector<std::pair<const std::vector<std::string>*, const void*>> v;
    for (const auto& [k, value] : cache_) {
      check_arity(k);
      v.emplace_back(&k, &value);
    }
    return v;
  }

  std::function<Samples()> collect_;
  mutable Samples cache_;  // guarded by mu_: the last collection, alive while it renders
};

template <>
void Collected<double>::render_child(std::string& out, const std::string& labels, const void* child) const;
template <>
void Collected<Histogram::Snapshot>::render_child(std::string& out, const std::string& labels, const void* child) const;

class Registry {
 public:
  // Registering the same name twice is a programming error.
  Family<Counter>& counter(std::string name, std::string help, std::vector<std::string> labels = {});
  Family<Gauge>& gauge(std::string name, std::string help, std::vector<std::string> labels = {});
  Family<Histogram>& histogram(std::string name, std::string help, std::vector<std::string> labels,
                               std::vector<double> buckets);
  // Collected families (see Collected): type kCounter or kGauge for double samples.
  Collected<double>& collected(std::string name, std::string help, Type type, std::vector<std::string> labels,
                               std::function<Collected<double>::Samples()> collect);
  Collected<Histogram::Snapshot>& collected_histogram(std::string name, std::string help,
                                                      std::vector<std::string> labels,
                                                      std::function<Collected<Histogram::Snapshot>::Samples()> collect);

  // Every family, in registration order, in the Prometheus text format 0.0.4.
  std::string render() const;

 private:
  template <typename F>
  F& add(std::unique_ptr<F> f);

  mutable std::mutex mu_;
  std::vector<std::unique_ptr<FamilyBase>> families_;  // guarded by mu_
};

// The Content-Type of render()'s output.
inline constexpr const char* kContentType = "text/plain; version=0.0.4; charset=utf-8";

// Exposition helpers (exposed for tests): a label value with \, " and newline escaped; a
// sample value as Prometheus writes it (+Inf, -Inf, NaN, else the shortest exact decimal).
std::string escape_label_value(const std::string& v);
std::string format_value(double v);
bool valid_metric_name(const std::string& name);

}  // namespace corral::metrics
