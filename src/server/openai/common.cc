#include "server/openai/common.h"

#include <atomic>

#include "store/model_name.h"

namespace corral::server::openai {

ordered_json error_body(int status, std::string_view message, const char* code) {
  const char* type = status == 400 ? "invalid_request_error" : status == 404 ? "not_found_error" : "api_error";
  return ordered_json{{"error",
                       {{"message", message},
                        {"type", type},
                        {"param", nullptr},
                        {"code", code ? ordered_json(code) : ordered_json(nullptr)}}}};
}

const ErrorShape kErrors{error_body, "model_not_found"};

std::string next_id(std::string_view prefix) {
  static std::atomic<uint64_t> counter{0};
  return std::string(prefix) + "-" + std::to_string(counter.fetch_add(1) + 1);
}

int64_t unix_seconds(std::chrono::system_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

std::string owned_by(const std::string& model_name) {
  auto n = store::ModelName::parse(model_name);
  return n ? n->ns : std::string(store::kDefaultNamespace);
}

ordered_json usage(const scheduler::JobStats& s) {
  return ordered_json{{"prompt_tokens", s.prompt_tokens},
                      {"completion_tokens", s.eval_count},
                      {"total_tokens", s.prompt_tokens + s.eval_count}};
}

const char* finish_reason(scheduler::DoneReason r) { return r == scheduler::DoneReason::kLength ? "length" : "stop"; }

}  // namespace corral::server::openai
