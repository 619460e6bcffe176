#include "server/app.h"

#include <spdlog/spdlog.h>

#include "server/request_log.h"
#include "server/routes.h"

namespace corral::server {

App::App(AppOptions options)
    : options_(std::move(options)),
      store_(options_.models_dir),
      scheduler_(options_.scheduler),
      ctx_(store_, scheduler_),
      http_(http::ServerOptions{.host = options_.listen.host, .port = options_.listen.port,
                                .io_threads = options_.io_threads}) {
  scheduler_.set_request_observer(log_request);
  add_routes();
}

App::~App() = default;

void App::add_routes() {
  register_ollama_routes(http_, ctx_);
  register_registry_routes(http_, ctx_);
  register_manage_routes(http_, ctx_);
  register_openai_routes(http_, ctx_);
  register_metrics_routes(http_, ctx_);
}

Status App::listen() {
  Status s = http_.listen();
  if (!s) return s;
  spdlog::info("corral {} listening on {}:{} (models: {})", CORRAL_VERSION, options_.listen.host, http_.port(),
               store_.root());
  const auto& c = options_.scheduler;
  spdlog::info("settings: OLLAMA_NUM_PARALLEL={} OLLAMA_MAX_QUEUE={} OLLAMA_MAX_LOADED_MODELS={} OLLAMA_KEEP_ALIVE={}s "
               "OLLAMA_CONTEXT_LENGTH={} OLLAMA_KV_CACHE_TYPE={} memory budget {:.1f} GiB, compute threads {}",
               c.num_parallel == 0 ? std::string("auto (4 when memory allows, else 1)") : std::to_string(c.num_parallel),
               c.max_queue, c.max_loaded_models,
               std::chrono::duration_cast<std::chrono::seconds>(c.keep_alive).count(), c.context_length,
               c.kv_cache_type == DType::kF16 ? "f16" : "f32",
               static_cast<double>(c.memory_budget_bytes) / (1ll << 30), ThreadPool::global().size());
  return s;
}

void App::run() { http_.run(); }

void App::stop(std::chrono::milliseconds grace) {
  // Requests in flight get the grace period to finish; then the scheduler cancels the rest
  // (their streams end with an error line) and the HTTP server closes what is left.
  scheduler_.shutdown(grace);
  http_.stop(std::chrono::milliseconds(500));
}

}  // namespace corral::server
