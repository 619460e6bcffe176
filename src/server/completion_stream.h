// Turns a job's events into an HTTP response: streamed records while streaming (one per text
// chunk, then the ones that end the stream), or one JSON body when not. The wire format is a
// CompletionProtocol: Ollama's NDJSON here, OpenAI's server-sent events in openai/stream.h.
// The HTTP status is chosen when the first event arrives, so an error that happens before any
// output (a failed load, a prompt too long) is a proper 4xx/5xx, as in Ollama; one after
// output started ends the stream with the protocol's error record.
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include "scheduler/job.h"
#include "scheduler/scheduler.h"
#include "server/api_common.h"

namespace corral::server {

// How an API family answers errors: Ollama's {"error": "..."} or OpenAI's {"error": {...}}.
struct ErrorStyle {
  void (*respond_error)(const Writer& w, int status, const std::string& message);
  // The scheduler refused the job (queue full): its status, Retry-After and the family's body.
  void (*respond_rejection)(const Writer& w, const scheduler::Rejection& r);
};
extern const ErrorStyle kOllamaErrors;

// One API family's completion response format.
class CompletionProtocol {
 public:
  virtual ~CompletionProtocol() = default;
  virtual const ErrorStyle& errors() const = 0;
  // Content-Type of a streamed response.
  virtual std::string stream_content_type() const = 0;
  // Wire bytes of one streamed piece of text.
  virtual std::string chunk(const std::string& text) = 0;
  // Wire bytes that end a stream that finished normally.
  virtual std::string stream_end(const scheduler::JobEvent& done) = 0;
  // Wire bytes that end a stream after an error.
  virtual std::string stream_error(const std::string& message) = 0;
  // The whole response body when not streaming.
  virtual ordered_json body(const scheduler::JobEvent& done, const std::string& full_text) = 0;
};

class CompletionStream : public std::enable_shared_from_this<CompletionStream> {
 public:
  // Ollama's NDJSON: chunk(text) -> the record of one streamed piece; final(done, full_text) ->
  // the last record (full_text is the whole output when not streaming, "" when streaming).
  using ChunkRecord = std::function<ordered_json(const std::string& text)>;
  using FinalRecord = std::function<ordered_json(const scheduler::JobEvent& done, const std::string& full_text)>;

  CompletionStream(Writer w, bool stream, ChunkRecord chunk, FinalRecord final);
  CompletionStream(Writer w, bool stream, std::unique_ptr<CompletionProtocol> protocol);

  // The job's on_event.
  void on_event(const scheduler::JobEvent& e);

 private:
  void start_locked();

  Writer w_;
  bool stream_;
  std::unique_ptr<CompletionProtocol> protocol_;
  std::mutex mu_;
  bool started_ = false;
  std::string text_;  // whole output, when not streaming
};

// Wires a job to a writer: events go to the stream, a client that goes away cancels the job.
void attach(const std::shared_ptr<scheduler::Job>& job, const Writer& w, std::shared_ptr<CompletionStream> stream);

// Answers a scheduler rejection (queue full) with its status, Retry-After and Ollama's body.
void respond_rejection(const Writer& w, const scheduler::Rejection& r);

// The statistics fields every final record carries.
void add_stats(ordered_json& j, const scheduler::JobStats& s);

}  // namespace corral::server
