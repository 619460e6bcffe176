// Ollama's progress responses (/api/create; the same shape as /api/pull and /api/push): while
// streaming, one NDJSON record per status, {"status", "digest", "total", "completed"} with the
// empty fields left out as Go's omitempty does, and {"error": ...} as the last line after a
// failure; with "stream": false, only the final record as one JSON body, or the error with an
// HTTP status. Thread-safe: the producer is a worker thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>

#include "server/api_common.h"

namespace corral::server {

class ProgressStream {
 public:
  ProgressStream(std::shared_ptr<http::ResponseWriter> w, bool stream);

  // One status record. Byte counts of the same status are throttled to ~10 records a second
  // (a multi-GB copy would otherwise send thousands); the last one (completed == total) always
  // goes out.
  void report(const std::string& status, const std::string& digest = "", int64_t total = 0, int64_t completed = 0);
  // Ends the response successfully (after a final "success" report).
  void finish();
  // Ends the response with an error: an {"error"} line when streaming, else `http_status`.
  void fail(int http_status, const std::string& message);
  bool client_gone() const { return w_->client_gone(); }

 private:
  void start_locked();

  std::shared_ptr<http::ResponseWriter> w_;
  const bool stream_;
  std::mutex mu_;
  bool started_ = false;
  bool ended_ = false;
  ordered_json last_;  // not streaming: the record finish() sends
  std::string last_status_;
  std::chrono::steady_clock::time_point last_sent_{};
};

}  // namespace corral::server
