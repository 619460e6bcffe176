#include "server/http/body_channel.h"

namespace corral::http::detail {

bool BodyChannel::push(std::string piece) {
  std::lock_guard lock(mu_);
  if (state_ != State::kOpen) {
    paused_ = true;  // nobody reads any more: the producer stops for good
    return false;
  }
  if (!piece.empty()) {
    queued_ += piece.size();
    queue_.push_back(std::move(piece));
    cv_.notify_one();
  }
  if (queued_ >= BodyReader::kHighWater) paused_ = true;
  return !paused_;
}

void BodyChannel::end() {
  std::lock_guard lock(mu_);
  if (state_ != State::kOpen) return;
  state_ = State::kEnded;
  cv_.notify_all();
}

void BodyChannel::fail(std::string message) {
  std::lock_guard lock(mu_);
  if (state_ != State::kOpen) return;
  state_ = State::kFailed;
  error_ = std::move(message);
  queue_.clear();
  queued_ = 0;
  cv_.notify_all();
}

void BodyChannel::set_resume(std::function<void()> resume) {
  std::lock_guard lock(mu_);
  resume_ = std::move(resume);
}

void BodyChannel::abandon() {
  std::function<void()> drop;
  {
    std::lock_guard lock(mu_);
    if (state_ == State::kOpen) state_ = State::kAbandoned;
    queue_.clear();
    queued_ = 0;
    drop.swap(resume_);  // its captures (the connection) may go now
  }
}

Result<std::string> BodyChannel::read() {
  std::function<void()> resume;
  std::string piece;
  {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return !queue_.empty() || state_ != State::kOpen; });
    if (!queue_.empty()) {
      piece = std::move(queue_.front());
      queue_.pop_front();
      queued_ -= piece.size();
      if (paused_ && state_ == State::kOpen && queued_ < kLowWater) {
        paused_ = false;
        resume = resume_;
      }
    } else if (state_ == State::kFailed || state_ == State::kAbandoned) {
      return Status::error(state_ == State::kFailed ? error_ : "request body abandoned");
    }
    // else ended: "" below
  }
  if (resume) resume();
  return piece;
}

}  // namespace corral::http::detail
