#include "server/openai/common.h"

#include <atomic>

#include "server/status_http.h"
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

void respond_error(const Writer& w, int status, const std::string& message) {
  respond_json(w, status, error_body(status, message));
}

void respond_status(const Writer& w, const Status& status) {
  respond_error(w, http_status_for(status.code()), status.message());
}

void respond_rejection(const Writer& w, const scheduler::Rejection& r) {
  // OpenAI answers an overloaded engine with 503 (429 is its per-key rate limit and quota), and
  // Ollama's /v1 routes pass the scheduler's 503 through; the OpenAI SDKs retry both, honouring
  // Retry-After.
  const int status = http_status_for(r.status.code());
  w->respond(status, "application/json; charset=utf-8", json_text(error_body(status, r.status.message())),
             {{"Retry-After", std::to_string(r.retry_after_seconds)}});
}

const ErrorStyle kErrors{respond_error, respond_rejection};

std::optional<ServedModel> resolve_or_respond(ApiContext& ctx, const std::string& name, const Writer& w) {
  auto resolved = ctx.resolver.resolve(name);
  if (!resolved) {
    const int status = http_status_for(resolved.code());
    respond_json(
        w, status,
        error_body(status, resolved.error(), resolved.code() == StatusCode::kNotFound ? "model_not_found" : nullptr));
    return std::nullopt;
  }
  return std::move(resolved).value();
}

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
