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
#include <optional>
#include <string>
#include <vector>

#include "parsers/output_parser.h"
#include "parsers/tool_call_id.h"
#include "scheduler/job.h"
#include "scheduler/scheduler.h"
#include "server/api_common.h"

namespace corral::server {

// What the model said, split by the request's output parser (chat_output.h): the answer text,
// the reasoning, and tool calls, each with its id ("call_xxxxxxxx"). A streamed piece carries
// what was decided in it; the totals are the pieces appended.
struct OutputToolCall {
  std::string id;
  parsers::ToolCall call;
};
struct CompletionOutput {
  std::string content;
  std::string thinking;
  std::vector<OutputToolCall> tool_calls;
  std::vector<engine::TokenLogprob> logprobs;  // the generated tokens behind it, when asked

  bool empty() const { return content.empty() && thinking.empty() && tool_calls.empty() && logprobs.empty(); }
  void append(const CompletionOutput& piece);
};

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
  // Wire bytes of one streamed piece of output (never empty).
  virtual std::string chunk(const CompletionOutput& piece) = 0;
  // Wire bytes that end a stream that finished normally; `streamed` is everything sent.
  virtual std::string stream_end(const scheduler::JobEvent& done, const CompletionOutput& streamed) = 0;
  // Wire bytes that end a stream after an error.
  virtual std::string stream_error(const std::string& message) = 0;
  // The whole response body when not streaming.
  virtual ordered_json body(const scheduler::JobEvent& done, const CompletionOutput& full) = 0;
};

class CompletionStream : public std::enable_shared_from_this<CompletionStream> {
 public:
  // Ollama's NDJSON: chunk(piece) -> the record of one streamed piece; final(done, full) -> the
  // last record (full is the whole output when not streaming, empty when streaming).
  using ChunkRecord = std::function<ordered_json(const CompletionOutput& piece)>;
  using FinalRecord = std::function<ordered_json(const scheduler::JobEvent& done, const CompletionOutput& full)>;

  CompletionStream(Writer w, bool stream, ChunkRecord chunk, FinalRecord final);
  CompletionStream(Writer w, bool stream, std::unique_ptr<CompletionProtocol> protocol);

  // Reads the output through `parser` (set before the job is submitted): text becomes content,
  // thinking and tool calls; calls get ids drawn from `id_seed`. Without one all text is content.
  void set_parser(std::unique_ptr<parsers::OutputParser> parser, uint64_t id_seed);

  // The job's on_event.
  void on_event(const scheduler::JobEvent& e);

 private:
  friend void attach(const std::shared_ptr<scheduler::Job>& job, const Writer& w,
                     std::shared_ptr<CompletionStream> stream);
  void start_locked();
  // Sends (streaming) or keeps (not) the pieces the parser decided; false after a parse error,
  // which has then ended the response and cancelled the job.
  bool emit_locked(Result<parsers::ParseEvents> events, std::vector<engine::TokenLogprob> logprobs = {});
  void fail_locked(const Status& error);

  Writer w_;
  bool stream_;
  std::unique_ptr<CompletionProtocol> protocol_;
  std::mutex mu_;
  bool started_ = false;
  bool closed_ = false;  // the response ended early (a parse error): later events are dropped
  std::unique_ptr<parsers::OutputParser> parser_;
  std::optional<parsers::ToolCallIds> ids_;
  CompletionOutput sent_;  // everything decided so far (sent, when streaming)
  std::weak_ptr<scheduler::Job> job_;
};

// Wires a job to a writer: events go to the stream, a client that goes away cancels the job.
void attach(const std::shared_ptr<scheduler::Job>& job, const Writer& w, std::shared_ptr<CompletionStream> stream);

// Answers a scheduler rejection (queue full) with its status, Retry-After and Ollama's body.
void respond_rejection(const Writer& w, const scheduler::Rejection& r);

// The statistics fields every final record carries.
void add_stats(ordered_json& j, const scheduler::JobStats& s);

}  // namespace corral::server
