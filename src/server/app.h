// The corral server: the model store, the scheduler and the HTTP API wired together.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "scheduler/scheduler.h"
#include "server/access/policy.h"
#include "server/api_context.h"
#include "server/http/server.h"
#include "server/ollama/host.h"
#include "store/store.h"

namespace corral::server {

struct AppOptions {
  HostPort listen;         // OLLAMA_HOST
  std::string models_dir;  // OLLAMA_MODELS
  scheduler::SchedulerConfig scheduler;
  int io_threads = 2;
  OriginPolicy origins = OriginPolicy::create("").value();  // OLLAMA_ORIGINS (plus Ollama's defaults)
  ApiKeys api_keys;                                         // CORRAL_API_KEYS; none: no key needed
  int header_timeout_s = 10;         // CORRAL_HEADER_TIMEOUT: seconds for a request line + headers
  int max_connections_per_ip = 256;  // CORRAL_MAX_CONNECTIONS_PER_IP: past it, 503 and close
  std::vector<std::string> preload;  // CORRAL_PRELOAD: loaded once listening, kept loaded
};

// Reads OLLAMA_ORIGINS, CORRAL_API_KEYS, CORRAL_HEADER_TIMEOUT and CORRAL_MAX_CONNECTIONS_PER_IP
// into `options`; an error names the variable that is wrong.
Status access_options_from_env(AppOptions* options);

class App {
 public:
  explicit App(AppOptions options);
  ~App();

  Status listen();
  int port() const { return http_.port(); }
  // Serves until stop().
  void run();
  // Stops accepting, lets in-flight requests finish for up to `grace`, then cancels the rest.
  void stop(std::chrono::milliseconds grace);

 private:
  void add_routes();
  // Starts loading options_.preload; GET /health answers 503 until every one is loaded.
  void start_preloads();

  AppOptions options_;
  store::Store store_;
  scheduler::Scheduler scheduler_;
  ApiContext ctx_;
  http::Server http_;
  std::shared_ptr<const AccessPolicy> access_;  // set by listen(): the Host check needs the bound address
};

}  // namespace corral::server
