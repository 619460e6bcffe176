// A ResponseWriter that records into memory: for unit-testing API handlers without sockets.
// simulate_client_gone() plays a disconnect (callbacks run, write() turns false);
// wait_finished() lets a test wait for a worker thread to complete the response.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <vector>

#include "server/http/gone_signal.h"
#include "server/http/response_writer.h"

namespace corral::http {

class MemoryResponseWriter final : public ResponseWriter {
 public:
  void add_header(std::string name, std::string value) override;
  void start(int status, std::string content_type, HeaderList extra_headers, bool chunked) override;
  bool write(std::string data) override;
  void finish() override;
  bool client_gone() const override { return gone_.is_set(); }
  void on_client_gone(std::function<void()> callback) override { gone_.subscribe(std::move(callback)); }
  size_t queued_bytes() const override { return 0; }
  bool started() const override;

  void simulate_client_gone() { gone_.set(); }
  // True once finish() ran, waiting up to `timeout`.
  bool wait_finished(std::chrono::milliseconds timeout) const;

  // Snapshots of what the handler produced.
  int status() const;
  std::string content_type() const;
  HeaderList headers() const;                       // add_header() then start()'s extras
  std::string header(std::string_view name) const;  // first value, "" if absent
  bool chunked() const;
  std::string body() const;                 // all writes joined
  std::vector<std::string> writes() const;  // each write() separately
  bool finished() const;

 private:
  mutable std::mutex mu_;
  mutable std::condition_variable cv_;
  GoneSignal gone_;
  bool started_ = false;
  bool finished_ = false;
  int status_ = 0;
  std::string content_type_;
  HeaderList headers_;
  bool chunked_ = false;
  std::vector<std::string> writes_;
};

}  // namespace corral::http
