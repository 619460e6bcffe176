#include "server/completion_stream.h"

#include "server/status_http.h"

namespace corral::server {
namespace {

std::string line(const ordered_json& j) { return json_text(j) + "\n"; }

void ollama_error(const Writer& w, int status, const std::string& message) { respond_error(w, status, message); }

// Ollama's streaming format: one JSON record per line, the last one with done: true.
class NdjsonProtocol final : public CompletionProtocol {
 public:
  NdjsonProtocol(CompletionStream::ChunkRecord chunk, CompletionStream::FinalRecord final)
      : chunk_(std::move(chunk)), final_(std::move(final)) {}
  const ErrorStyle& errors() const override { return kOllamaErrors; }
  std::string stream_content_type() const override { return "application/x-ndjson"; }
  std::string chunk(const CompletionOutput& piece) override { return line(chunk_(piece)); }
  std::string stream_end(const scheduler::JobEvent& done, const CompletionOutput&) override {
    return line(final_(done, CompletionOutput{}));
  }
  std::string stream_error(const std::string& message) override { return line(ordered_json{{"error", message}}); }
  ordered_json body(const scheduler::JobEvent& done, const CompletionOutput& full) override {
    return final_(done, full);
  }

 private:
  CompletionStream::ChunkRecord chunk_;
  CompletionStream::FinalRecord final_;
};

}  // namespace

const ErrorStyle kOllamaErrors{ollama_error, respond_rejection};

void CompletionOutput::append(const CompletionOutput& piece) {
  content += piece.content;
  thinking += piece.thinking;
  tool_calls.insert(tool_calls.end(), piece.tool_calls.begin(), piece.tool_calls.end());
  logprobs.insert(logprobs.end(), piece.logprobs.begin(), piece.logprobs.end());
}

CompletionStream::CompletionStream(Writer w, bool stream, ChunkRecord chunk, FinalRecord final)
    : CompletionStream(std::move(w), stream, std::make_unique<NdjsonProtocol>(std::move(chunk), std::move(final))) {}

CompletionStream::CompletionStream(Writer w, bool stream, std::unique_ptr<CompletionProtocol> protocol)
    : w_(std::move(w)), stream_(stream), protocol_(std::move(protocol)) {}

void CompletionStream::start_locked() {
  if (started_) return;
  started_ = true;
  w_->start(200, protocol_->stream_content_type(), {}, /*chunked=*/true);
}

void CompletionStream::set_parser(std::unique_ptr<parsers::OutputParser> parser, uint64_t id_seed) {
  std::lock_guard<std::mutex> lk(mu_);
  parser_ = std::move(parser);
  ids_.emplace(id_seed);
}

void CompletionStream::fail_locked(const Status& error) {
  closed_ = true;
  if (auto job = job_.lock()) job->cancel();
  if (!started_) {
    protocol_->errors().respond_error(w_, http_status_for(error.code()), error.message());
    return;
  }
  w_->write(protocol_->stream_error(error.message()));
  w_->finish();
}

bool CompletionStream::emit_locked(Result<parsers::ParseEvents> events, std::vector<engine::TokenLogprob> logprobs) {
  if (!events) {
    // A malformed tool call: Ollama ends the response with the parser's error (a 500 when
    // nothing was sent yet).
    fail_locked(events.status().with_code(StatusCode::kInternal));
    return false;
  }
  std::vector<CompletionOutput> pieces;
  for (parsers::ParseEvent& e : *events) {
    CompletionOutput piece;
    switch (e.kind) {
      case parsers::EventKind::kContent: piece.content = std::move(e.text); break;
      case parsers::EventKind::kThinking: piece.thinking = std::move(e.text); break;
      case parsers::EventKind::kToolCall:
        piece.tool_calls.push_back(OutputToolCall{.id = ids_ ? ids_->next() : "", .call = std::move(e.call)});
        break;
    }
    if (!piece.empty()) pieces.push_back(std::move(piece));
  }
  // The step's token logprobs ride with its last piece, or alone while the parser holds the
  // text back (Ollama sends them so, too).
  if (!logprobs.empty()) {
    if (pieces.empty()) pieces.emplace_back();
    pieces.back().logprobs = std::move(logprobs);
  }
  for (const CompletionOutput& piece : pieces) {
    sent_.append(piece);
    if (!stream_) continue;
    start_locked();
    w_->write(protocol_->chunk(piece));
  }
  return true;
}

void CompletionStream::on_event(const scheduler::JobEvent& e) {
  using T = scheduler::JobEvent::Type;
  std::lock_guard<std::mutex> lk(mu_);
  if (closed_) return;
  switch (e.type) {
    case T::kText:
      if (parser_) {
        emit_locked(parser_->feed(e.text), e.logprobs);
      } else {
        parsers::ParseEvents events;
        parsers::append_text(events, parsers::EventKind::kContent, e.text);
        emit_locked(std::move(events), e.logprobs);
      }
      return;
    case T::kDone:
      if (e.done_reason == scheduler::DoneReason::kCancelled) {
        w_->finish();  // the client is gone; nothing to say
        return;
      }
      if (parser_ && !emit_locked(parser_->finish())) return;
      if (!stream_) {
        respond_json(w_, 200, protocol_->body(e, sent_));
        return;
      }
      start_locked();
      w_->write(protocol_->stream_end(e, sent_));
      w_->finish();
      return;
    case T::kError:
      if (!started_) {
        protocol_->errors().respond_error(w_, http_status_for(e.error.code()), e.error.message());
        return;
      }
      w_->write(protocol_->stream_error(e.error.message()));
      w_->finish();
      return;
  }
}

void attach(const std::shared_ptr<scheduler::Job>& job, const Writer& w, std::shared_ptr<CompletionStream> stream) {
  {
    std::lock_guard<std::mutex> lk(stream->mu_);
    stream->job_ = job;
  }
  job->on_event = [stream](const scheduler::JobEvent& e) { stream->on_event(e); };
  std::weak_ptr<scheduler::Job> weak = job;
  w->on_client_gone([weak] {
    if (auto j = weak.lock()) j->cancel();
  });
}

void respond_rejection(const Writer& w, const scheduler::Rejection& r) {
  w->respond(http_status_for(r.status.code()), "application/json; charset=utf-8",
             json_text(ordered_json{{"error", r.status.message()}}),
             {{"Retry-After", std::to_string(r.retry_after_seconds)}});
}

void add_stats(ordered_json& j, const scheduler::JobStats& s) {
  j["total_duration"] = nanos(s.total_duration);
  // Ollama leaves load_duration out when no load happened (omitempty on a zero duration).
  if (s.load_duration.count() > 0) j["load_duration"] = nanos(s.load_duration);
  j["prompt_eval_count"] = s.prompt_tokens;
  j["prompt_eval_duration"] = nanos(s.prompt_eval_duration);
  j["eval_count"] = s.eval_count;
  j["eval_duration"] = nanos(s.eval_duration);
}

}  // namespace corral::server
