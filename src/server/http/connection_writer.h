// Internal: the ResponseWriter handed to handlers for a request that came in on a Connection.
// It turns start/write/finish into wire bytes (wire.h) under its own mutex and queues them on
// the connection, which writes them on its strand; so it is safe from any thread and a write()
// never waits for the socket.
#pragma once

#include <chrono>
#include <memory>
#include <mutex>
#include <string>

#include "server/http/gone_signal.h"
#include "server/http/response_writer.h"
#include "server/http/wire.h"

namespace corral::http::detail {

class Connection;

// What the writer needs to know about its request.
struct ExchangeInfo {
  bool head = false;       // HEAD: send headers only, keep Content-Length
  int version = 11;        // 10: no chunked encoding, explicit keep-alive
  bool keep_alive = true;  // the request allows the connection to be reused
  std::string method;      // for the access log
  std::string target;      // for the access log
  std::chrono::steady_clock::time_point received;
};

class ConnectionWriter final : public ResponseWriter {
 public:
  ConnectionWriter(std::shared_ptr<Connection> connection, std::shared_ptr<GoneSignal> gone, ExchangeInfo info);
  // Not finished and the client still there: the handler dropped us, so the connection is
  // closed (after a 500 when nothing was sent yet).
  ~ConnectionWriter() override;

  void add_header(std::string name, std::string value) override;
  void start(int status, std::string content_type, HeaderList extra_headers, bool chunked) override;
  void start_sized(int status, std::string content_type, uint64_t content_length, HeaderList extra_headers) override;
  bool write(std::string data) override;
  void finish() override;
  bool client_gone() const override { return gone_->is_set(); }
  void on_client_gone(std::function<void()> callback) override;
  size_t queued_bytes() const override;
  bool started() const override;

 private:
  enum class State { kNew, kStarted, kFinished };

  void start_locked(int status, std::string content_type, HeaderList extra_headers, bool chunked);
  std::string head_locked(size_t content_length) const;
  void log_access_locked() const;

  std::shared_ptr<Connection> connection_;  // reset at finish(): lets the connection go
  const std::shared_ptr<GoneSignal> gone_;
  const ExchangeInfo info_;

  mutable std::mutex mu_;
  State state_ = State::kNew;
  int status_ = 0;
  std::string content_type_;
  HeaderList headers_;  // add_header() and start()'s extras
  wire::Framing framing_ = wire::Framing::kContentLength;
  bool close_ = false;            // close the connection after this response
  std::string body_;              // kContentLength: buffered until finish()
  size_t body_bytes_ = 0;         // everything written, for Content-Length on HEAD and the access log
  bool sized_ = false;            // start_sized(): Content-Length sent up front, body streamed unframed
  uint64_t declared_length_ = 0;  // start_sized()'s content_length
};

}  // namespace corral::http::detail
