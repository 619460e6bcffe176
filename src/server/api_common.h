// Shared bits of the HTTP API handlers: JSON bodies, timestamps and durations as Ollama
// writes them, and the error mapping.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "base/status.h"
#include "scheduler/config.h"
#include "server/http/response_writer.h"

namespace corral::server {

using json = nlohmann::json;
using ordered_json = nlohmann::ordered_json;
using Writer = std::shared_ptr<http::ResponseWriter>;

// RFC 3339 with nanoseconds in UTC, as Go's encoding/json writes a time.Time.
std::string rfc3339(std::chrono::system_clock::time_point t);
inline std::string now_rfc3339() { return rfc3339(std::chrono::system_clock::now()); }

// Nanoseconds, the unit of every Ollama duration field.
template <typename D>
int64_t nanos(D d) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(d).count();
}

// Parses a request body as JSON (ordered: schemas keep their property order). An error Status
// carries the message Ollama-compatible clients see with a 400.
Result<ordered_json> parse_body(const std::string& body);

// keep_alive from a request: absent/null -> nullopt; a number of seconds or a duration string.
Result<std::optional<scheduler::KeepAlive>> parse_keep_alive_field(const ordered_json& body);

// Writes {"error": message} with the status.
inline void respond_error(const std::shared_ptr<http::ResponseWriter>& w, int status, const std::string& message) {
  w->respond_error(status, message);
}

inline void respond_json(const std::shared_ptr<http::ResponseWriter>& w, int status, const ordered_json& body) {
  w->respond(status, "application/json; charset=utf-8", body.dump(-1, ' ', false, json::error_handler_t::replace));
}

// Ollama's message for a model name that is not in the store.
std::string model_not_found(const std::string& name);

// An error when `obj` (a /api/generate body or a chat message) carries images: corral runs
// text-only models, and answering as if the image had been seen would be wrong.
Status reject_images(const ordered_json& obj);

}  // namespace corral::server
