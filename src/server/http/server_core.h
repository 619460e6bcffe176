// Internal: the Boost side of Server - io_context, acceptor, connection registry, shutdown.
// Held by shared_ptr from the Server, every Connection and (through them) every writer, so the
// io_context outlives all sockets and timers even when a worker keeps a writer after the Server
// is gone. ioc_ is declared before the I/O objects that use it, so it is destroyed after them.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <unordered_set>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>

#include "base/status.h"
#include "server/http/router.h"
#include "server/http/server.h"

namespace corral::http::detail {

namespace asio = boost::asio;
class Connection;

class ServerCore : public std::enable_shared_from_this<ServerCore> {
 public:
  explicit ServerCore(ServerOptions options);
  ~ServerCore();

  // Set before run(), read-only afterwards (so io threads read them without locks).
  const ServerOptions options;
  Router<Handler> router;
  Router<StreamingHandler> streaming_router;
  Handler not_found;
  Middleware middleware;

  Status listen();
  int port() const { return port_.load(); }
  std::string local_address() const;
  void run();
  void stop(std::chrono::milliseconds grace);
  // For ~Server: closes everything synchronously. Only when no thread is inside run().
  void shutdown_unsynchronized();

  bool stopping() const { return stopping_.load(std::memory_order_acquire); }
  size_t connection_count() const;

  // For connections: routes one request (on the connection's strand) and turns handler
  // exceptions into 500s.
  void handle(Request&& request, const std::string& raw_path, std::shared_ptr<ResponseWriter> writer);
  // The same for a streaming route (the match is done by the connection at the header).
  void handle_streaming(Request&& request, const StreamingHandler& handler, std::shared_ptr<BodyReader> body,
                        std::shared_ptr<ResponseWriter> writer);
  // For connections: called once when a connection closes; `counted_ip` is the address it
  // counted against max_connections_per_ip ("" if none).
  void unregister(const std::shared_ptr<Connection>& connection, const std::string& counted_ip);

 private:
  void accept_next();
  void on_accept(const boost::system::error_code& ec, asio::ip::tcp::socket socket);
  void begin_stop(std::chrono::milliseconds grace);
  void close_all();

  asio::io_context ioc_;                                  // before the I/O objects below: destroyed after them
  asio::strand<asio::io_context::executor_type> strand_;  // acceptor, timers, stop state
  asio::ip::tcp::acceptor acceptor_;
  asio::steady_timer grace_timer_;
  asio::steady_timer retry_timer_;  // accept back-off when out of file descriptors

  std::atomic<bool> stopping_{false};
  std::atomic<int> port_{0};
  std::atomic<int> threads_in_run_{0};
  uint64_t rejected_ = 0;    // strand_: connections refused over max_connections
  bool stop_begun_ = false;  // strand_

  mutable std::mutex mu_;
  // Open connections; a connection removes itself when it closes. Holding them here is what
  // lets stop() reach every connection.
  std::unordered_set<std::shared_ptr<Connection>> connections_;
  std::unordered_map<std::string, int> per_ip_;  // open connections per client address
  std::string local_address_;                    // set by listen()
};

}  // namespace corral::http::detail
