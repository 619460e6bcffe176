#include "server/api_common.h"

#include <cmath>
#include <ctime>

#include <fmt/format.h>

#include "base/json_depth.h"
#include "server/status_http.h"

namespace corral::server {

std::string rfc3339(std::chrono::system_clock::time_point t) {
  const auto since = t.time_since_epoch();
  const auto secs = std::chrono::duration_cast<std::chrono::seconds>(since);
  return rfc3339(secs.count(), std::chrono::duration_cast<std::chrono::nanoseconds>(since - secs).count());
}

std::string rfc3339(int64_t unix_seconds, int64_t nanos) {
  const std::time_t tt = static_cast<std::time_t>(unix_seconds);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
  // Go trims trailing zeros of the fraction (RFC3339Nano).
  std::string frac = fmt::format("{:09d}", nanos);
  while (!frac.empty() && frac.back() == '0') frac.pop_back();
  return std::string(buf) + (frac.empty() ? "" : "." + frac) + "Z";
}

Result<ordered_json> parse_request_json(std::string_view text, std::string_view what) {
  if (json_nests_deeper_than(text, kMaxRequestJsonDepth))
    return Status::errorf("{} nests arrays and objects deeper than {} levels", what, kMaxRequestJsonDepth);
  ordered_json j = ordered_json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return Status::errorf("invalid JSON in {}", what);
  return j;
}

Result<ordered_json> parse_body(const std::string& body) {
  if (body.empty()) return Status::error("missing request body");
  CORRAL_ASSIGN_OR_RETURN(ordered_json j, parse_request_json(body, "request body"));
  if (!j.is_object()) return Status::error("request body must be a JSON object");
  return j;
}

std::string json_text(const ordered_json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }
std::string json_text(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

Result<std::optional<scheduler::KeepAlive>> parse_keep_alive_field(const ordered_json& body) {
  auto it = body.find("keep_alive");
  if (it == body.end() || it->is_null()) return std::optional<scheduler::KeepAlive>();
  if (it->is_number()) {
    const double secs = it->get<double>();
    if (!std::isfinite(secs)) return Status::error("keep_alive must be a finite number of seconds");
    return std::optional<scheduler::KeepAlive>(scheduler::keep_alive_from_seconds(secs));
  }
  if (it->is_string()) {
    auto ka = scheduler::parse_keep_alive(it->get<std::string>());
    if (!ka) return Status::errorf("invalid keep_alive: {}", ka.error());
    return std::optional<scheduler::KeepAlive>(*ka);
  }
  return Status::error("keep_alive must be a number of seconds or a duration string");
}

std::string clip_for_error(std::string_view value) {
  constexpr size_t kMax = 100;
  return value.size() <= kMax ? std::string(value) : std::string(value.substr(0, kMax)) + "...";
}

std::string model_not_found(const std::string& name) {
  // Ollama's Generate/Chat/Embed/ShowHandler wording (its legacy /api/embeddings keeps the
  // older "model %q not found, try pulling it first").
  return fmt::format("model '{}' not found", clip_for_error(name));
}

Status reject_images(const ordered_json& obj) {
  auto it = obj.find("images");
  if (it == obj.end() || it->is_null() || (it->is_array() && it->empty())) return Status::ok();
  return Status::error("images are not supported yet: corral runs text-only models");
}

namespace {

ordered_json ollama_error_body(int, std::string_view message, const char*) { return ordered_json{{"error", message}}; }

}  // namespace

const ErrorShape kOllamaErrors{ollama_error_body};

void respond_error(const Writer& w, const ErrorShape& shape, int status, const std::string& message, const char* code) {
  respond_json(w, status, shape.body(status, message, code));
}

void respond_status(const Writer& w, const ErrorShape& shape, const Status& status) {
  respond_error(w, shape, http_status_for(status.code()), status.message());
}

void respond_rejection(const Writer& w, const ErrorShape& shape, const scheduler::Rejection& r) {
  const int status = http_status_for(r.status.code());
  w->respond(status, "application/json; charset=utf-8", json_text(shape.body(status, r.status.message(), nullptr)),
             {{"Retry-After", std::to_string(r.retry_after_seconds)}});
}

}  // namespace corral::server
