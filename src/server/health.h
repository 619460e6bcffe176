// GET /health (like llama-server's): 200 {"status":"ok"} when the server takes requests, 503
// with a JSON body while the models named in CORRAL_PRELOAD load, after one of them failed to
// load, and while the server drains on shutdown. A load balancer's or Kubernetes' readiness
// probe reads it; it needs no API key (auth.h).
#pragma once

#include <mutex>
#include <string>
#include <vector>

#include "base/status.h"

namespace corral::server {

class Health {
 public:
  struct Report {
    int status = 200;  // 200 or 503
    std::string body;  // JSON
  };

  void preload_started(const std::string& model);
  void preload_finished(const std::string& model, const Status& result);
  // From now on the server only finishes what it has (shutdown's grace period).
  void set_draining();
  Report report() const;

 private:
  mutable std::mutex mu_;
  std::vector<std::string> loading_;  // guarded by mu_: preloads not finished yet
  std::string failed_;                // guarded by mu_: the first failed preload's message
  bool draining_ = false;             // guarded by mu_
};

// CORRAL_PRELOAD: model names, separated by commas, loaded at start and kept loaded (keep_alive
// forever); empty when unset. A name longer than a model name can be, or more than 64 names, is
// an error naming the variable.
Result<std::vector<std::string>> preload_from_env();

}  // namespace corral::server
