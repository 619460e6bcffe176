#include "server/http/memory_writer.h"

namespace corral::http {

void MemoryResponseWriter::add_header(std::string name, std::string value) {
  std::lock_guard lock(mu_);
  if (!started_) headers_.emplace_back(std::move(name), std::move(value));
}

void MemoryResponseWriter::start(int status, std::string content_type, HeaderList extra_headers, bool chunked) {
  std::lock_guard lock(mu_);
  if (started_) return;
  started_ = true;
  status_ = status;
  content_type_ = std::move(content_type);
  for (auto& h : extra_headers) headers_.push_back(std::move(h));
  chunked_ = chunked;
}

bool MemoryResponseWriter::write(std::string data) {
  std::lock_guard lock(mu_);
  if (!started_ || finished_ || gone_.is_set()) return false;
  if (!data.empty()) writes_.push_back(std::move(data));
  return true;
}

void MemoryResponseWriter::finish() {
  {
    std::lock_guard lock(mu_);
    if (!started_) {
      started_ = true;
      status_ = 200;
    }
    finished_ = true;
  }
  cv_.notify_all();
}

bool MemoryResponseWriter::started() const {
  std::lock_guard lock(mu_);
  return started_;
}

bool MemoryResponseWriter::wait_finished(std::chrono::milliseconds timeout) const {
  std::unique_lock lock(mu_);
  return cv_.wait_for(lock, timeout, [&] { return finished_; });
}

int MemoryResponseWriter::status() const {
  std::lock_guard lock(mu_);
  return status_;
}

std::string MemoryResponseWriter::content_type() const {
  std::lock_guard lock(mu_);
  return content_type_;
}

HeaderList MemoryResponseWriter::headers() const {
  std::lock_guard lock(mu_);
  return headers_;
}

std::string MemoryResponseWriter::header(std::string_view name) const {
  std::lock_guard lock(mu_);
  for (const auto& [n, v] : headers_)
    if (iequals(n, name)) return v;
  return "";
}

bool MemoryResponseWriter::chunked() const {
  std::lock_guard lock(mu_);
  return chunked_;
}

std::string MemoryResponseWriter::body() const {
  std::lock_guard lock(mu_);
  std::string out;
  for (const auto& w : writes_) out += w;
  return out;
}

std::vector<std::string> MemoryResponseWriter::writes() const {
  std::lock_guard lock(mu_);
  return writes_;
}

bool MemoryResponseWriter::finished() const {
  std::lock_guard lock(mu_);
  return finished_;
}

}  // namespace corral::http
