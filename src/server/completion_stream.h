// Turns a job's events into an Ollama response: NDJSON lines while streaming (one record per
// text chunk, then the final record with the statistics), or one JSON body when not. The
// HTTP status is chosen when the first event arrives, so an error that happens before any
// output (a failed load, a prompt too long) is a proper 4xx/5xx, as in Ollama; one after
// output started arrives as a last {"error": ...} line.
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include "scheduler/job.h"
#include "scheduler/scheduler.h"
#include "server/api_common.h"

namespace corral::server {

class CompletionStream : public std::enable_shared_from_this<CompletionStream> {
 public:
  // chunk(text) -> the record of one streamed piece; final(done, full_text) -> the last record
  // (full_text is the whole output when not streaming, "" when streaming).
  using ChunkRecord = std::function<ordered_json(const std::string& text)>;
  using FinalRecord = std::function<ordered_json(const scheduler::JobEvent& done, const std::string& full_text)>;

  CompletionStream(std::shared_ptr<http::ResponseWriter> w, bool stream, ChunkRecord chunk, FinalRecord final);

  // The job's on_event.
  void on_event(const scheduler::JobEvent& e);

 private:
  void start_locked();

  std::shared_ptr<http::ResponseWriter> w_;
  bool stream_;
  ChunkRecord chunk_;
  FinalRecord final_;
  std::mutex mu_;
  bool started_ = false;
  std::string text_;  // whole output, when not streaming
};

// Wires a job to a writer: events go to the stream, a client that goes away cancels the job.
void attach(const std::shared_ptr<scheduler::Job>& job, const std::shared_ptr<http::ResponseWriter>& w,
            std::shared_ptr<CompletionStream> stream);

// Answers a scheduler rejection (queue full) with its status, Retry-After and Ollama's body.
void respond_rejection(const std::shared_ptr<http::ResponseWriter>& w, const scheduler::Rejection& r);

// The statistics fields every final record carries.
void add_stats(ordered_json& j, const scheduler::JobStats& s);

}  // namespace corral::server
