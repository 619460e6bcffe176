// Shared bits of the HTTP API handlers: JSON bodies, timestamps and durations as Ollama
// writes them, and error bodies in each API family's shape.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "base/status.h"
#include "scheduler/config.h"
#include "scheduler/job.h"
#include "server/http/response_writer.h"

namespace corral::server {

using json = nlohmann::json;
using ordered_json = nlohmann::ordered_json;
using Writer = std::shared_ptr<http::ResponseWriter>;

// RFC 3339 with nanoseconds in UTC, as Go's encoding/json writes a time.Time.
std::string rfc3339(std::chrono::system_clock::time_point t);
// The same from seconds and nanoseconds since the epoch: reaches times a nanosecond
// system_clock cannot hold (past 2262), such as Ollama's "forever" keep-alive expiry.
std::string rfc3339(int64_t unix_seconds, int64_t nanos);
inline std::string now_rfc3339() { return rfc3339(std::chrono::system_clock::now()); }

// Nanoseconds, the unit of every Ollama duration field.
template <typename D>
int64_t nanos(D d) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(d).count();
}

// How deeply a request body may nest arrays and objects. nlohmann parses and destroys
// iteratively, but copying, comparing and dumping a value recurse once per level, and so do
// the schema compiler and the template values built from tools and messages: 100,000 levels
// overflow a thread's stack and take the whole server down. Real requests (JSON schemas, tool
// definitions) nest a few dozen levels; 512 leaves ample room and costs at most a few hundred
// stack frames anywhere the value is walked.
inline constexpr int kMaxRequestJsonDepth = 512;

// Parses a JSON text from a request (ordered: schemas keep their property order), refusing
// one that nests deeper than kMaxRequestJsonDepth. `what` names it in the error ("request
// body", "tool call arguments").
Result<ordered_json> parse_request_json(std::string_view text, std::string_view what);

// Parses a request body as a JSON object. An error Status carries the message
// Ollama-compatible clients see with a 400.
Result<ordered_json> parse_body(const std::string& body);

// The text of a JSON value the server writes: invalid UTF-8 in any string (a GGUF key, bytes a
// request carried) becomes U+FFFD instead of making dump() throw, so every body is valid JSON.
std::string json_text(const ordered_json& j);
std::string json_text(const json& j);

// keep_alive from a request: absent/null -> nullopt; a number of seconds or a duration string.
Result<std::optional<scheduler::KeepAlive>> parse_keep_alive_field(const ordered_json& body);

// Writes a JSON body with the status.
inline void respond_json(const std::shared_ptr<http::ResponseWriter>& w, int status, const ordered_json& body) {
  w->respond(status, "application/json; charset=utf-8", json_text(body));
}

// How an API family shapes an error body: Ollama's {"error": "..."}, OpenAI's {"error":
// {"message", "type", ...}}, Anthropic's {"type": "error", "error": {...}}. The body is the only
// part that differs: the HTTP status comes from the Status code (server/status_http.h) and a
// rejection's Retry-After is the same for every family, so one implementation of each helper
// below serves them all.
struct ErrorShape {
  // The body for an error answered with HTTP status `status`; `code` is a machine-readable code
  // (OpenAI's "model_not_found") or null. The message may hold any bytes (see json_text).
  ordered_json (*body)(int status, std::string_view message, const char* code);
  // The code a model missing from the store is answered with (OpenAI: "model_not_found"), or null.
  const char* model_not_found_code = nullptr;
};
// Ollama's {"error": message}: the native API's, and every route outside /v1.
extern const ErrorShape kOllamaErrors;

// Writes an error with the status in `shape`.
void respond_error(const Writer& w, const ErrorShape& shape, int status, const std::string& message,
                   const char* code = nullptr);
// Writes an error Status with the HTTP status its code maps to (server/status_http.h).
void respond_status(const Writer& w, const ErrorShape& shape, const Status& status);
// The scheduler refused a job (queue full, deadline, shutdown): the status its code maps to
// (503: OpenAI and Anthropic answer an overloaded engine so and their SDKs retry it), with
// Retry-After.
void respond_rejection(const Writer& w, const ErrorShape& shape, const scheduler::Rejection& r);

// Ollama's shape, which most routes answer in.
inline void respond_error(const Writer& w, int status, const std::string& message) {
  respond_error(w, kOllamaErrors, status, message);
}
inline void respond_status(const Writer& w, const Status& status) { respond_status(w, kOllamaErrors, status); }

// At most the first 100 bytes of a request value, for quoting it in an error: enough to
// recognise it, never megabytes of hostile input echoed back.
std::string clip_for_error(std::string_view value);

// Ollama's message for a model name that is not in the store.
std::string model_not_found(const std::string& name);

// An error when `obj` (a /api/generate body or a chat message) carries images: corral runs
// text-only models, and answering as if the image had been seen would be wrong.
Status reject_images(const ordered_json& obj);

}  // namespace corral::server
