// The corral server: the model store, the scheduler and the HTTP API wired together.
#pragma once

#include <chrono>
#include <memory>

#include "scheduler/scheduler.h"
#include "server/api_context.h"
#include "server/http/server.h"
#include "server/ollama_host.h"
#include "store/store.h"

namespace corral::server {

struct AppOptions {
  HostPort listen;                    // OLLAMA_HOST
  std::string models_dir;             // OLLAMA_MODELS
  scheduler::SchedulerConfig scheduler;
  int io_threads = 2;
};

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

  AppOptions options_;
  store::Store store_;
  scheduler::Scheduler scheduler_;
  ApiContext ctx_;
  http::Server http_;
};

}  // namespace corral::server
