#include "server/completion_stream.h"

namespace corral::server {

CompletionStream::CompletionStream(std::shared_ptr<http::ResponseWriter> w, bool stream, ChunkRecord chunk,
                                   FinalRecord final)
    : w_(std::move(w)), stream_(stream), chunk_(std::move(chunk)), final_(std::move(final)) {}

void CompletionStream::start_locked() {
  if (started_) return;
  started_ = true;
  w_->start(200, "application/x-ndjson", {}, /*chunked=*/true);
}

namespace {
std::string line(const ordered_json& j) { return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n"; }
}  // namespace

void CompletionStream::on_event(const scheduler::JobEvent& e) {
  using T = scheduler::JobEvent::Type;
  std::lock_guard<std::mutex> lk(mu_);
  switch (e.type) {
    case T::kText:
      if (!stream_) {
        text_ += e.text;
        return;
      }
      start_locked();
      w_->write(line(chunk_(e.text)));
      return;
    case T::kDone:
      if (e.done_reason == scheduler::DoneReason::kCancelled) {
        w_->finish();  // the client is gone; nothing to say
        return;
      }
      if (!stream_) {
        respond_json(w_, 200, final_(e, text_));
        return;
      }
      start_locked();
      w_->write(line(final_(e, "")));
      w_->finish();
      return;
    case T::kError:
      if (!started_) {
        respond_error(w_, e.http_status, e.error);
        return;
      }
      w_->write(line(ordered_json{{"error", e.error}}));
      w_->finish();
      return;
  }
}

void attach(const std::shared_ptr<scheduler::Job>& job, const std::shared_ptr<http::ResponseWriter>& w,
            std::shared_ptr<CompletionStream> stream) {
  job->on_event = [stream](const scheduler::JobEvent& e) { stream->on_event(e); };
  std::weak_ptr<scheduler::Job> weak = job;
  w->on_client_gone([weak] {
    if (auto j = weak.lock()) j->cancel();
  });
}

void respond_rejection(const std::shared_ptr<http::ResponseWriter>& w, const scheduler::Rejection& r) {
  w->respond(r.http_status, "application/json; charset=utf-8", ordered_json{{"error", r.message}}.dump(),
             {{"Retry-After", std::to_string(r.retry_after_seconds)}});
}

void add_stats(ordered_json& j, const scheduler::JobStats& s) {
  j["total_duration"] = nanos(s.total_duration);
  j["load_duration"] = nanos(s.load_duration);
  j["prompt_eval_count"] = s.prompt_tokens;
  j["prompt_eval_duration"] = nanos(s.prompt_eval_duration);
  j["eval_count"] = s.eval_count;
  j["eval_duration"] = nanos(s.eval_duration);
}

}  // namespace corral::server
