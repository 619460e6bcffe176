#include "server/http/connection.h"

#include <algorithm>
#include <limits>

#include <spdlog/spdlog.h>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/field.hpp>

#include "server/http/connection_writer.h"
#include "server/http/server_core.h"
#include "server/http/wire.h"

namespace corral::http::detail {

namespace {

using boost::system::error_code;
namespace bhttp = boost::beast::http;

// One readiness wake-up reads at least this much (fewer reallocations for small requests) and
// at most the larger bound (one big body does not starve the connections sharing the thread).
constexpr size_t kMinRead = 4u << 10;
constexpr size_t kMaxRead = 64u << 10;
// After the last response the input is drained this long / this much at most: enough for the
// client to read our answer instead of a reset, not enough to keep us busy.
constexpr auto kLingerTime = std::chrono::seconds(2);
constexpr size_t kLingerBytes = 1u << 20;
// Buffers bigger than this are released between requests, so a connection that once received a
// large body does not keep the memory while idle.
constexpr size_t kKeepBufferBytes = 256u << 10;

std::string to_std(boost::beast::string_view sv) { return std::string(sv.data(), sv.size()); }

std::string describe(const asio::ip::tcp::socket& socket) {
  error_code ec;
  auto ep = socket.remote_endpoint(ec);
  if (ec) return "?";
  auto addr = ep.address();
  return addr.is_v6() ? fmt::format("[{}]:{}", addr.to_string(), ep.port())
                      : fmt::format("{}:{}", addr.to_string(), ep.port());
}

}  // namespace

Connection::Connection(std::shared_ptr<ServerCore> core, asio::ip::tcp::socket socket, std::string counted_ip)
    : core_(std::move(core)),
      socket_(std::move(socket)),
      deadline_(socket_.get_executor()),
      remote_(describe(socket_)),
      counted_ip_(std::move(counted_ip)) {
  error_code ec;
  // Reads are done synchronously once the socket is readable; this keeps them from blocking.
  socket_.non_blocking(true, ec);
}

bool Connection::stopping() const { return core_->stopping(); }

void Connection::start() {
  asio::post(socket_.get_executor(), [self = shared_from_this()] {
    self->begin_request();
    self->wait_readable();
  });
}

void Connection::refuse(int status, std::string message) {
  asio::post(socket_.get_executor(), [self = shared_from_this(), status, message = std::move(message)] {
    self->first_request_ = false;
    self->refused_ = true;
    self->send_error(status, message);
    self->wait_readable();
  });
}

void Connection::stop_gracefully() {
  asio::post(socket_.get_executor(), [self = shared_from_this()] {
    if (self->phase_ == Phase::kRequest) {
      self->close();  // idle, or a request that has not fully arrived: nothing to finish
    } else if (self->phase_ == Phase::kResponse) {
      self->keep_alive_ = false;  // let it finish, then close
    }
  });
}

void Connection::force_close() {
  asio::post(socket_.get_executor(), [self = shared_from_this()] { self->close(); });
}

// ---- Reading ---------------------------------------------------------------------------------

void Connection::wait_readable() {
  if (reading_ || phase_ == Phase::kClosed || input_ended_) return;
  // While a response is pending, input is a streamed body (read while its channel has room) or
  // the next pipelined request: past one header's worth of that we stop reading (and so stop
  // noticing a disconnect) rather than buffer without bound.
  if (phase_ == Phase::kResponse && (body_ ? body_paused_ : in_.size() >= core_->options.max_header_bytes)) return;
  reading_ = true;
  socket_.async_wait(asio::ip::tcp::socket::wait_read,
                     [self = shared_from_this()](const error_code& ec) { self->on_readable(ec); });
}

void Connection::on_readable(const error_code& ec) {
  reading_ = false;
  if (phase_ == Phase::kClosed) return;
  if (ec) {
    on_input_end(ec);
    return;
  }
  error_code rec;
  size_t available = socket_.available(rec);
  size_t want = std::clamp(available, kMinRead, kMaxRead);
  size_t n = socket_.read_some(in_.prepare(want), rec);
  if (rec == asio::error::would_block || rec == asio::error::try_again) {
    wait_readable();  // spurious wake-up
    return;
  }
  if (rec) {
    on_input_end(rec);  // EOF or reset
    return;
  }
  in_.commit(n);
  switch (phase_) {
    case Phase::kRequest:
      if (!header_clock_) start_header_clock();  // the first byte of a request after idling
      parse_buffered();
      break;
    case Phase::kResponse:
      // A streamed body goes to its reader now; other bytes are an early pipelined request,
      // parsed after this response.
      if (body_) feed_body();
      if (phase_ == Phase::kClosed) return;
      break;
    case Phase::kErrorResponse:
    case Phase::kLinger:
      drained_ += in_.size();
      in_.consume(in_.size());
      if (drained_ > kLingerBytes) {
        close();
        return;
      }
      break;
    case Phase::kClosed: return;
  }
  wait_readable();
}

void Connection::on_input_end(const error_code& ec) {
  switch (phase_) {
    case Phase::kRequest:
      if (parser_ && parser_->got_some())
        spdlog::debug("http: {}: connection closed mid-request ({})", remote_, ec.message());
      close();
      break;
    case Phase::kResponse:
      // Like Go's net/http (and so Ollama), EOF while a response is pending means the client
      // gave up: cancel the work.
      spdlog::debug("http: {}: client disconnected while its response was pending", remote_);
      close();
      break;
    case Phase::kErrorResponse:
      input_ended_ = true;  // the client may have half-closed; still send it the error
      break;
    case Phase::kLinger:
    case Phase::kClosed: close(); break;
  }
}

void Connection::begin_request() {
  phase_ = Phase::kRequest;
  parser_.emplace();
  parser_->header_limit(static_cast<std::uint32_t>(
      std::min<size_t>(core_->options.max_header_bytes, std::numeric_limits<std::uint32_t>::max())));
  // No limit until the header says which route this is (on_header_done): streaming routes take
  // bodies of any size, the others max_body_bytes. (Not boost::none: Beast 1.74 compares a
  // Content-Length with an empty optional limit as "over the limit".)
  parser_->body_limit(std::numeric_limits<std::uint64_t>::max());
  header_seen_ = false;
  body_pending_.store(false, std::memory_order_release);
  if (in_.size() == 0 && in_.capacity() > kKeepBufferBytes) in_.shrink_to_fit();
  // A new connection owes its first header at once (Go's ReadHeaderTimeout counts from the
  // accept too); between keep-alive requests the client may idle, and the header clock starts
  // with the next request's first byte (on_readable), or now when it is already buffered.
  header_clock_ = false;
  if (first_request_ || in_.size() > 0) {
    first_request_ = false;
    start_header_clock();
  } else {
    arm_deadline(std::chrono::seconds(core_->options.idle_timeout_s));
  }
}

void Connection::start_header_clock() {
  header_clock_ = true;
  // Never longer than the idle timeout: a header is no reason to wait longer than silence is.
  arm_deadline(std::chrono::seconds(std::min(core_->options.header_timeout_s, core_->options.idle_timeout_s)));
}

void Connection::parse_buffered() {
  while (phase_ == Phase::kRequest && in_.size() > 0) {
    error_code ec;
    size_t used = parser_->put(in_.data(), ec);
    in_.consume(used);
    if (ec == bhttp::error::need_more) break;
    if (ec) {
      fail_request(ec);
      return;
    }
    if (!header_seen_ && parser_->is_header_done()) {
      header_seen_ = true;
      if (!on_header_done()) return;
      // The header made it in time; the body gets the idle timeout.
      if (!parser_->is_done()) arm_deadline(std::chrono::seconds(core_->options.idle_timeout_s));
    }
    if (parser_->is_done()) {
      dispatch();
      return;
    }
    if (used == 0) break;
  }
}

bool Connection::on_header_done() {
  auto& msg = parser_->get();
  // A request body's length must be knowable (RFC 9112 6.3): a transfer coding other than a
  // final "chunked" leaves it undefined, and guessing is how request smuggling starts.
  if (msg.find(bhttp::field::transfer_encoding) != msg.end() && !parser_->chunked()) {
    send_error(400, "malformed HTTP request: unsupported Transfer-Encoding");
    return false;
  }
  // Streaming routes are matched here, before the body, so their handler can read it as it
  // arrives. HEAD has no body to stream.
  const StreamingHandler* streaming = nullptr;
  std::map<std::string, std::string> params;
  if (msg.method() != bhttp::verb::head && !core_->streaming_router.empty()) {
    std::string raw_path, path;
    std::multimap<std::string, std::string> query;
    parse_target(std::string_view(msg.target().data(), msg.target().size()), &raw_path, &path, &query);
    auto match = core_->streaming_router.match(to_std(msg.method_string()), raw_path);
    streaming = match.handler;
    params = std::move(match.params);
  }
  if (!streaming) {
    // An over-limit Content-Length is refused before any of the body is read (and before a
    // 100-continue, so such clients never send it); chunked bodies are counted as they arrive.
    if (auto length = parser_->content_length(); length && *length > core_->options.max_body_bytes) {
      send_error(413, "request body too large");
      return false;
    }
    parser_->body_limit(core_->options.max_body_bytes);
  }
  // curl and others send Expect: 100-continue before a large body and wait (about a second)
  // for this go-ahead. An over-limit Content-Length never gets here (413 above).
  if (msg.version() >= 11 && !parser_->is_done()) {
    auto it = msg.find(bhttp::field::expect);
    if (it != msg.end()) {
      if (!iequals(std::string_view(it->value().data(), it->value().size()), "100-continue")) {
        send_error(417, "unsupported Expect header");
        return false;
      }
      enqueue(std::string(wire::kContinue), After::kMore);
    }
  }
  if (streaming) {
    dispatch_streaming(*streaming, std::move(params));
    return false;  // the request is dispatched: parse_buffered stops here
  }
  return true;
}

void Connection::fail_request(const error_code& ec) {
  if (ec == bhttp::error::body_limit) {
    send_error(413, "request body too large");
  } else if (ec == bhttp::error::header_limit) {
    send_error(431, "request header too large");
  } else {
    spdlog::debug("http: {}: malformed request: {}", remote_, ec.message());
    send_error(400, "malformed HTTP request: " + ec.message());
  }
}

std::shared_ptr<ResponseWriter> Connection::begin_exchange(Request* req, std::string* raw_path) {
  const auto& msg = parser_->get();
  phase_ = Phase::kResponse;
  keep_alive_ = msg.keep_alive();
  req->method = to_std(msg.method_string());
  req->target = to_std(msg.target());
  req->version = static_cast<int>(msg.version());
  parse_target(req->target, raw_path, &req->path, &req->query);
  for (const auto& field : msg) req->headers.add(to_std(field.name_string()), to_std(field.value()));
  req->remote_addr = remote_;

  gone_ = std::make_shared<GoneSignal>();
  ExchangeInfo info;
  info.head = msg.method() == bhttp::verb::head;
  info.version = req->version;
  info.keep_alive = keep_alive_;
  info.method = req->method;
  info.target = req->target;
  info.received = std::chrono::steady_clock::now();
  return std::make_shared<ConnectionWriter>(shared_from_this(), gone_, std::move(info));
}

void Connection::dispatch() {
  disarm_deadline();  // the handler may queue this request for minutes: that is not idleness
  Request req;
  std::string raw_path;
  auto writer = begin_exchange(&req, &raw_path);
  req.body = std::move(parser_->get().body().bytes);
  parser_.reset();
  core_->handle(std::move(req), raw_path, std::move(writer));
}

// ---- Streamed request bodies -----------------------------------------------------------------

void Connection::dispatch_streaming(const StreamingHandler& handler, std::map<std::string, std::string> params) {
  Request req;
  std::string raw_path;
  auto writer = begin_exchange(&req, &raw_path);
  req.params = std::move(params);
  auto& msg = parser_->get();
  msg.body().streamed = true;
  const auto length = parser_->content_length();
  auto channel = std::make_shared<BodyChannel>(length ? static_cast<int64_t>(*length) : (parser_->chunked() ? -1 : 0));
  if (parser_->is_done()) {  // no body at all
    channel->end();
    parser_.reset();
    disarm_deadline();
  } else {
    body_ = channel;
    body_paused_ = false;
    body_pending_.store(true, std::memory_order_release);
    std::weak_ptr<Connection> weak = shared_from_this();
    channel->set_resume([weak] {
      if (auto self = weak.lock()) self->resume_body();
    });
    // Waiting for body bytes is the client's time: the idle timeout applies.
    arm_deadline(std::chrono::seconds(core_->options.idle_timeout_s));
  }
  core_->handle_streaming(std::move(req), handler, std::make_shared<ChannelReader>(channel), std::move(writer));
  if (body_ && phase_ != Phase::kClosed) feed_body();
}

void Connection::feed_body() {
  bool progressed = false;
  while (body_ && !body_paused_ && in_.size() > 0) {
    error_code ec;
    size_t used = parser_->put(in_.data(), ec);
    in_.consume(used);
    progressed = progressed || used > 0;
    std::string& bytes = parser_->get().body().bytes;
    if (!bytes.empty()) {
      std::string piece;
      piece.swap(bytes);
      if (!body_->push(std::move(piece))) body_paused_ = true;
    }
    if (ec && ec != bhttp::error::need_more) {
      // Bad chunk framing: what follows cannot be trusted as HTTP any more.
      spdlog::debug("http: {}: malformed request body: {}", remote_, ec.message());
      end_body("malformed request body: " + ec.message());
      close();
      return;
    }
    if (parser_->is_done()) {
      end_body("");  // what is left in in_ is the next pipelined request
      break;
    }
    if (ec || used == 0) break;
  }
  if (body_ && !body_paused_) {
    if (progressed) arm_deadline(std::chrono::seconds(core_->options.idle_timeout_s));
  } else if (!writing_) {
    disarm_deadline();  // body complete, or the reader is behind: neither is the client's delay
  }
}

void Connection::end_body(std::string error) {
  if (!body_) return;
  std::shared_ptr<BodyChannel> channel = std::move(body_);
  body_paused_ = false;
  if (error.empty()) {
    // Cleared before the reader can see the end, so its response may keep the connection.
    body_pending_.store(false, std::memory_order_release);
    parser_.reset();
    channel->end();
  } else {
    channel->fail(std::move(error));  // body_pending_ stays set: the connection will close
  }
}

void Connection::resume_body() {
  asio::post(socket_.get_executor(), [self = shared_from_this()] {
    if (!self->body_ || self->phase_ == Phase::kClosed) return;
    self->body_paused_ = false;
    self->arm_deadline(std::chrono::seconds(self->core_->options.idle_timeout_s));
    self->feed_body();
    self->wait_readable();
  });
}

void Connection::arm_for_body_or_disarm() {
  if (phase_ == Phase::kResponse && body_ && !body_paused_)
    arm_deadline(std::chrono::seconds(core_->options.idle_timeout_s));
  else disarm_deadline();
}

// ---- Writing ---------------------------------------------------------------------------------

void Connection::enqueue(std::string bytes, After after) {
  bool post = false;
  {
    std::lock_guard lock(out_mu_);
    if (out_closed_) return;
    queued_.fetch_add(bytes.size(), std::memory_order_relaxed);
    if (out_pending_.empty()) out_pending_ = std::move(bytes);
    else out_pending_ += bytes;  // coalesced into the next socket write
    if (after != After::kMore) out_after_ = after;
    post = !pump_posted_;
    pump_posted_ = true;
  }
  if (post) asio::post(socket_.get_executor(), [self = shared_from_this()] { self->pump(); });
}

void Connection::pump() {
  std::string bytes;
  After after;
  {
    std::lock_guard lock(out_mu_);
    pump_posted_ = false;
    if (phase_ == Phase::kClosed || writing_) return;  // on_written() pumps again
    bytes.swap(out_pending_);
    after = out_after_;
    out_after_ = After::kMore;
  }
  if (bytes.empty()) {
    if (after != After::kMore) finish_response(after);
    return;
  }
  writing_ = true;
  write_buf_ = std::move(bytes);
  write_after_ = after;
  // A client that stops reading must not pin a stream (and its generation) forever.
  if (phase_ == Phase::kResponse || phase_ == Phase::kErrorResponse)
    arm_deadline(std::chrono::seconds(core_->options.idle_timeout_s));
  asio::async_write(socket_, asio::buffer(write_buf_),
                    [self = shared_from_this()](const error_code& ec, size_t) { self->on_written(ec); });
}

void Connection::on_written(const error_code& ec) {
  writing_ = false;
  queued_.fetch_sub(write_buf_.size(), std::memory_order_relaxed);
  write_buf_.clear();
  if (write_buf_.capacity() > kKeepBufferBytes) std::string().swap(write_buf_);
  if (phase_ == Phase::kClosed) return;
  if (ec) {
    spdlog::debug("http: {}: write failed: {}", remote_, ec.message());
    close();
    return;
  }
  if (phase_ == Phase::kResponse || phase_ == Phase::kErrorResponse) arm_for_body_or_disarm();
  After after = write_after_;
  write_after_ = After::kMore;
  if (after != After::kMore) finish_response(after);
  pump();
}

void Connection::finish_response(After after) {
  if (phase_ == Phase::kClosed) return;
  gone_.reset();  // the response is complete: a later disconnect cancels nothing
  // A streamed body not read to its end leaves unknown bytes on the socket: close.
  if (phase_ == Phase::kErrorResponse || after == After::kEndClose || !keep_alive_ || stopping() ||
      body_pending_.load(std::memory_order_acquire)) {
    linger_close();
    return;
  }
  begin_request();
  parse_buffered();  // a pipelined request may already be here
  wait_readable();
}

void Connection::send_error(int status, std::string_view message) {
  phase_ = Phase::kErrorResponse;
  parser_.reset();
  drained_ = in_.size();
  in_.consume(in_.size());
  std::string body = json_error_body(message);
  wire::Head head;
  head.status = status;
  head.content_type = "application/json; charset=utf-8";
  head.content_length = body.size();
  head.close = true;  // the rest of the input cannot be trusted to be framed
  enqueue(wire::format_head(head) + body, After::kEndClose);
}

// ---- Timeouts and teardown -------------------------------------------------------------------

void Connection::arm_deadline(std::chrono::steady_clock::duration d) {
  deadline_armed_ = true;
  deadline_.expires_after(d);  // cancels a pending wait; its handler re-waits (wait_deadline)
  wait_deadline();
}

void Connection::disarm_deadline() {
  deadline_armed_ = false;
  deadline_.cancel();
}

void Connection::wait_deadline() {
  if (deadline_waiting_) return;
  deadline_waiting_ = true;
  deadline_.async_wait([self = shared_from_this()](const error_code&) {
    self->deadline_waiting_ = false;
    if (self->phase_ == Phase::kClosed || !self->deadline_armed_) return;
    // Re-armed or cancelled since this wait began: the expiry says which.
    if (self->deadline_.expiry() <= std::chrono::steady_clock::now()) self->on_deadline();
    else self->wait_deadline();
  });
}

void Connection::on_deadline() {
  deadline_armed_ = false;
  switch (phase_) {
    case Phase::kRequest:
      if (header_clock_ && !header_seen_)
        spdlog::debug("http: {}: request header not complete within {} s; closing", remote_,
                      core_->options.header_timeout_s);
      else spdlog::debug("http: {}: idle timeout", remote_);
      break;
    case Phase::kResponse:
    case Phase::kErrorResponse:
      if (body_)
        spdlog::info("http: {}: client sent no request body data for {} s; closing", remote_,
                     core_->options.idle_timeout_s);
      else
        spdlog::info("http: {}: client took no response data for {} s; closing", remote_,
                     core_->options.idle_timeout_s);
      break;
    case Phase::kLinger:
    case Phase::kClosed: break;
  }
  close();
}

void Connection::mark_gone() {
  if (!gone_) return;
  std::shared_ptr<GoneSignal> gone = std::move(gone_);
  gone->set();  // runs on_client_gone callbacks
}

void Connection::linger_close() {
  const bool was_error = phase_ == Phase::kErrorResponse || body_pending_.load(std::memory_order_acquire);
  end_body("the response was sent before the request body was read");
  phase_ = Phase::kLinger;
  parser_.reset();
  error_code ec;
  socket_.shutdown(asio::ip::tcp::socket::shutdown_send, ec);
  // Closing with unread input makes the kernel send a reset, which can destroy the response
  // before the client reads it. That risk is real after an error (the client may still be
  // uploading) or when input is already waiting; a clean close after "Connection: close" needs
  // no wait, and neither does shutdown (the grace period bounds it instead).
  size_t unread = in_.size() + socket_.available(ec);
  // A refused connection is closed at once: lingering would let a flood of them hold the slots
  // the refusal is protecting.
  if (refused_ && unread > 0) {
    // What the client already sent would turn the close into a reset that can destroy the
    // answer before it is read: discard it first.
    char sink[4096];
    while (socket_.available(ec) > 0 && !ec) socket_.read_some(asio::buffer(sink), ec);
    ec = {};
  }
  if (ec || input_ended_ || stopping() || refused_ || (!was_error && unread == 0)) {
    close();
    return;
  }
  drained_ = 0;
  in_.consume(in_.size());
  arm_deadline(kLingerTime);
  wait_readable();
}

void Connection::close() {
  if (phase_ == Phase::kClosed) return;
  auto self = shared_from_this();  // unregister() may drop the registry's reference
  phase_ = Phase::kClosed;
  end_body("connection closed before the request body was complete");
  mark_gone();
  {
    std::lock_guard lock(out_mu_);
    out_closed_ = true;
    queued_.fetch_sub(out_pending_.size(), std::memory_order_relaxed);
    std::string().swap(out_pending_);
  }
  error_code ec;
  socket_.shutdown(asio::ip::tcp::socket::shutdown_both, ec);
  socket_.close(ec);
  deadline_armed_ = false;
  deadline_.cancel();
  parser_.reset();
  in_.clear();
  in_.shrink_to_fit();
  core_->unregister(self, counted_ip_);
}

}  // namespace corral::http::detail
