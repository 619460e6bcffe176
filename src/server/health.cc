#include "server/health.h"

#include <algorithm>
#include <cstdlib>

#include <nlohmann/json.hpp>

#include "base/quote.h"
#include "server/api_common.h"
#include "server/routes.h"

namespace corral::server {

void Health::preload_started(const std::string& model) {
  std::lock_guard<std::mutex> lk(mu_);
  loading_.push_back(model);
}

void Health::preload_finished(const std::string& model, const Status& result) {
  std::lock_guard<std::mutex> lk(mu_);
  if (auto it = std::find(loading_.begin(), loading_.end(), model); it != loading_.end()) loading_.erase(it);
  if (!result && failed_.empty()) failed_ = "preloading " + quote_text(model) + ": " + result.message();
}

void Health::set_draining() {
  std::lock_guard<std::mutex> lk(mu_);
  draining_ = true;
}

Health::Report Health::report() const {
  std::lock_guard<std::mutex> lk(mu_);
  nlohmann::ordered_json j;
  int status = 503;
  if (draining_) {
    j["status"] = "draining";
  } else if (!failed_.empty()) {
    j["status"] = "error";
    j["error"] = failed_;
  } else if (!loading_.empty()) {
    j["status"] = "loading model";
    j["models"] = loading_;
  } else {
    j["status"] = "ok";
    status = 200;
  }
  return {status, json_text(j)};
}

Result<std::vector<std::string>> preload_from_env() {
  // Bounds: more names than any server holds loaded, and Ollama's longest model name.
  constexpr size_t kMaxModels = 64, kMaxName = 350;
  const char* v = std::getenv("CORRAL_PRELOAD");
  std::vector<std::string> out;
  std::string s = v ? v : "";
  size_t start = 0;
  while (start <= s.size()) {
    size_t end = s.find(',', start);
    if (end == std::string::npos) end = s.size();
    std::string name = s.substr(start, end - start);
    name.erase(0, name.find_first_not_of(" \t"));
    name.erase(name.find_last_not_of(" \t") + 1);
    if (name.size() > kMaxName) return Status::errorf("CORRAL_PRELOAD: model name longer than {} bytes", kMaxName);
    if (!name.empty()) out.push_back(name);
    if (out.size() > kMaxModels) return Status::errorf("CORRAL_PRELOAD: more than {} models", kMaxModels);
    start = end + 1;
  }
  return out;
}

void register_health_routes(http::Server& http, ApiContext& ctx) {
  http.route("GET", "/health", [&ctx](http::Request&&, std::shared_ptr<http::ResponseWriter> w) {
    const Health::Report r = ctx.health.report();
    w->respond(r.status, "application/json; charset=utf-8", r.body);
  });
}

}  // namespace corral::server
