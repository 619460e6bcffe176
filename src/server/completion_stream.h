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

// A choice that finished normally: its last event and its output (everything sent, when
// streaming).
struct FinishedChoice {
  scheduler::JobEvent done;
  CompletionOutput output;
};

// One API family's completion response format. A response has one choice, or several when the
// request asked for them (OpenAI's n: one job each, answered together).
class CompletionProtocol {
 public:
  virtual ~CompletionProtocol() = default;
  // The family's error body (api_common.h), for an error answered before output started.
  virtual const ErrorShape& errors() const = 0;
  // Content-Type of a streamed response.
  virtual std::string stream_content_type() const = 0;
  // Wire bytes of one streamed piece of output of choice `choice` (never empty).
  virtual std::string chunk(const CompletionOutput& piece, int choice) = 0;
  // Wire bytes that end a stream whose choices all finished normally (in choice order).
  virtual std::string stream_end(const std::vector<FinishedChoice>& choices) = 0;
  // Wire bytes that end a stream after an error.
  virtual std::string stream_error(const std::string& message) = 0;
  // The whole response body when not streaming.
  virtual ordered_json body(const std::vector<FinishedChoice>& choices) = 0;
};

class CompletionStream : public std::enable_shared_from_this<CompletionStream> {
 public:
  // Ollama's NDJSON: chunk(piece) -> the record of one streamed piece; final(done, full) -> the
  // last record (full is the whole output when not streaming, empty when streaming).
  using ChunkRecord = std::function<ordered_json(const CompletionOutput& piece)>;
  using FinalRecord = std::function<ordered_json(const scheduler::JobEvent& done, const CompletionOutput& full)>;

  CompletionStream(Writer w, bool stream, ChunkRecord chunk, FinalRecord final);
  // n_choices: the jobs answered together in this response (attach() each with its index).
  CompletionStream(Writer w, bool stream, std::unique_ptr<CompletionProtocol> protocol, int n_choices = 1);

  // Reads choice `choice`'s output through `parser` (set before its job is submitted): text
  // becomes content, thinking and tool calls; calls get ids drawn from `id_seed`. Without one
  // all text is content.
  void set_parser(int choice, std::unique_ptr<parsers::OutputParser> parser, uint64_t id_seed);

  // Choice `choice`'s job's on_event.
  void on_event(int choice, const scheduler::JobEvent& e);

  // The scheduler refused one of the jobs (queue full): the others are cancelled and the
  // response is the rejection (or, if output already went out, ends with an error).
  void reject(const scheduler::Rejection& r);

 private:
  friend void attach(const std::shared_ptr<scheduler::Job>& job, const Writer& w,
                     std::shared_ptr<CompletionStream> stream, int choice);
  struct Choice {
    std::unique_ptr<parsers::OutputParser> parser;
    std::optional<parsers::ToolCallIds> ids;
    FinishedChoice result;  // output: everything decided so far (sent, when streaming)
    bool finished = false;
    std::weak_ptr<scheduler::Job> job;
  };
  void start_locked();
  http::HeaderList placement_headers_locked() const;
  // Sends (streaming) or keeps (not) the pieces the parser decided; false after a parse error,
  // which has then ended the response and cancelled the jobs.
  bool emit_locked(int choice, Result<parsers::ParseEvents> events, std::vector<engine::TokenLogprob> logprobs = {});
  void fail_locked(const Status& error);
  // Ends the response early: no more events are answered, every job is cancelled.
  void close_locked();
  void finish_choice_locked(int choice, const scheduler::JobEvent& done);

  Writer w_;
  bool stream_;
  std::unique_ptr<CompletionProtocol> protocol_;
  std::mutex mu_;
  bool started_ = false;
  bool closed_ = false;  // the response ended early (an error, a parse error, the client left)
  // Where the first job to report stood in its queue (read at its first event, while it lives):
  // the x-corral-queue-position and x-corral-queue-eta-ms headers of a 200.
  std::optional<scheduler::QueuePlacement> placement_;
  std::vector<Choice> choices_;
  size_t n_finished_ = 0;
};

// Wires a job to a writer: its events go to the stream as choice `choice`, a client that goes
// away cancels the job.
void attach(const std::shared_ptr<scheduler::Job>& job, const Writer& w, std::shared_ptr<CompletionStream> stream,
            int choice = 0);

// The statistics fields every final record carries.
void add_stats(ordered_json& j, const scheduler::JobStats& s);

}  // namespace corral::server
