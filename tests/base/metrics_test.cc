// The metrics registry and its Prometheus text exposition, checked by the strict parser in
// tests/common/prometheus_text.h (which is itself checked against broken expositions here).
#include "base/metrics.h"

#include <gtest/gtest.h>

#include <thread>

#include "common/prometheus_text.h"

namespace corral::metrics {
namespace {

using testing::parse_prometheus_text;

std::string joined(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& e : v) s += e + "\n";
  return s;
}

TEST(Metrics, ExpositionParsesAndHoldsTheValues) {
  Registry r;
  auto& req = r.counter("corral:requests_total", "Requests.", {"model", "status"});
  auto& running = r.gauge("corral:num_requests_running", "Running.", {"model"});
  auto& lat = r.histogram("corral:e2e_request_latency_seconds", "Latency.", {"model"}, {0.1, 1, 10});
  r.counter("plain_total", "No labels.");
  req.with({"llama3.2:latest", "200"}).inc();
  req.with({"llama3.2:latest", "200"}).inc(2);
  req.with({"llama3.2:latest", "503"}).inc();
  running.with({"llama3.2:latest"}).set(3);
  for (double v : {0.05, 0.1, 0.5, 5.0, 50.0}) lat.with({"llama3.2:latest"}).observe(v);
  const std::string text = r.render();
  auto e = parse_prometheus_text(text);
  ASSERT_TRUE(e.errors.empty()) << joined(e.errors) << text;
  EXPECT_EQ(e.value("corral:requests_total", {{"status", "200"}}), 3);
  EXPECT_EQ(e.value("corral:requests_total", {{"status", "503"}}), 1);
  EXPECT_EQ(e.value("corral:num_requests_running"), 3);
  EXPECT_EQ(e.value("plain_total"), 0) << "an unlabeled family is exposed from the start";
  // le is inclusive: 0.1 lands in the 0.1 bucket.
  EXPECT_EQ(e.value("corral:e2e_request_latency_seconds_bucket", {{"le", "0.1"}}), 2);
  EXPECT_EQ(e.value("corral:e2e_request_latency_seconds_bucket", {{"le", "1"}}), 3);
  EXPECT_EQ(e.value("corral:e2e_request_latency_seconds_bucket", {{"le", "10"}}), 4);
  EXPECT_EQ(e.value("corral:e2e_request_latency_seconds_bucket", {{"le", "+Inf"}}), 5);
  EXPECT_EQ(e.value("corral:e2e_request_latency_seconds_count"), 5);
  EXPECT_DOUBLE_EQ(*e.value("corral:e2e_request_latency_seconds_sum"), 55.65);
  EXPECT_EQ(e.families["corral:requests_total"].type, "counter");
  EXPECT_EQ(e.families["corral:e2e_request_latency_seconds"].type, "histogram");
}

TEST(Metrics, LabelValuesAndHelpAreEscaped) {
  Registry r;
  auto& c = r.counter("odd_total", "Help with a \\ backslash\nand a newline.", {"model"});
  c.with({"we\"ird\\name\nx"}).inc();
  const std::string text = r.render();
  EXPECT_NE(text.find(R"(odd_total{model="we\"ird\\name\nx"} 1)"), std::string::npos) << text;
  EXPECT_NE(text.find(R"(# HELP odd_total Help with a \\ backslash\nand a newline.)"), std::string::npos) << text;
  auto e = parse_prometheus_text(text);
  ASSERT_TRUE(e.errors.empty()) << joined(e.errors);
  EXPECT_EQ(e.value("odd_total", {{"model", "we\"ird\\name\nx"}}), 1);
}

TEST(Metrics, ValuesAndBucketsFormat) {
  EXPECT_EQ(format_value(0.25), "0.25");
  EXPECT_EQ(format_value(3), "3");
  EXPECT_EQ(format_value(1e-5), "1e-05");
  EXPECT_EQ(format_value(INFINITY), "+Inf");
  EXPECT_EQ(format_value(-INFINITY), "-Inf");
  EXPECT_EQ(format_value(NAN), "NaN");
  EXPECT_EQ(exponential_buckets(0.001, 2, 4), (std::vector<double>{0.001, 0.002, 0.004, 0.008}));
  EXPECT_TRUE(valid_metric_name("corral:num_requests_running"));
  EXPECT_FALSE(valid_metric_name("9lives"));
  EXPECT_FALSE(valid_metric_name("with-dash"));
}

TEST(Metrics, CollectedFamiliesRenderWhatTheirCallbackReturnsAtEachScrape) {
  Registry r;
  Family<Counter>& source = r.counter("src_total", "Source.", {"model"});
  source.with({"a"}).inc(3);
  Histogram h({1, 2});
  h.observe(1.5);
  int scrapes = 0;
  r.collected("view_total", "The source under another name and label.", Type::kCounter, {"model_name"}, [&] {
    ++scrapes;
    return Collected<double>::Samples{{{"a"}, source.with({"a"}).value()}};
  });
  r.collected_histogram("view_seconds", "A histogram view.", {"model_name"}, [&] {
    return Collected<Histogram::Snapshot>::Samples{{{"a"}, h.snapshot()}};
  });
  r.collected("empty", "No samples yet.", Type::kGauge, {"x"}, [] { return Collected<double>::Samples{}; });
  auto e = parse_prometheus_text(r.render());
  EXPECT_TRUE(e.errors.empty()) << joined(e.errors);
  EXPECT_EQ(e.families["view_total"].type, "counter");
  EXPECT_EQ(e.value("view_total", {{"model_name", "a"}}), 3);
  EXPECT_EQ(e.families["view_seconds"].type, "histogram");
  EXPECT_EQ(e.value("view_seconds_bucket", {{"model_name", "a"}, {"le", "1"}}), 0);
  EXPECT_EQ(e.value("view_seconds_bucket", {{"model_name", "a"}, {"le", "2"}}), 1);
  EXPECT_EQ(e.value("view_seconds_count", {{"model_name", "a"}}), 1);
  // Computed again at the next scrape: it follows the source.
  source.with({"a"}).inc(2);
  auto later = parse_prometheus_text(r.render());
  EXPECT_EQ(later.value("view_total", {{"model_name", "a"}}), 5);
  EXPECT_EQ(scrapes, 2);
}

TEST(Metrics, ConcurrentUpdatesAreNotLost) {
  Registry r;
  auto& c = r.counter("hits_total", "Hits.", {"model"});
  auto& h = r.histogram("lat_seconds", "Latency.", {"model"}, {0.5});
  std::vector<std::thread> ts;
  for (int t = 0; t < 4; ++t)
    ts.emplace_back([&, t] {
      // Children looked up from several threads at once are the same object.
      auto& child = c.with({"m"});
      auto& hist = h.with({"m"});
      for (int i = 0; i < 50000; ++i) {
        child.inc();
        hist.observe(i % 2 ? 0.25 : 0.75);
      }
      (void)t;
    });
  for (auto& t : ts) t.join();
  EXPECT_EQ(c.with({"m"}).value(), 200000);
  const auto s = h.with({"m"}).snapshot();
  EXPECT_EQ(s.count, 200000u);
  EXPECT_EQ(s.cumulative[0], 100000u);
  EXPECT_DOUBLE_EQ(s.sum, 100000 * 0.25 + 100000 * 0.75);
}

// The parser must catch what it is there to catch, or the server test proves nothing.
TEST(PrometheusParser, RejectsBrokenExpositions) {
  auto errors = [](const std::string& t) { return parse_prometheus_text(t).errors.size(); };
  EXPECT_EQ(errors("# HELP a_total A.\n# TYPE a_total counter\na_total 1\n"), 0u);
  EXPECT_GT(errors("a_total 1\n"), 0u) << "no HELP/TYPE";
  EXPECT_GT(errors("# HELP a A.\n# TYPE a counter\na 1\n"), 0u) << "counter without _total";
  EXPECT_GT(errors("# HELP a_total A.\n# TYPE a_total counter\na_total -1\n"), 0u) << "negative counter";
  EXPECT_GT(errors("# HELP g G.\n# TYPE g gauge\ng{x=\"a\\q\"} 1\n"), 0u) << "bad escape";
  EXPECT_GT(errors("# HELP g G.\n# TYPE g gauge\ng{x=\"a} 1\n"), 0u) << "unterminated value";
  EXPECT_GT(errors("# HELP g G.\n# TYPE g gauge\ng 1x\n"), 0u) << "bad number";
  EXPECT_GT(errors("# HELP g G.\n# TYPE g gauge\ng 1"), 0u) << "no final newline";
  EXPECT_GT(errors("# HELP g G.\n# TYPE g gauge\ng 1\n# HELP h H.\n# TYPE h gauge\nh 1\ng{a=\"b\"} 2\n"), 0u)
      << "a family split in two";
  const std::string h = "# HELP h H.\n# TYPE h histogram\n";
  EXPECT_EQ(errors(h + "h_bucket{le=\"1\"} 1\nh_bucket{le=\"+Inf\"} 2\nh_sum 3\nh_count 2\n"), 0u);
  EXPECT_GT(errors(h + "h_bucket{le=\"1\"} 3\nh_bucket{le=\"+Inf\"} 2\nh_sum 3\nh_count 2\n"), 0u) << "decreasing";
  EXPECT_GT(errors(h + "h_bucket{le=\"1\"} 1\nh_bucket{le=\"+Inf\"} 2\nh_sum 3\nh_count 3\n"), 0u) << "+Inf != count";
  EXPECT_GT(errors(h + "h_bucket{le=\"1\"} 1\nh_sum 3\nh_count 1\n"), 0u) << "no +Inf";
  EXPECT_GT(errors(h + "h_bucket{le=\"2\"} 1\nh_bucket{le=\"1\"} 1\nh_bucket{le=\"+Inf\"} 1\nh_sum 1\nh_count 1\n"), 0u)
      << "le out of order";
}

}  // namespace
}  // namespace corral::metrics
