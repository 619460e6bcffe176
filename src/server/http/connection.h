// Internal: one accepted TCP connection - request parsing, the output queue, disconnect
// detection, timeouts and keep-alive. All socket work runs on the connection's strand (the
// socket's executor); only enqueue(), queued_bytes() and the posting entry points are called
// from other threads.
//
// Phases:
//   kRequest        reading and parsing the next request (idle timeout armed)
//   kResponse       a handler owns the response; the socket stays watched so a disconnect
//                   marks the writer gone at once, and early bytes (a pipelined request) are
//                   kept for later. For a streaming route the body is still arriving in this
//                   phase: it is parsed as it comes and queued on a BodyChannel for the
//                   handler's reader, and reading pauses while that queue is full.
//   kErrorResponse  the server itself answers a bad request and will close
//   kLinger         response sent, write side shut; draining input briefly so the client
//                   reads our last response instead of a reset
//   kClosed
//
// Reads wait for readability and then read whatever is there without blocking, instead of
// keeping an asynchronous read with a buffer outstanding: idle connections then hold no read
// buffer, and the input buffer may be consumed at any time (when a response finishes and a
// pipelined request is already buffered).
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/buffers_range.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/parser.hpp>

#include "server/http/body_channel.h"
#include "server/http/gone_signal.h"

namespace corral::http::detail {

namespace asio = boost::asio;
namespace beast = boost::beast;
class ServerCore;
// Beast body type for requests: bytes are appended to `bytes`. A buffered body stays there
// whole (at most max_body_bytes); for a streamed one the connection moves the bytes out after
// every parse step, so they never accumulate.
struct PieceBody {
  struct value_type {
    std::string bytes;
    bool streamed = false;
  };
  class reader {
   public:
    template <bool isRequest, class Fields>
    reader(beast::http::header<isRequest, Fields>&, value_type& body) : body_(body) {}
    void init(const boost::optional<std::uint64_t>& length, boost::system::error_code& ec) {
      // A buffered Content-Length was checked against max_body_bytes at the header.
      if (length && !body_.streamed) body_.bytes.reserve(static_cast<size_t>(*length));
      ec = {};
    }
    template <class ConstBufferSequence>
    size_t put(const ConstBufferSequence& buffers, boost::system::error_code& ec) {
      size_t n = 0;
      for (auto b : beast::buffers_range_ref(buffers)) {
        body_.bytes.append(static_cast<const char*>(b.data()), b.size());
        n += b.size();
      }
      ec = {};
      return n;
    }
    void finish(boost::system::error_code& ec) { ec = {}; }

   private:
    value_type& body_;
  };
};

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  // What follows a batch of queued bytes.
  enum class After { kMore, kEndKeepAlive, kEndClose };

  // `socket` must use a strand executor (the acceptor gives it one). `counted_ip`: the client
  // address this connection counts against max_connections_per_ip ("" if it does not count).
  Connection(std::shared_ptr<ServerCore> core, asio::ip::tcp::socket socket, std::string counted_ip);

  void start();  // any thread
  // Instead of start(): answers `status` with `message` at once and closes (any thread).
  void refuse(int status, std::string message);
  // Queues response bytes (any thread). `after` != kMore ends the current response once
  // these bytes are written. Dropped if the connection is closed.
  void enqueue(std::string bytes, After after);
  size_t queued_bytes() const { return queued_.load(std::memory_order_relaxed); }
  bool stopping() const;
  // A streamed request body has not been read to its end (any thread): the response must
  // close the connection, since what follows on the socket is not the next request.
  bool body_pending() const { return body_pending_.load(std::memory_order_acquire); }

  // Server shutdown, any thread: idle connections close now, a pending response may finish.
  void stop_gracefully();
  // Closes now; a pending response's writer reports client_gone(). Any thread.
  void force_close();
  // close() without the strand, for ~Server when no io thread runs.
  void close_unsynchronized() { close(); }

 private:
  enum class Phase { kRequest, kResponse, kErrorResponse, kLinger, kClosed };
  using Parser = beast::http::request_parser<PieceBody>;

  // Reading.
  void wait_readable();
  void on_readable(const boost::system::error_code& ec);
  void on_input_end(const boost::system::error_code& ec);
  void begin_request();
  void parse_buffered();
  bool on_header_done();
  void fail_request(const boost::system::error_code& ec);
  // Builds the handler's Request (headers, target, params) and its writer from the parser.
  std::shared_ptr<ResponseWriter> begin_exchange(Request* req, std::string* raw_path);
  void dispatch();
  // Streaming routes: hands the request to its handler as soon as the header is in.
  void dispatch_streaming(const StreamingHandler& handler, std::map<std::string, std::string> params);
  // Parses buffered input into the streamed body while there is room on the channel.
  void feed_body();
  void end_body(std::string error);  // empty error: the body is complete
  void resume_body();                // any thread: the reader drained the channel
  void arm_for_body_or_disarm();     // the deadline while a response is pending
  void start_header_clock();         // the request line and headers must arrive by now + header_timeout_s

  // Writing.
  void pump();
  void on_written(const boost::system::error_code& ec);
  void finish_response(After after);
  void send_error(int status, std::string_view message);

  // Timeouts and teardown.
  void arm_deadline(std::chrono::steady_clock::duration d);
  void disarm_deadline();
  void wait_deadline();
  void on_deadline();
  void mark_gone();
  void linger_close();
  void close();

  std::shared_ptr<ServerCore> core_;
  asio::ip::tcp::socket socket_;
  asio::steady_timer deadline_;
  std::string remote_;
  const std::string counted_ip_;

  // Strand-only state.
  Phase phase_ = Phase::kRequest;
  beast::flat_buffer in_;  // received, not yet parsed bytes
  std::optional<Parser> parser_;
  bool header_seen_ = false;   // on_header_done() ran for the current request
  bool first_request_ = true;  // no request has begun on this connection yet
  bool refused_ = false;       // refuse(): close as soon as the answer is written
  bool header_clock_ = false;  // the header deadline (not the idle one) is armed for this request
  bool keep_alive_ = true;     // the current request allows another one after it
  bool reading_ = false;       // a readability wait is outstanding
  bool input_ended_ = false;   // EOF seen while an error response is still being written
  size_t drained_ = 0;         // bytes discarded while lingering
  bool writing_ = false;       // an async_write is outstanding
  std::string write_buf_;      // the bytes of that write
  After write_after_ = After::kMore;
  bool deadline_armed_ = false;
  bool deadline_waiting_ = false;
  std::shared_ptr<GoneSignal> gone_;   // the current response's; null between responses
  std::shared_ptr<BodyChannel> body_;  // a streamed body still arriving; null otherwise
  bool body_paused_ = false;           // the channel is full: not reading the socket
  std::atomic<bool> body_pending_{false};

  // Output queue, filled from any thread and drained on the strand by pump().
  std::mutex out_mu_;
  std::string out_pending_;
  After out_after_ = After::kMore;
  bool pump_posted_ = false;
  bool out_closed_ = false;
  std::atomic<size_t> queued_{0};
};

}  // namespace corral::http::detail
