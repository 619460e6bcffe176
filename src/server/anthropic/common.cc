#include "server/anthropic/common.h"

#include <random>

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

ordered_json error_body(int status, std::string_view message, const char*) {
  return ordered_json{{"type", "error"}, {"error", {{"type", error_type(status)}, {"message", message}}}};
}

const ErrorShape kErrors{error_body};

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
