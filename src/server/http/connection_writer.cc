#include "server/http/connection_writer.h"

#include <algorithm>

#include <spdlog/spdlog.h>

#include "server/http/connection.h"

namespace corral::http::detail {

using wire::Framing;

ConnectionWriter::ConnectionWriter(std::shared_ptr<Connection> connection, std::shared_ptr<GoneSignal> gone,
                                   ExchangeInfo info)
    : connection_(std::move(connection)), gone_(std::move(gone)), info_(std::move(info)) {}

ConnectionWriter::~ConnectionWriter() {
  std::lock_guard lock(mu_);
  if (state_ == State::kFinished || gone_->is_set() || !connection_) return;
  if (state_ == State::kNew) {
    spdlog::error("http: {} {}: handler dropped its response writer without responding", info_.method, info_.target);
    close_ = true;
    status_ = 500;
    content_type_ = "application/json; charset=utf-8";
    framing_ = Framing::kContentLength;
    std::string body = json_error_body("handler produced no response");
    connection_->enqueue(head_locked(body.size()) + (info_.head ? std::string() : body), Connection::After::kEndClose);
  } else {
    // Mid-response: closing without the last chunk tells the client the body is incomplete.
    spdlog::warn("http: {} {}: response writer dropped before finish(); closing the connection", info_.method,
                 info_.target);
    connection_->enqueue(std::string(), Connection::After::kEndClose);
  }
}

void ConnectionWriter::add_header(std::string name, std::string value) {
  std::lock_guard lock(mu_);
  if (state_ != State::kNew) {
    spdlog::warn("http: add_header({}) after the response started is ignored", name);
    return;
  }
  headers_.emplace_back(std::move(name), std::move(value));
}

void ConnectionWriter::start(int status, std::string content_type, HeaderList extra_headers, bool chunked) {
  std::lock_guard lock(mu_);
  if (state_ != State::kNew) {
    spdlog::error("http: {} {}: start() called twice; ignored", info_.method, info_.target);
    return;
  }
  start_locked(status, std::move(content_type), std::move(extra_headers), chunked);
}

void ConnectionWriter::start_sized(int status, std::string content_type, uint64_t content_length,
                                   HeaderList extra_headers) {
  std::lock_guard lock(mu_);
  if (state_ != State::kNew) {
    spdlog::error("http: {} {}: start_sized() after the response started; ignored", info_.method, info_.target);
    return;
  }
  start_locked(status, std::move(content_type), std::move(extra_headers), /*chunked=*/false);
  if (framing_ != Framing::kContentLength) return;  // a status without a body: nothing to stream
  sized_ = true;
  declared_length_ = content_length;
  if (connection_ && !gone_->is_set())
    connection_->enqueue(head_locked(static_cast<size_t>(content_length)), Connection::After::kMore);
}

void ConnectionWriter::start_locked(int status, std::string content_type, HeaderList extra_headers, bool chunked) {
  if (status < 200 || status > 999) {
    // 1xx interim responses are the server's business (100-continue); anything else is a bug.
    spdlog::error("http: {} {}: invalid response status {}; sending 500", info_.method, info_.target, status);
    status = 500;
  }
  state_ = State::kStarted;
  status_ = status;
  content_type_ = std::move(content_type);
  for (auto& h : extra_headers) headers_.push_back(std::move(h));
  // A streamed request body not yet read to its end: the connection cannot be reused.
  close_ = !info_.keep_alive || (connection_ && (connection_->stopping() || connection_->body_pending()));
  if (!wire::status_allows_body(status)) {
    framing_ = Framing::kNoBody;
  } else if (!chunked) {
    framing_ = Framing::kContentLength;
  } else if (info_.version >= 11) {
    framing_ = Framing::kChunked;
  } else {
    // HTTP/1.0 has no chunked encoding: stream raw bytes and mark the end by closing.
    framing_ = Framing::kUntilClose;
    close_ = true;
  }
  // Content-Length heads wait for finish(); streaming heads go out now so the client sees the
  // status while the body is still being produced.
  if (framing_ != Framing::kContentLength && connection_ && !gone_->is_set())
    connection_->enqueue(head_locked(0), Connection::After::kMore);
}

std::string ConnectionWriter::head_locked(size_t content_length) const {
  wire::Head h;
  h.status = status_;
  h.content_type = content_type_;
  h.headers = headers_;
  h.framing = framing_;
  h.content_length = content_length;
  h.close = close_;
  h.http10_keep_alive = info_.version < 11 && !close_;
  return wire::format_head(h);
}

bool ConnectionWriter::write(std::string data) {
  std::lock_guard lock(mu_);
  if (state_ != State::kStarted) {
    if (state_ == State::kNew)
      spdlog::error("http: {} {}: write() before start(); dropped", info_.method, info_.target);
    return false;
  }
  if (gone_->is_set() || !connection_) return false;
  if (sized_) {
    // The head promised declared_length_ bytes: more would corrupt the next response.
    const uint64_t room = declared_length_ - std::min<uint64_t>(declared_length_, body_bytes_);
    if (data.size() > room) {
      spdlog::error("http: {} {}: write past the declared Content-Length; {} bytes dropped", info_.method, info_.target,
                    data.size() - room);
      data.resize(static_cast<size_t>(room));
    }
    body_bytes_ += data.size();
    if (!data.empty() && !info_.head) connection_->enqueue(std::move(data), Connection::After::kMore);
    return true;
  }
  body_bytes_ += data.size();
  // HEAD responses count the body for Content-Length but never send it.
  if (data.empty() || info_.head) return true;
  switch (framing_) {
    case Framing::kContentLength: body_ += data; break;
    case Framing::kChunked: connection_->enqueue(wire::chunk(data), Connection::After::kMore); break;
    case Framing::kUntilClose: connection_->enqueue(std::move(data), Connection::After::kMore); break;
    case Framing::kNoBody: break;
  }
  return true;
}

void ConnectionWriter::finish() {
  std::lock_guard lock(mu_);
  if (state_ == State::kFinished) return;
  if (state_ == State::kNew) start_locked(200, "", {}, /*chunked=*/false);
  state_ = State::kFinished;
  log_access_locked();
  std::shared_ptr<Connection> connection = std::move(connection_);
  if (!connection || gone_->is_set()) return;
  const auto after = close_ ? Connection::After::kEndClose : Connection::After::kEndKeepAlive;
  switch (framing_) {
    case Framing::kContentLength: {
      if (sized_) {
        // Short of the declared length: only closing tells the client the body is incomplete.
        const bool complete = info_.head || body_bytes_ == declared_length_;
        if (!complete)
          spdlog::warn("http: {} {}: finished after {} of {} declared bytes; closing", info_.method, info_.target,
                       body_bytes_, declared_length_);
        connection->enqueue(std::string(), complete ? after : Connection::After::kEndClose);
        break;
      }
      std::string bytes = head_locked(body_bytes_);
      if (!info_.head) bytes += body_;
      std::string().swap(body_);
      connection->enqueue(std::move(bytes), after);
      break;
    }
    case Framing::kChunked:
      connection->enqueue(info_.head ? std::string() : std::string(wire::kLastChunk), after);
      break;
    case Framing::kUntilClose: connection->enqueue(std::string(), Connection::After::kEndClose); break;
    case Framing::kNoBody: connection->enqueue(std::string(), after); break;
  }
}

void ConnectionWriter::on_client_gone(std::function<void()> callback) { gone_->subscribe(std::move(callback)); }

size_t ConnectionWriter::queued_bytes() const {
  std::lock_guard lock(mu_);
  return connection_ ? connection_->queued_bytes() : 0;
}

bool ConnectionWriter::started() const {
  std::lock_guard lock(mu_);
  return state_ != State::kNew;
}

void ConnectionWriter::log_access_locked() const {
  if (!spdlog::should_log(spdlog::level::debug)) return;
  double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - info_.received).count();
  spdlog::debug("http: {} {} -> {} ({} B, {:.1f} ms{})", info_.method, info_.target, status_, body_bytes_, ms,
                gone_->is_set() ? ", client gone" : "");
}

}  // namespace corral::http::detail
