#include "server/http/server_core.h"
#include "base/quote.h"

#include <algorithm>
#include <exception>
#include <string>
#include <thread>
#include <vector>

#include <spdlog/spdlog.h>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/post.hpp>

#include "base/check.h"
#include "server/http/connection.h"

namespace corral::http::detail {

namespace {

using asio::ip::tcp;
using boost::system::error_code;

ServerOptions normalized(ServerOptions o) {
  o.io_threads = std::max(1, o.io_threads);
  o.idle_timeout_s = std::max(1, o.idle_timeout_s);
  o.header_timeout_s = std::max(1, o.header_timeout_s);
  o.max_connections_per_ip = std::max(1, o.max_connections_per_ip);
  o.max_connections = std::max(1, o.max_connections);
  o.max_header_bytes = std::max<size_t>(o.max_header_bytes, 1024);
  return o;
}

// Accept failures that mean "out of resources right now": retrying at once would spin.
bool is_resource_exhaustion(const error_code& ec) {
  namespace errc = boost::system::errc;
  return ec == errc::too_many_files_open || ec == errc::too_many_files_open_in_system || ec == errc::no_buffer_space ||
         ec == errc::not_enough_memory;
}

}  // namespace

ServerCore::ServerCore(ServerOptions o)
    : options(normalized(std::move(o))),
      ioc_(options.io_threads),  // concurrency hint
      strand_(asio::make_strand(ioc_)),
      acceptor_(strand_),
      grace_timer_(strand_),
      retry_timer_(strand_) {}

ServerCore::~ServerCore() = default;

Status ServerCore::listen() {
  error_code ec;
  tcp::resolver resolver(ioc_);
  auto results = resolver.resolve(options.host, std::to_string(options.port), tcp::resolver::passive, ec);
  if (ec || results.empty())
    return Status::errorf("listen: cannot resolve host {}: {}", quote_text(options.host),
                          ec ? ec.message() : "no address");
  tcp::endpoint endpoint = results.begin()->endpoint();
  std::string where = fmt::format("{}:{}", options.host, options.port);
  if (acceptor_.open(endpoint.protocol(), ec); ec) return Status::errorf("listen tcp {}: {}", where, ec.message());
  // Lets a restarted server bind while old connections sit in TIME_WAIT. On Linux it does not
  // allow two listeners on one port, so "address in use" is still reported.
  acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
  error_code ignored;
  if (acceptor_.bind(endpoint, ec); ec) {
    acceptor_.close(ignored);
    return Status::errorf("listen tcp {}: bind: {}", where, ec.message());
  }
  // A burst of hundreds of clients connecting at once must not overflow the backlog.
  if (acceptor_.listen(asio::socket_base::max_listen_connections, ec); ec) {
    acceptor_.close(ignored);
    return Status::errorf("listen tcp {}: {}", where, ec.message());
  }
  port_ = acceptor_.local_endpoint(ec).port();
  {
    std::lock_guard lock(mu_);
    local_address_ = acceptor_.local_endpoint(ec).address().to_string();
  }
  spdlog::info("http: listening on {}:{}", options.host, port_.load());
  asio::post(strand_, [self = shared_from_this()] { self->accept_next(); });
  return Status::ok();
}

void ServerCore::accept_next() {
  if (!acceptor_.is_open()) return;
  // Each connection gets its own strand: its handlers never run concurrently, while different
  // connections spread over all io threads.
  asio::any_io_executor connection_strand = asio::make_strand(ioc_);
  acceptor_.async_accept(connection_strand, [self = shared_from_this()](const error_code& ec, tcp::socket socket) {
    self->on_accept(ec, std::move(socket));
  });
}

void ServerCore::on_accept(const error_code& ec, tcp::socket socket) {
  if (ec == asio::error::operation_aborted || !acceptor_.is_open()) return;
  if (ec) {
    if (is_resource_exhaustion(ec)) {
      spdlog::warn("http: accept: {}; retrying in 100 ms", ec.message());
      retry_timer_.expires_after(std::chrono::milliseconds(100));
      retry_timer_.async_wait([self = shared_from_this()](const error_code& wait_ec) {
        if (!wait_ec) self->accept_next();
      });
    } else {
      spdlog::debug("http: accept: {}", ec.message());
      accept_next();
    }
    return;
  }
  error_code ignored;
  if (stopping()) {
    socket.close(ignored);
    return;
  }
  if (connection_count() >= static_cast<size_t>(options.max_connections)) {
    if (rejected_++ % 1000 == 0)
      spdlog::warn("http: {} connections open (max_connections); refusing new ones ({} so far)",
                   options.max_connections, rejected_);
    socket.close(ignored);
    accept_next();
    return;
  }
  // Streams are many small writes (one token each); Nagle would hold them back.
  socket.set_option(tcp::no_delay(true), ignored);
  auto remote = socket.remote_endpoint(ignored);
  std::string ip = ignored ? std::string() : remote.address().to_string();
  bool over_ip_cap = false;
  {
    std::lock_guard lock(mu_);
    if (!ip.empty()) {
      int& open = per_ip_[ip];
      over_ip_cap = open >= options.max_connections_per_ip;
      if (!over_ip_cap) ++open;
    }
  }
  if (over_ip_cap) {
    if (rejected_++ % 1000 == 0)
      spdlog::warn("http: {} has {} connections open (max_connections_per_ip); answering 503 ({} so far)", ip,
                   options.max_connections_per_ip, rejected_);
  }
  auto connection =
      std::make_shared<Connection>(shared_from_this(), std::move(socket), over_ip_cap ? std::string() : ip);
  {
    std::lock_guard lock(mu_);
    connections_.insert(connection);
  }
  if (over_ip_cap)
    connection->refuse(503, fmt::format("too many connections from {} (at most {} per client address)", ip,
                                        options.max_connections_per_ip));
  else connection->start();
  accept_next();
}

void ServerCore::run() {
  auto run_loop = [this] {
    ++threads_in_run_;
    // Handlers catch their own exceptions; this is the last line so a stray one does not end
    // the thread (and with it the server).
    while (true) {
      try {
        ioc_.run();
        break;
      } catch (const std::exception& e) { spdlog::error("http: io thread caught: {}", e.what()); } catch (...) {
        spdlog::error("http: io thread caught a non-exception");
      }
    }
    --threads_in_run_;
  };
  std::vector<std::thread> threads;
  for (int i = 1; i < options.io_threads; ++i) threads.emplace_back(run_loop);
  run_loop();
  for (auto& t : threads) t.join();
}

void ServerCore::stop(std::chrono::milliseconds grace) {
  // Set at once (not on the strand) so responses starting from now already say
  // "Connection: close".
  stopping_.store(true, std::memory_order_release);
  asio::post(strand_, [self = shared_from_this(), grace] { self->begin_stop(grace); });
}

void ServerCore::begin_stop(std::chrono::milliseconds grace) {
  if (stop_begun_) return;
  stop_begun_ = true;
  error_code ignored;
  acceptor_.close(ignored);
  retry_timer_.cancel();
  std::vector<std::shared_ptr<Connection>> open;
  {
    std::lock_guard lock(mu_);
    open.assign(connections_.begin(), connections_.end());
  }
  spdlog::info("http: stopping ({} connection(s) open, {} ms grace)", open.size(), grace.count());
  for (auto& c : open) c->stop_gracefully();
  grace_timer_.expires_after(grace);
  grace_timer_.async_wait([self = shared_from_this()](const error_code& ec) {
    if (!ec) self->close_all();
  });
  // Connections that closed before the timer was armed could not cancel it (see unregister).
  if (connection_count() == 0) grace_timer_.cancel();
}

void ServerCore::close_all() {
  std::vector<std::shared_ptr<Connection>> open;
  {
    std::lock_guard lock(mu_);
    open.assign(connections_.begin(), connections_.end());
  }
  if (!open.empty()) spdlog::info("http: grace period over; closing {} connection(s)", open.size());
  for (auto& c : open) c->force_close();
}

void ServerCore::unregister(const std::shared_ptr<Connection>& connection, const std::string& counted_ip) {
  bool drained;
  {
    std::lock_guard lock(mu_);
    connections_.erase(connection);
    if (!counted_ip.empty()) {
      auto it = per_ip_.find(counted_ip);
      if (it != per_ip_.end() && --it->second <= 0) per_ip_.erase(it);
    }
    drained = connections_.empty();
  }
  // The last connection gone during a stop: end the grace wait so run() returns now.
  if (drained && stopping()) asio::post(strand_, [self = shared_from_this()] { self->grace_timer_.cancel(); });
}

void ServerCore::shutdown_unsynchronized() {
  CORRAL_CHECK(threads_in_run_.load() == 0, "http::Server destroyed while run() is running");
  stopping_.store(true);
  stop_begun_ = true;
  error_code ignored;
  acceptor_.close(ignored);
  grace_timer_.cancel();
  retry_timer_.cancel();
  std::vector<std::shared_ptr<Connection>> open;
  {
    std::lock_guard lock(mu_);
    open.assign(connections_.begin(), connections_.end());
  }
  for (auto& c : open) c->close_unsynchronized();
  // Let the cancelled operations complete: their handlers hold connections (and through them
  // this core), so leaving them queued would leak everything.
  try {
    ioc_.restart();
    ioc_.run();
  } catch (const std::exception& e) { spdlog::error("http: shutdown: {}", e.what()); }
}

std::string ServerCore::local_address() const {
  std::lock_guard lock(mu_);
  return local_address_;
}

size_t ServerCore::connection_count() const {
  std::lock_guard lock(mu_);
  return connections_.size();
}

void ServerCore::handle(Request&& request, const std::string& raw_path, std::shared_ptr<ResponseWriter> writer) {
  // Copies for the log: the handler may take the request.
  std::string method = request.method, target = request.target;
  try {
    if (middleware && middleware(request, writer)) return;
    auto match = router.match(request.method, raw_path);
    if (!match.handler) {
      // Methods of streaming routes on this path count for the 405 and its Allow header too.
      auto streaming = streaming_router.match(request.method, raw_path);
      if (streaming.path_known) {
        match.path_known = true;
        match.allow += (match.allow.empty() ? "" : ", ") + streaming.allow;
      }
    }
    if (match.handler) {
      request.params = std::move(match.params);
      (*match.handler)(std::move(request), writer);
    } else if (match.path_known) {
      writer->add_header("Allow", match.allow);
      writer->respond_error(405, "method not allowed");
    } else if (not_found) {
      not_found(std::move(request), writer);
    } else {
      writer->respond_error(404, "not found");
    }
    return;
  } catch (const std::exception& e) {
    spdlog::error("http: handler for {} {} threw: {}", method, target, e.what());
  } catch (...) { spdlog::error("http: handler for {} {} threw a non-exception", method, target); }
  // If it had started, dropping the writer closes the connection, which is all we can do.
  if (!writer->started()) writer->respond_error(500, "internal server error");
}

void ServerCore::handle_streaming(Request&& request, const StreamingHandler& handler, std::shared_ptr<BodyReader> body,
                                  std::shared_ptr<ResponseWriter> writer) {
  std::string method = request.method, target = request.target;
  try {
    if (middleware && middleware(request, writer)) return;
    handler(std::move(request), std::move(body), writer);
    return;
  } catch (const std::exception& e) {
    spdlog::error("http: handler for {} {} threw: {}", method, target, e.what());
  } catch (...) { spdlog::error("http: handler for {} {} threw a non-exception", method, target); }
  if (!writer->started()) writer->respond_error(500, "internal server error");
}

}  // namespace corral::http::detail
