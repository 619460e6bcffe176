#include "server/progress_stream.h"

namespace corral::server {

namespace {
constexpr auto kMinInterval = std::chrono::milliseconds(100);
}  // namespace

ProgressStream::ProgressStream(std::shared_ptr<http::ResponseWriter> w, bool stream)
    : w_(std::move(w)), stream_(stream) {}

void ProgressStream::start_locked() {
  if (started_) return;
  started_ = true;
  w_->start(200, "application/x-ndjson", {}, /*chunked=*/true);
}

void ProgressStream::report(const std::string& status, const std::string& digest, int64_t total, int64_t completed) {
  ordered_json r{{"status", status}};
  if (!digest.empty()) r["digest"] = digest;
  if (total != 0) r["total"] = total;
  if (completed != 0) r["completed"] = completed;
  std::lock_guard lock(mu_);
  if (ended_) return;
  const auto now = std::chrono::steady_clock::now();
  const bool same = status == last_status_;
  const bool last_bytes = total != 0 && completed >= total;
  if (same && total != 0 && !last_bytes && now - last_sent_ < kMinInterval) return;
  last_status_ = status;
  last_sent_ = now;
  if (!stream_) {
    last_ = std::move(r);
    return;
  }
  start_locked();
  w_->write(r.dump(-1, ' ', false, json::error_handler_t::replace) + "\n");
}

void ProgressStream::finish() {
  std::lock_guard lock(mu_);
  if (ended_) return;
  ended_ = true;
  if (!stream_) {
    respond_json(w_, 200, last_.is_null() ? ordered_json{{"status", "success"}} : last_);
    return;
  }
  start_locked();
  w_->finish();
}

void ProgressStream::fail(int http_status, const std::string& message) {
  std::lock_guard lock(mu_);
  if (ended_) return;
  ended_ = true;
  if (!stream_ || !started_) {
    // Nothing sent yet: a proper error status, as Ollama's handlers answer before streaming.
    respond_error(w_, http_status, message);
    return;
  }
  w_->write(json_text(ordered_json{{"error", message}}) + "\n");
  w_->finish();
}

}  // namespace corral::server
