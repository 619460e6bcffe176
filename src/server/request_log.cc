#include "server/request_log.h"

#include <chrono>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "server/status_http.h"

namespace corral::server {
namespace {

double ms(scheduler::Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

// logfmt quoting: bare when the value has no space, quote, '=' or control character.
std::string value(const std::string& v) {
  bool bare = !v.empty();
  for (unsigned char c : v) bare = bare && c > ' ' && c != '"' && c != '=' && c != '\\';
  if (bare) return v;
  std::string out = "\"";
  for (char c : v) {
    if (c == '"' || c == '\\') out += '\\';
    if (c == '\n') out += "\\n";
    else out += c;
  }
  return out + '"';
}

const char* kind_name(scheduler::JobKind k) {
  switch (k) {
    case scheduler::JobKind::kCompletion: return "completion";
    case scheduler::JobKind::kEmbedding: return "embedding";
  }
  return "completion";
}

}  // namespace

std::string request_log_line(const scheduler::RequestRecord& r, bool debug) {
  const auto& s = r.stats;
  std::string line =
      fmt::format("request model={} kind={} status={}", value(r.model), kind_name(r.kind), http_status_for(r.code));
  if (r.code == StatusCode::kOk) line += fmt::format(" done={}", scheduler::done_reason_name(r.done_reason));
  line += fmt::format(" prompt_tokens={} cached_tokens={} eval_tokens={} queue_ms={:.1f}", s.prompt_tokens,
                      s.cached_tokens, s.eval_count, ms(s.queue_duration));
  if (s.time_to_first_token > scheduler::Clock::duration::zero())
    line += fmt::format(" ttft_ms={:.1f}", ms(s.time_to_first_token));
  line += fmt::format(" total_ms={:.1f}", ms(s.total_duration));
  // Ollama's "eval rate": generated tokens over the time spent in decode steps.
  if (s.eval_count > 0 && s.eval_duration > scheduler::Clock::duration::zero())
    line += fmt::format(" tokens_per_s={:.1f}", static_cast<double>(s.eval_count) / (ms(s.eval_duration) / 1000));
  if (debug) {
    line += fmt::format(" load_ms={:.1f} prompt_eval_tokens={} prompt_eval_ms={:.1f} eval_ms={:.1f}",
                        ms(s.load_duration), s.prompt_eval_count, ms(s.prompt_eval_duration), ms(s.eval_duration));
  }
  if (!r.error.empty()) line += " error=" + value(r.error);
  return line;
}

void log_request(const scheduler::RequestRecord& r) {
  const bool debug = spdlog::should_log(spdlog::level::debug);
  // Failures the server caused are warnings; everything else (cancellations and the client's
  // own 4xx included) is routine.
  const int status = http_status_for(r.code);
  const auto level = status >= 500 && status != 503 ? spdlog::level::warn : spdlog::level::info;
  spdlog::log(level, "{}", request_log_line(r, debug));
}

std::string access_log_line(const http::Request& req) {
  std::string line =
      fmt::format("access method={} path={} remote={}", value(req.method), value(req.path), value(req.remote_addr));
  if (!req.tenant.empty()) line += " tenant=" + value(req.tenant);
  return line;
}

void log_access(const http::Request& req) {
  if (spdlog::should_log(spdlog::level::debug)) spdlog::debug("{}", access_log_line(req));
}

}  // namespace corral::server
