#include "server/app.h"
#include "base/quote.h"

#include <cerrno>
#include <cstdlib>

#include <spdlog/spdlog.h>

#include "server/request_log.h"
#include "server/routes.h"
#include "server/status_http.h"

namespace corral::server {

namespace {

// The API keys' tenants get their own label in the fairness metrics, besides CORRAL_TENANTS.
scheduler::SchedulerConfig with_key_tenants(scheduler::SchedulerConfig c, const ApiKeys& keys) {
  for (std::string& t : keys.tenants()) c.fairness.metric_tenants.push_back(std::move(t));
  return c;
}

}  // namespace

App::App(AppOptions options)
    : options_(std::move(options)),
      store_(options_.models_dir),
      scheduler_(with_key_tenants(options_.scheduler, options_.api_keys)),
      ctx_(store_, scheduler_),
      http_(http::ServerOptions{.host = options_.listen.host,
                                .port = options_.listen.port,
                                .io_threads = options_.io_threads,
                                .header_timeout_s = options_.header_timeout_s,
                                .max_connections_per_ip = options_.max_connections_per_ip}) {
  scheduler_.set_request_observer([this](const scheduler::RequestRecord& r) {
    scheduler_.metrics().request_finished(r.model, std::to_string(http_status_for(r.code)));
    log_request(r);
  });
  add_routes();
}

App::~App() = default;

void App::add_routes() {
  register_ollama_routes(http_, ctx_);
  register_registry_routes(http_, ctx_);
  register_manage_routes(http_, ctx_);
  register_openai_routes(http_, ctx_);
  register_anthropic_routes(http_, ctx_);
  register_metrics_routes(http_, ctx_);
  register_health_routes(http_, ctx_);
}

void App::start_preloads() {
  for (const std::string& name : options_.preload) {
    ctx_.health.preload_started(name);
    auto m = ctx_.resolver.resolve(name);
    if (!m) {
      spdlog::error("CORRAL_PRELOAD: {}: {}", quote_text(name), m.status().message());
      ctx_.health.preload_finished(name, m.status());
      continue;
    }
    spdlog::info("preloading {}", m->display_name);
    // Kept loaded for good (negative keep-alive): a preloaded model is the one this server is for.
    auto rej = scheduler_.load(m->spec, scheduler::KeepAlive(-1), [this, name](Status st, scheduler::Duration) {
      if (!st) spdlog::error("CORRAL_PRELOAD: {}: {}", quote_text(name), st.message());
      ctx_.health.preload_finished(name, st);
    });
    if (rej) ctx_.health.preload_finished(name, rej->status);
  }
}

namespace {

// Ollama's envconfig.Var: the value without surrounding spaces and quotes.
std::string env_value(const char* name) {
  const char* v = std::getenv(name);
  std::string_view s = v ? v : "";
  auto strip = [&s](std::string_view chars) {
    while (!s.empty() && chars.find(s.front()) != std::string_view::npos) s.remove_prefix(1);
    while (!s.empty() && chars.find(s.back()) != std::string_view::npos) s.remove_suffix(1);
  };
  strip(" \t\r\n");
  strip("\"'");
  return std::string(s);
}

// A whole number in [lo, hi], optionally with an "s" suffix for the seconds settings.
Status env_int(const char* name, int lo, int hi, bool seconds, int* out) {
  std::string v = env_value(name);
  if (v.empty()) return Status::ok();
  if (seconds && v.back() == 's') v.pop_back();
  char* end = nullptr;
  errno = 0;
  long n = std::strtol(v.c_str(), &end, 10);
  if (v.empty() || *end != '\0' || errno != 0 || n < lo || n > hi)
    return Status::errorf("{}={}: want a whole number{} from {} to {}", name, quote_text(env_value(name)),
                          seconds ? " of seconds" : "", lo, hi);
  *out = static_cast<int>(n);
  return Status::ok();
}

}  // namespace

Status access_options_from_env(AppOptions* options) {
  auto origins = OriginPolicy::create(env_value("OLLAMA_ORIGINS"));
  if (!origins) return origins.status();
  options->origins = std::move(*origins);
  auto keys = ApiKeys::parse(env_value("CORRAL_API_KEYS"));
  if (!keys) return keys.status();
  options->api_keys = std::move(*keys);
  // An hour is far past any honest client's header; above it the deadline protects nothing.
  if (Status s = env_int("CORRAL_HEADER_TIMEOUT", 1, 3600, true, &options->header_timeout_s); !s) return s;
  // 65536: more than a process's usual file descriptors; a bound, not a recommendation.
  if (Status s = env_int("CORRAL_MAX_CONNECTIONS_PER_IP", 1, 65536, false, &options->max_connections_per_ip); !s)
    return s;
  return Status::ok();
}

Status App::listen() {
  Status s = http_.listen();
  if (!s) return s;
  auto access = std::make_shared<AccessPolicy>();
  access->origins = options_.origins;
  access->hosts = HostPolicy::for_bound_address(http_.local_address());
  access->keys = options_.api_keys;
  access_ = access;
  http_.set_middleware(make_access_middleware(access_));
  spdlog::info("corral {} listening on {}:{} (models: {})", CORRAL_VERSION, options_.listen.host, http_.port(),
               store_.root());
  const auto& c = options_.scheduler;
  spdlog::info(
      "settings: OLLAMA_NUM_PARALLEL={} OLLAMA_MAX_QUEUE={} OLLAMA_MAX_LOADED_MODELS={} OLLAMA_KEEP_ALIVE={}s "
      "OLLAMA_CONTEXT_LENGTH={} OLLAMA_KV_CACHE_TYPE={} memory budget {:.1f} GiB, compute threads {}, weights {}",
      c.num_parallel == 0 ? std::string("auto (4 when memory allows, else 1)") : std::to_string(c.num_parallel),
      c.max_queue, c.max_loaded_models, std::chrono::duration_cast<std::chrono::seconds>(c.keep_alive).count(),
      c.context_length, dtype_name(c.kv_cache_type), static_cast<double>(c.memory_budget_bytes) / (1ll << 30),
      ThreadPool::global().size(), c.mmap_weights ? "mapped (CORRAL_MMAP=1)" : "resident on huge pages");
  spdlog::info(
      "access: OLLAMA_ORIGINS allows {}; Host check {}; API keys {}; CORRAL_HEADER_TIMEOUT={}s "
      "CORRAL_MAX_CONNECTIONS_PER_IP={}",
      options_.origins.allow_all() ? "every origin"
                                   : fmt::format("{} origin pattern(s)", options_.origins.patterns().size()),
      access->hosts.any_host ? "off (bound to a non-loopback address)" : "on (loopback)",
      options_.api_keys.enabled() ? fmt::format("required ({} key(s))", options_.api_keys.size()) : std::string("off"),
      options_.header_timeout_s, options_.max_connections_per_ip);
  start_preloads();
  return s;
}

void App::run() { http_.run(); }

void App::stop(std::chrono::milliseconds grace) {
  // Requests in flight get the grace period to finish; then the scheduler cancels the rest
  // (their streams end with an error line) and the HTTP server closes what is left.
  ctx_.health.set_draining();
  scheduler_.shutdown(grace);
  http_.stop(std::chrono::milliseconds(500));
}

}  // namespace corral::server
