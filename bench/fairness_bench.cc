// Evidence for fairness and priority (docs/fairness.md), against a running `corral serve`; a
// program, never a timed test. Two experiments, each a few phases:
//   noisy   B alone: one request at a time, its TTFT. Then tenant A keeps --flood concurrent
//           requests going (x-llm-d-inference-fairness-id: a) while B (fairness-id: b) goes on
//           one at a time: B's TTFT under A's flood. Run it against a server with
//           CORRAL_FAIRNESS=tenant and one with CORRAL_FAIRNESS=fcfs to compare.
//   priority --flood concurrent sheddable requests (x-llm-d-inference-objective: sheddable)
//           while one client sends critical ones one at a time: both classes' TTFT.
// Prints one JSON object per phase (p50/p95 TTFT, requests, failures).
#include <atomic>
#include <chrono>
#include <cstdio>
#include <mutex>
#include <thread>
#include <vector>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "loadtest/bench_request.h"
#include "loadtest/bench_stats.h"

namespace bench = corral::cli::bench;
using Clock = std::chrono::steady_clock;

namespace {

struct Options {
  std::string url = "http://127.0.0.1:11434";
  std::string model = "stories";
  std::string experiment = "noisy";
  int flood = 64;
  double seconds = 60;  // each loaded phase
  int alone = 20;       // requests of the solo phase
  int64_t num_predict = 64;
};

bench::RequestSpec spec(const Options& o, const std::string& header, const std::string& prompt) {
  bench::RequestSpec s;
  s.base_url = o.url;
  s.model = o.model;
  s.prompt = prompt;
  s.num_predict = o.num_predict;
  s.stream = true;
  if (!header.empty()) s.headers.push_back(header);
  return s;
}

struct Samples {
  std::mutex mu;
  std::vector<double> ttft;
  int ok = 0, failed = 0;
  void add(const bench::RequestResult& r) {
    std::lock_guard<std::mutex> lk(mu);
    if (r.ok() && r.ttft_s >= 0) {
      ttft.push_back(r.ttft_s);
      ++ok;
    } else {
      ++failed;
    }
  }
  nlohmann::ordered_json json(const std::string& phase) {
    std::lock_guard<std::mutex> lk(mu);
    const bench::Summary s = bench::summarize(ttft);
    return {{"phase", phase},      {"ok", ok},           {"failed", failed}, {"ttft_p50_s", s.p50},
            {"ttft_p95_s", s.p95}, {"ttft_max_s", s.max}};
  }
};

// `n` clients each sending request after request with `header` until `stop`.
std::vector<std::thread> clients(const Options& o, int n, const std::string& header, Samples* out,
                                 const std::atomic<bool>& stop) {
  std::vector<std::thread> ts;
  for (int i = 0; i < n; ++i)
    ts.emplace_back([&o, &stop, header, out, i] {
      for (uint64_t k = 0; !stop.load(); ++k) {
        auto r =
            bench::send_request(spec(o, header, "Once upon a time " + std::to_string(i * 100000 + k)), nullptr, &stop);
        if (!stop.load()) out->add(r);
      }
    });
  return ts;
}

void print(const nlohmann::ordered_json& j) { std::printf("%s\n", j.dump().c_str()); }

void sequential(const Options& o, const std::string& header, Samples* out, const std::atomic<bool>& stop,
                int max_requests) {
  for (int k = 0; k < max_requests && !stop.load(); ++k)
    out->add(bench::send_request(spec(o, header, "The little dog " + std::to_string(k)), nullptr, nullptr));
}

// Runs `flood` clients with `flood_header` and one sequential client with `solo_header` for
// o.seconds; prints both.
void loaded_phase(const Options& o, const std::string& name, const std::string& flood_header,
                  const std::string& solo_header) {
  Samples flood, solo;
  std::atomic<bool> stop{false};
  auto ts = clients(o, o.flood, flood_header, &flood, stop);
  // Let the flood fill every slot and the queue before measuring.
  std::this_thread::sleep_for(std::chrono::seconds(3));
  std::thread one([&] { sequential(o, solo_header, &solo, stop, 1 << 30); });
  std::this_thread::sleep_for(std::chrono::duration<double>(o.seconds));
  stop = true;
  one.join();
  for (auto& t : ts) t.join();
  print(solo.json(name + ":solo"));
  print(flood.json(name + ":flood"));
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  CLI::App app("corral fairness evidence: noisy neighbour and priority TTFT against a running server");
  app.add_option("--url", o.url, "server base URL");
  app.add_option("--model", o.model, "model name");
  app.add_option("--experiment", o.experiment, "noisy or priority")->check(CLI::IsMember({"noisy", "priority"}));
  app.add_option("--flood", o.flood, "concurrent requests of the flooding tenant / class");
  app.add_option("--seconds", o.seconds, "length of each loaded phase");
  app.add_option("--alone", o.alone, "requests of the solo phase");
  app.add_option("--num-predict", o.num_predict, "tokens per request");
  CLI11_PARSE(app, argc, argv);
  bench::send_request(spec(o, "", "warm up"), nullptr, nullptr);  // loads the model
  if (o.experiment == "noisy") {
    Samples alone;
    std::atomic<bool> never{false};
    sequential(o, "x-llm-d-inference-fairness-id: b", &alone, never, o.alone);
    print(alone.json("b-alone"));
    loaded_phase(o, "b-with-a-flooding", "x-llm-d-inference-fairness-id: a", "x-llm-d-inference-fairness-id: b");
  } else {
    loaded_phase(o, "critical-vs-sheddable", "x-llm-d-inference-objective: sheddable",
                 "x-llm-d-inference-objective: critical");
  }
  return 0;
}
