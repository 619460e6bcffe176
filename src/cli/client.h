// The CLI's HTTP client for the running server (libcurl): the server's address from OLLAMA_HOST
// as Ollama's api.ClientFromEnvironment reads it, JSON calls, NDJSON streams handed over one
// record at a time, and blob uploads streamed from a file.
//
// Errors are one-line messages ready for "Error: <message>": the server's {"error": ...} text,
// or kNotRunning when nothing listens at the address.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>

#include <nlohmann/json.hpp>

#include "base/status.h"

namespace corral::cli {

using json = nlohmann::json;
using ordered_json = nlohmann::ordered_json;

inline constexpr const char* kNotRunning = "could not connect to corral server, is it running?";

// Set (e.g. by a SIGINT handler) to abort the transfer in progress; checked several times a
// second. A cancelled call returns a kCancelled error (message kCancelled).
extern std::atomic<bool> g_cancel;
inline constexpr const char* kCancelled = "cancelled";

class Client {
 public:
  // From OLLAMA_HOST (server::parse_ollama_host); an invalid value is an error.
  static Result<Client> from_env();
  explicit Client(std::string base_url) : base_(std::move(base_url)) {}

  const std::string& base_url() const { return base_; }
  // The last call's HTTP status (0 when it got no answer): lets callers tell a 404 apart.
  long last_status() const { return last_status_; }

  // A JSON request (body omitted when null). 2xx: the parsed body (null when empty).
  Result<json> call(const std::string& method, const std::string& path, const ordered_json& body = nullptr);
  // A streaming request: `on_record` gets each NDJSON line as it arrives; returning false stops
  // the transfer (not an error). A record {"error": ...} ends the stream with that error.
  Status stream(const std::string& path, const ordered_json& body, const std::function<bool(const json&)>& on_record);
  // HEAD: true for 200, false for 404, an error otherwise.
  Result<bool> exists(const std::string& path);
  // POSTs the file's bytes as the body, streamed; `progress(sent, total)` while it goes.
  Status upload(const std::string& path, const std::string& file,
                const std::function<void(int64_t sent, int64_t total)>& progress);

 private:
  std::string base_;
  long last_status_ = 0;
};

// Prints "Error: <message>" to stderr and returns the exit code 1.
int fail(const std::string& message);
inline int fail(const Status& s) { return fail(s.message()); }

}  // namespace corral::cli
