// Internal: the queue between a Connection (producer, on its strand) and the worker reading a
// streamed request body (consumer, any thread). Bounded: push() reports when the queue is full
// so the connection stops reading the socket; the consumer's read() calls `resume` once the
// queue has drained below the low-water mark.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include "server/http/body_reader.h"

namespace corral::http::detail {

class BodyChannel {
 public:
  // Below this many queued bytes a paused connection is resumed: low enough that one resume
  // refills a useful amount, high enough that the reader never starves while it runs.
  static constexpr size_t kLowWater = BodyReader::kHighWater / 4;

  explicit BodyChannel(int64_t content_length) : content_length_(content_length) {}

  // Producer side. push() returns false when the connection should pause (queue full, or the
  // reader is gone: then nothing resumes it). `resume` is called (from the consumer's thread,
  // without the lock) when a paused producer may continue.
  bool push(std::string piece);
  void end();
  void fail(std::string message);
  void set_resume(std::function<void()> resume);
  // The reader dropped its handle before the end: drop what is queued and never resume.
  void abandon();

  // Consumer side.
  Result<std::string> read();
  int64_t content_length() const { return content_length_; }

 private:
  enum class State { kOpen, kEnded, kFailed, kAbandoned };

  const int64_t content_length_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::string> queue_;
  size_t queued_ = 0;
  bool paused_ = false;  // push() returned false and nobody resumed the producer yet
  State state_ = State::kOpen;
  std::string error_;
  std::function<void()> resume_;
};

// What a streaming handler holds. Its destruction tells the connection that nobody will read
// the rest of the body.
class ChannelReader final : public BodyReader {
 public:
  explicit ChannelReader(std::shared_ptr<BodyChannel> channel) : channel_(std::move(channel)) {}
  ~ChannelReader() override { channel_->abandon(); }
  Result<std::string> read() override { return channel_->read(); }
  int64_t content_length() const override { return channel_->content_length(); }

 private:
  std::shared_ptr<BodyChannel> channel_;
};

}  // namespace corral::http::detail
