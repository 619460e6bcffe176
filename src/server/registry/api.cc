// POST /api/pull and POST /api/push: {"model" (or the older "name"), "insecure", "stream"}.
// The transfer runs on a worker; progress goes out as Ollama's api.ProgressResponse records,
// one NDJSON line each ({"status","digest","total","completed"}, empty fields left out as Go's
// omitempty does), ending in {"status":"success"} or {"error": ...}. With "stream": false only
// the final record is sent, or the error with status 500 (Ollama's waitForStream). A client
// that disconnects cancels the transfer; downloaded bytes stay for the next pull.
#include <mutex>

#include <spdlog/spdlog.h>

#include "registry/pull.h"
#include "registry/push.h"
#include "server/api_common.h"
#include "server/registry/service.h"
#include "server/request_fields.h"

namespace corral::server {

namespace {

ordered_json progress_json(const registry::Progress& p) {
  ordered_json j{{"status", p.status}};
  if (!p.digest.empty()) j["digest"] = p.digest;
  if (p.total != 0) j["total"] = p.total;
  if (p.completed != 0) j["completed"] = p.completed;
  return j;
}

// Turns progress reports into the response; called from the worker thread only.
class ProgressOut {
 public:
  ProgressOut(Writer w, bool stream) : w_(std::move(w)), stream_(stream) {
    if (stream_) w_->start(200, "application/x-ndjson", {}, /*chunked=*/true);
  }

  void report(const registry::Progress& p) {
    if (stream_) {
      w_->write(json_text(progress_json(p)) + "\n");
    } else {
      last_ = p;
    }
  }

  void finish(const Status& st) {
    if (stream_) {
      if (!st) w_->write(json_text(ordered_json{{"error", st.message()}}) + "\n");
      w_->finish();
    } else if (st) {
      respond_json(w_, 200, progress_json(last_));
    } else {
      respond_error(w_, 500, st.message());
    }
  }

 private:
  Writer w_;
  const bool stream_;
  registry::Progress last_;
};

struct TransferRequest {
  std::string name;
  bool insecure = false;
  bool stream = true;
};

// Ollama answers these with 400 before any streaming starts.
Result<TransferRequest> parse_transfer_request(const std::string& body) {
  CORRAL_ASSIGN_OR_RETURN(ordered_json j, parse_body(body));
  TransferRequest r;
  CORRAL_RETURN_IF_ERROR(read_name(j, {"model", "name"}, &r.name));  // "name" is the deprecated spelling
  if (!store::ModelName::parse(r.name)) return Status::error("invalid model name");
  CORRAL_RETURN_IF_ERROR(read_bool(j, "insecure", &r.insecure));
  CORRAL_RETURN_IF_ERROR(read_bool(j, "stream", &r.stream));
  return r;
}

using Transfer = Status (*)(const store::Store&, const TransferRequest&, const registry::ProgressFn&,
                            const registry::CancelFlag&);

void run_transfer(const Service& svc, http::Request&& req, Writer w, const char* what, Transfer transfer) {
  auto parsed = parse_transfer_request(req.body);
  if (!parsed) return respond_error(w, 400, parsed.error());
  auto cancel = std::make_shared<registry::CancelFlag>(false);
  w->on_client_gone([cancel] { cancel->store(true); });
  const bool started = svc->spawn([svc, w, cancel, r = std::move(*parsed), what, transfer] {
    ProgressOut out(w, r.stream);
    Status st = transfer(
        svc->store(), r, [&out](const registry::Progress& p) { out.report(p); }, *cancel);
    if (!st) spdlog::info("{} {}: {}", what, r.name, cancel->load() ? "cancelled (client gone)" : st.message());
    out.finish(st);
  });
  if (!started) respond_error(w, 503, "too many transfers in progress, try again later");
}

Status do_pull(const store::Store& store, const TransferRequest& r, const registry::ProgressFn& progress,
               const registry::CancelFlag& cancel) {
  registry::PullOptions opt = registry::pull_options_from_env();
  opt.insecure = r.insecure;
  return registry::pull_model(store, r.name, opt, progress, cancel);
}

Status do_push(const store::Store& store, const TransferRequest& r, const registry::ProgressFn& progress,
               const registry::CancelFlag& cancel) {
  registry::PushOptions opt;
  opt.insecure = r.insecure;
  return registry::push_model(store, r.name, opt, progress, cancel);
}

}  // namespace

void handle_pull(const Service& svc, http::Request&& req, Writer w) {
  run_transfer(svc, std::move(req), std::move(w), "pull", do_pull);
}

void handle_push(const Service& svc, http::Request&& req, Writer w) {
  run_transfer(svc, std::move(req), std::move(w), "push", do_push);
}

}  // namespace corral::server
