#include "server/completion_stream.h"

#include "server/status_http.h"

namespace corral::server {
namespace {

std::string line(const ordered_json& j) { return json_text(j) + "\n"; }

// Ollama's streaming format: one JSON record per line, the last one with done: true. Ollama
// has no n: a response has one choice.
class NdjsonProtocol final : public CompletionProtocol {
 public:
  NdjsonProtocol(CompletionStream::ChunkRecord chunk, CompletionStream::FinalRecord final)
      : chunk_(std::move(chunk)), final_(std::move(final)) {}
  const ErrorShape& errors() const override { return kOllamaErrors; }
  std::string stream_content_type() const override { return "application/x-ndjson"; }
  std::string chunk(const CompletionOutput& piece, int) override { return line(chunk_(piece)); }
  std::string stream_end(const std::vector<FinishedChoice>& choices) override {
    return line(final_(choices.front().done, CompletionOutput{}));
  }
  std::string stream_error(const std::string& message) override { return line(ordered_json{{"error", message}}); }
  ordered_json body(const std::vector<FinishedChoice>& choices) override {
    return final_(choices.front().done, choices.front().output);
  }

 private:
  CompletionStream::ChunkRecord chunk_;
  CompletionStream::FinalRecord final_;
};

}  // namespace

void CompletionOutput::append(const CompletionOutput& piece) {
  content += piece.content;
  thinking += piece.thinking;
  tool_calls.insert(tool_calls.end(), piece.tool_calls.begin(), piece.tool_calls.end());
  logprobs.insert(logprobs.end(), piece.logprobs.begin(), piece.logprobs.end());
}

CompletionStream::CompletionStream(Writer w, bool stream, ChunkRecord chunk, FinalRecord final)
    : CompletionStream(std::move(w), stream, std::make_unique<NdjsonProtocol>(std::move(chunk), std::move(final))) {}

CompletionStream::CompletionStream(Writer w, bool stream, std::unique_ptr<CompletionProtocol> protocol, int n_choices)
    : w_(std::move(w)), stream_(stream), protocol_(std::move(protocol)), choices_(static_cast<size_t>(n_choices)) {}

void CompletionStream::start_locked() {
  if (started_) return;
  started_ = true;
  w_->start(200, protocol_->stream_content_type(), placement_headers_locked(), /*chunked=*/true);
}

http::HeaderList CompletionStream::placement_headers_locked() const {
  if (!placement_ || !placement_->known) return {};
  return {{"x-corral-queue-position", std::to_string(placement_->position)},
          {"x-corral-queue-eta-ms", std::to_string(placement_->eta_ms)}};
}

void CompletionStream::set_parser(int choice, std::unique_ptr<parsers::OutputParser> parser, uint64_t id_seed) {
  std::lock_guard<std::mutex> lk(mu_);
  Choice& c = choices_.at(static_cast<size_t>(choice));
  c.parser = std::move(parser);
  c.ids.emplace(id_seed);
}

void CompletionStream::close_locked() {
  closed_ = true;
  for (Choice& c : choices_)
    if (auto job = c.job.lock()) job->cancel();
}

void CompletionStream::fail_locked(const Status& error) {
  close_locked();
  if (!started_) {
    respond_status(w_, protocol_->errors(), error);
    return;
  }
  w_->write(protocol_->stream_error(error.message()));
  w_->finish();
}

void CompletionStream::reject(const scheduler::Rejection& r) {
  std::lock_guard<std::mutex> lk(mu_);
  if (closed_) return;
  close_locked();
  if (!started_) {
    respond_rejection(w_, protocol_->errors(), r);
    return;
  }
  w_->write(protocol_->stream_error(r.status.message()));
  w_->finish();
}

bool CompletionStream::emit_locked(int choice, Result<parsers::ParseEvents> events,
                                   std::vector<engine::TokenLogprob> logprobs) {
  if (!events) {
    // A malformed tool call: Ollama ends the response with the parser's error (a 500 when
    // nothing was sent yet).
    fail_locked(events.status().with_code(StatusCode::kInternal));
    return false;
  }
  Choice& c = choices_[static_cast<size_t>(choice)];
  std::vector<CompletionOutput> pieces;
  for (parsers::ParseEvent& e : *events) {
    CompletionOutput piece;
    switch (e.kind) {
      case parsers::EventKind::kContent: piece.content = std::move(e.text); break;
      case parsers::EventKind::kThinking: piece.thinking = std::move(e.text); break;
      case parsers::EventKind::kToolCall:
        piece.tool_calls.push_back(OutputToolCall{.id = c.ids ? c.ids->next() : "", .call = std::move(e.call)});
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
    c.result.output.append(piece);
    if (!stream_) continue;
    start_locked();
    w_->write(protocol_->chunk(piece, choice));
  }
  return true;
}

void CompletionStream::finish_choice_locked(int choice, const scheduler::JobEvent& done) {
  Choice& c = choices_[static_cast<size_t>(choice)];
  if (c.parser && !emit_locked(choice, c.parser->finish())) return;
  c.result.done = done;
  c.finished = true;
  if (++n_finished_ < choices_.size()) return;
  std::vector<FinishedChoice> results;
  results.reserve(choices_.size());
  for (Choice& f : choices_) results.push_back(std::move(f.result));
  if (!stream_) {
    w_->respond(200, "application/json; charset=utf-8", json_text(protocol_->body(results)),
                placement_headers_locked());
    return;
  }
  start_locked();
  w_->write(protocol_->stream_end(results));
  w_->finish();
}

void CompletionStream::on_event(int choice, const scheduler::JobEvent& e) {
  using T = scheduler::JobEvent::Type;
  std::lock_guard<std::mutex> lk(mu_);
  if (closed_ || choices_[static_cast<size_t>(choice)].finished) return;
  if (!placement_) {
    if (auto job = choices_[static_cast<size_t>(choice)].job.lock()) placement_ = job->placement;
  }
  switch (e.type) {
    case T::kText: {
      Choice& c = choices_[static_cast<size_t>(choice)];
      if (c.parser) {
        emit_locked(choice, c.parser->feed(e.text), e.logprobs);
      } else {
        parsers::ParseEvents events;
        parsers::append_text(events, parsers::EventKind::kContent, e.text);
        emit_locked(choice, std::move(events), e.logprobs);
      }
      return;
    }
    case T::kDone:
      if (e.done_reason == scheduler::DoneReason::kCancelled) {
        close_locked();
        w_->finish();  // the client is gone; nothing to say
        return;
      }
      finish_choice_locked(choice, e);
      return;
    case T::kError:
      if (e.retry_after_seconds > 0 && !started_) {
        // Its deadline passed in the queue: answered as the scheduler's refusal would be.
        close_locked();
        respond_rejection(w_, protocol_->errors(), scheduler::Rejection{e.error, e.retry_after_seconds});
        return;
      }
      // One choice failing fails the response: the others are cancelled.
      fail_locked(e.error);
      return;
  }
}

void attach(const std::shared_ptr<scheduler::Job>& job, const Writer& w, std::shared_ptr<CompletionStream> stream,
            int choice) {
  {
    std::lock_guard<std::mutex> lk(stream->mu_);
    stream->choices_.at(static_cast<size_t>(choice)).job = job;
  }
  job->on_event = [stream, choice](const scheduler::JobEvent& e) { stream->on_event(choice, e); };
  std::weak_ptr<scheduler::Job> weak = job;
  w->on_client_gone([weak] {
    if (auto j = weak.lock()) j->cancel();
  });
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
