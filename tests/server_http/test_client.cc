#include "test_client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>

#include <fmt/format.h>

#include "base/log.h"

namespace corral::http::testing {

namespace {
// CORRAL_LOG_LEVEL=debug shows the server's per-connection log while debugging a test.
const bool kLoggingReady = (init_logging(), true);
}  // namespace

using Clock = std::chrono::steady_clock;

std::string RawResponse::header(std::string_view name) const {
  for (const auto& [n, v] : headers)
    if (iequals(n, name)) return v;
  return "";
}

bool RawResponse::has_header(std::string_view name) const {
  for (const auto& [n, v] : headers)
    if (iequals(n, name)) return true;
  return false;
}

TestClient::TestClient(int port, const std::string& source_ip) {
  fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd_ < 0) return;
  if (!source_ip.empty()) {
    sockaddr_in src{};
    src.sin_family = AF_INET;
    if (::inet_pton(AF_INET, source_ip.c_str(), &src.sin_addr) != 1 ||
        ::bind(fd_, reinterpret_cast<sockaddr*>(&src), sizeof(src)) != 0) {
      ::close(fd_);
      fd_ = -1;
      return;
    }
  }
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    ::close(fd_);
    fd_ = -1;
    return;
  }
  int one = 1;
  ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

TestClient::~TestClient() { close(); }

void TestClient::close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

void TestClient::reset() {
  if (fd_ < 0) return;
  linger l{1, 0};  // linger on with timeout 0: close() sends RST
  ::setsockopt(fd_, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
  close();
}

void TestClient::half_close() {
  if (fd_ >= 0) ::shutdown(fd_, SHUT_WR);
}

std::optional<std::string> TestClient::read_raw(std::string_view until, std::chrono::milliseconds timeout) {
  auto deadline = Clock::now() + timeout;
  while (true) {
    size_t pos = buf_.find(until);
    if (pos != std::string::npos) {
      std::string out = buf_.substr(0, pos + until.size());
      buf_.erase(0, pos + until.size());
      return out;
    }
    if (!fill(deadline)) return std::nullopt;
  }
}

bool TestClient::send(std::string_view bytes) {
  while (!bytes.empty()) {
    ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

bool TestClient::fill(Clock::time_point deadline) {
  if (fd_ < 0) return false;
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  if (left.count() < 0) return false;
  pollfd p{fd_, POLLIN, 0};
  int r = ::poll(&p, 1, static_cast<int>(left.count()));
  if (r <= 0) return false;
  char tmp[16384];
  ssize_t n = ::recv(fd_, tmp, sizeof(tmp), 0);
  if (n <= 0) return false;
  buf_.append(tmp, static_cast<size_t>(n));
  return true;
}

std::optional<std::string> TestClient::read_line(Clock::time_point deadline) {
  while (true) {
    size_t nl = buf_.find("\r\n");
    if (nl != std::string::npos) {
      std::string line = buf_.substr(0, nl);
      buf_.erase(0, nl + 2);
      return line;
    }
    if (!fill(deadline)) return std::nullopt;
  }
}

bool TestClient::read_exact(size_t n, std::string* out, Clock::time_point deadline) {
  while (buf_.size() < n)
    if (!fill(deadline)) return false;
  out->append(buf_, 0, n);
  buf_.erase(0, n);
  return true;
}

std::optional<RawResponse> TestClient::read_head(std::chrono::milliseconds timeout) {
  auto deadline = Clock::now() + timeout;
  RawResponse r;
  while (true) {
    auto status_line = read_line(deadline);
    if (!status_line) return std::nullopt;
    // "HTTP/1.1 200 OK"
    if (status_line->size() < 12 || status_line->compare(0, 5, "HTTP/") != 0) return std::nullopt;
    r.status = std::atoi(status_line->c_str() + 9);
    r.headers.clear();
    while (true) {
      auto line = read_line(deadline);
      if (!line) return std::nullopt;
      if (line->empty()) break;
      size_t colon = line->find(':');
      if (colon == std::string::npos) return std::nullopt;
      size_t v = line->find_first_not_of(' ', colon + 1);
      r.headers.emplace_back(line->substr(0, colon), v == std::string::npos ? "" : line->substr(v));
    }
    if (r.status != 100) return r;  // skip interim responses
  }
}

std::optional<std::string> TestClient::read_chunk(std::chrono::milliseconds timeout) {
  auto deadline = Clock::now() + timeout;
  auto size_line = read_line(deadline);
  if (!size_line) return std::nullopt;
  size_t size = std::strtoul(size_line->c_str(), nullptr, 16);
  if (size == 0) {
    read_line(deadline);  // the blank line after the last chunk (no trailers from our server)
    return std::nullopt;
  }
  std::string data;
  if (!read_exact(size, &data, deadline)) return std::nullopt;
  std::string crlf;
  if (!read_exact(2, &crlf, deadline) || crlf != "\r\n") return std::nullopt;
  return data;
}

bool TestClient::read_body(RawResponse* r, bool no_body, std::chrono::milliseconds timeout) {
  auto deadline = Clock::now() + timeout;
  if (no_body || r->status == 204 || r->status == 304) return true;
  if (iequals(r->header("Transfer-Encoding"), "chunked")) {
    while (true) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
      if (left.count() <= 0) return false;
      auto c = read_chunk(left);
      if (!c) return true;
      r->body += *c;
      r->chunks.push_back(std::move(*c));
    }
  }
  if (r->has_header("Content-Length")) {
    size_t n = std::strtoul(r->header("Content-Length").c_str(), nullptr, 10);
    return read_exact(n, &r->body, deadline);
  }
  // Delimited by close.
  while (fill(deadline)) {}
  r->body += buf_;
  buf_.clear();
  return true;
}

std::optional<RawResponse> TestClient::read_response(bool no_body, std::chrono::milliseconds timeout) {
  auto head = read_head(timeout);
  if (!head) return std::nullopt;
  if (!read_body(&*head, no_body, timeout)) return std::nullopt;
  return head;
}

bool TestClient::wait_closed(std::chrono::milliseconds timeout) {
  auto deadline = Clock::now() + timeout;
  while (true) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() < 0) return false;
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) return false;
    char tmp[4096];
    ssize_t n = ::recv(fd_, tmp, sizeof(tmp), 0);
    if (n <= 0) return true;
  }
}

