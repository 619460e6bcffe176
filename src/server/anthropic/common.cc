#include "server/anthropic/common.h"

#include <random>

#include "server/status_http.h"

namespace corral::server::anthropic {

const char* error_type(int status) {
  switch (status) {
    case 400: return "invalid_request_error";
    case 401: return "authentication_error";
    case 403: return "permission_error";
    case 404: return "not_found_error";
    case 413: return "request_too_large";
    case 429: return "rate_limit_error";
    case 503:
    case 529: return "overloaded_error";
    default: return "api_error";
  }
}

ordered_json error_body(int status, std::string_view message) {
  return ordered_json{{"type", "error"}, {"error", {{"type", error_type(status)}, {"message", message}}}};
}

void respond_error(const Writer& w, int status, const std::string& message) {
  respond_json(w, status, error_body(status, message));
}

void respond_status(const Writer& w, const Status& status) {
  respond_error(w, http_status_for(status.code()), status.message());
}

void respond_rejection(const Writer& w, const scheduler::Rejection& r) {
  const int status = http_status_for(r.status.code());
  w->respond(status, "application/json; charset=utf-8", json_text(error_body(status, r.status.message())),
             {{"Retry-After", std::to_string(r.retry_after_seconds)}});
}

const ErrorStyle kErrors{respond_error, respond_rejection};

std::optional<ServedModel> resolve_or_respond(ApiContext& ctx, const std::string& name, const Writer& w) {
  auto resolved = ctx.resolver.resolve(name);
  if (!resolved) {
    respond_status(w, resolved.status());
    return std::nullopt;
  }
  return std::move(resolved).value();
}

std::string next_message_id() {
  thread_local std::mt19937_64 rng{(uint64_t{std::random_device{}()} << 32) ^ std::random_device{}()};
  static constexpr char kHex[] = "0123456789abcdef";
  std::string id = "msg_";
  for (int i = 0; i < 24; ++i) id += kHex[rng() & 15];
  return id;
}

std::string tool_use_id(std::string_view call_id) {
  constexpr std::string_view kCall = "call_";
  if (call_id.substr(0, kCall.size()) == kCall) call_id.remove_prefix(kCall.size());
  return "toolu_" + std::string(call_id);
}

}  // namespace corral::server::anthropic
