// Requests the fairness tests send to a real server (tests/server/fairness_test.cc,
// fairness_share_test.cc): a POST with extra header lines, a greedy /api/generate body, the
// /api/ps entry of a model and a poll on it, and a POST run on its own thread.
#pragma once

#include <chrono>
#include <future>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "common/http_client.h"
#include "server/raw_http.h"
#include "server/server_process.h"

namespace corral::testing::qos_requests {

using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

// A non-streamed POST with extra header lines ("name: value\r\n...").
inline RawHttpResponse post(int port, const std::string& path, const json& body, const std::string& headers = "") {
  const std::string b = body.dump();
  const std::string req = "POST " + path + " HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(port) +
                          "\r\nConnection: close\r\nContent-Type: application/json\r\n" + headers +
                          "Content-Length: " + std::to_string(b.size()) + "\r\n\r\n" + b;
  return raw_exchange(port, req, std::chrono::seconds(300));
}

inline json generate(const std::string& model, const std::string& prompt, int num_predict) {
  return json{{"model", model},
              {"prompt", prompt},
              {"stream", false},
              {"options", {{"num_predict", num_predict}, {"temperature", 0}}}};
}

inline json ps_model(ServerProcess& s, const std::string& name) {
  auto ps = json::parse(http_get(s.url("/api/ps")).body);
  for (const auto& m : ps["models"])
    if (m["name"] == name) return m;
  return nullptr;
}

// Polls /api/ps until `pred` holds for the model (up to 60 s); whether it did.
template <typename Pred>
inline bool wait_for_ps(ServerProcess& s, const std::string& name, Pred pred) {
  for (int i = 0; i < 6000; ++i) {
    json m = ps_model(s, name);
    if (!m.is_null() && pred(m)) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return false;
}

struct Finished {
  RawHttpResponse r;
  Clock::time_point end;
};

inline std::future<Finished> post_async(ServerProcess& s, std::string path, json body, std::string headers) {
  return std::async(std::launch::async,
                    [&s, path = std::move(path), body = std::move(body), headers = std::move(headers)] {
                      Finished f{post(s.port(), path, body, headers), {}};
                      f.end = Clock::now();
                      return f;
                    });
}

}  // namespace corral::testing::qos_requests