std::string make_request(std::string_view method, std::string_view target, std::string_view body,
                         std::string_view extra_headers) {
  std::string req = fmt::format("{} {} HTTP/1.1\r\nHost: 127.0.0.1\r\n", method, target);
  if (!body.empty()) req += fmt::format("Content-Length: {}\r\n", body.size());
  req += extra_headers;
  req += "\r\n";
  req += body;
  return req;
}

bool ensure_fd_limit(size_t n) {
  rlimit lim{};
  if (::getrlimit(RLIMIT_NOFILE, &lim) != 0) return false;
  if (lim.rlim_cur >= n) return true;
  if (lim.rlim_max != RLIM_INFINITY && lim.rlim_max < n) return false;
  lim.rlim_cur = n;
  return ::setrlimit(RLIMIT_NOFILE, &lim) == 0;
}

ServerOptions ServerHarness::test_options() {
  ServerOptions o;
  o.host = "127.0.0.1";
  o.port = 0;
  o.io_threads = 2;
  // Every test client connects from 127.0.0.1; the scale tests open ~1000 at once.
  o.max_connections_per_ip = 4096;
  return o;
}

ServerHarness::ServerHarness(ServerOptions options) : server_(std::move(options)) {}

ServerHarness::~ServerHarness() {
  if (runner_.joinable()) {
    server_.stop(std::chrono::milliseconds(0));
    runner_.join();
  }
}

bool ServerHarness::start() {
  if (!server_.listen()) return false;
  runner_ = std::thread([this] { server_.run(); });
  return true;
}

std::chrono::milliseconds ServerHarness::stop_and_join(std::chrono::milliseconds grace) {
  auto t0 = Clock::now();
  server_.stop(grace);
  if (runner_.joinable()) runner_.join();
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t0);
}

}  // namespace corral::http::testing
