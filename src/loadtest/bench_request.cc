#include "loadtest/bench_request.h"

#include <curl/curl.h>

#include <chrono>
#include <mutex>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace corral::cli::bench {
namespace {

using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

double since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

// An error body in either family's shape: {"error": "..."} or {"error": {"message": "..."}}.
std::string error_text(const json& j) {
  if (!j.is_object() || !j.contains("error")) return "";
  const json& e = j["error"];
  if (e.is_string()) return e.get<std::string>();
  if (e.is_object() && e.contains("message") && e["message"].is_string()) return e["message"].get<std::string>();
  return e.dump();
}

int64_t int_at(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_number_integer() ? it->get<int64_t>() : 0;
}

// Reads the response as it arrives and records the token timings into `r`.
class ResponseReader {
 public:
  ResponseReader(const RequestSpec& spec, RequestResult& r, Clock::time_point t0, std::atomic<int64_t>* live)
      : spec_(spec), r_(r), t0_(t0), live_(live) {}

  void feed(const char* data, size_t n) {
    if (!streaming()) {
      body_.append(data, n);
      return;
    }
    pending_.append(data, n);
    size_t start = 0;
    for (size_t nl; (nl = pending_.find('\n', start)) != std::string::npos; start = nl + 1)
      line(std::string_view(pending_).substr(start, nl - start));
    pending_.erase(0, start);
  }

  // The transfer ended: the last unterminated line, or the whole body when not streaming.
  void finish(long status) {
    if (streaming() && status == 200) {
      if (!pending_.empty()) line(pending_);
      if (chunks_ > 0 && r_.output_tokens == 0) r_.output_tokens = chunks_;
      if (!done_ && r_.error.empty()) r_.error = "the stream ended without its final record";
      return;
    }
    const std::string& text = streaming() ? pending_ : body_;
    const json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (status != 200) {
      // A streamed error body may already have been read as a line.
      const std::string e = r_.error.empty() ? error_text(j) : r_.error;
      r_.error = e.empty() ? fmt::format("HTTP {}", status) : fmt::format("HTTP {}: {}", status, e);
      return;
    }
    if (j.is_discarded()) {
      r_.error = "unparsable response body";
      return;
    }
    if (std::string e = error_text(j); !e.empty()) r_.error = e;
    if (spec_.api == Api::kOllama) {
      r_.output_tokens = int_at(j, "eval_count");
      r_.prompt_tokens = int_at(j, "prompt_eval_count");
    } else if (j.contains("usage") && j["usage"].is_object()) {
      r_.output_tokens = int_at(j["usage"], "completion_tokens");
      r_.prompt_tokens = int_at(j["usage"], "prompt_tokens");
    }
  }

 private:
  bool streaming() const { return spec_.stream; }

  void token_chunk() {
    const double t = since(t0_);
    if (chunks_ == 0) r_.ttft_s = t;
    else r_.itl_s.push_back(static_cast<float>(t - last_chunk_s_));
    last_chunk_s_ = t;
    ++chunks_;
    if (live_) live_->fetch_add(1, std::memory_order_relaxed);
  }

  void line(std::string_view l) {
    while (!l.empty() && (l.back() == '\r' || l.back() == ' ')) l.remove_suffix(1);
    if (l.empty()) return;
    if (spec_.api == Api::kOpenAI) {
      if (!l.starts_with("data:")) return;  // event names, comments
      l.remove_prefix(5);
      while (!l.empty() && l.front() == ' ') l.remove_prefix(1);
      if (l == "[DONE]") {
        done_ = true;
        return;
      }
    }
    const json j = json::parse(l, nullptr, /*allow_exceptions=*/false);
    if (!j.is_object()) return;
    if (std::string e = error_text(j); !e.empty()) {
      r_.error = e;
      return;
    }
    if (spec_.api == Api::kOllama) {
      if (auto it = j.find("response"); it != j.end() && it->is_string() && !it->get_ref<const std::string&>().empty())
        token_chunk();
      if (j.value("done", false)) {
        done_ = true;
        r_.output_tokens = int_at(j, "eval_count");
        r_.prompt_tokens = int_at(j, "prompt_eval_count");
      }
      return;
    }
    if (auto c = j.find("choices"); c != j.end() && c->is_array() && !c->empty()) {
      const json& d = (*c)[0].value("delta", json::object());
      if (auto t = d.find("content"); t != d.end() && t->is_string() && !t->get_ref<const std::string&>().empty())
        token_chunk();
    }
    if (auto u = j.find("usage"); u != j.end() && u->is_object()) {
      r_.output_tokens = int_at(*u, "completion_tokens");
      r_.prompt_tokens = int_at(*u, "prompt_tokens");
    }
  }

  const RequestSpec& spec_;
  RequestResult& r_;
  Clock::time_point t0_;
  std::atomic<int64_t>* live_;
  std::string pending_, body_;
  int64_t chunks_ = 0;
  double last_chunk_s_ = 0;
  bool done_ = false;
};

struct Transfer {
  ResponseReader* reader;
  const std::atomic<bool>* abort;
};

size_t on_write(char* data, size_t size, size_t n, void* user) {
  static_cast<Transfer*>(user)->reader->feed(data, size * n);
  return size * n;
}

int on_progress(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  const auto* abort = static_cast<Transfer*>(user)->abort;
  return abort && abort->load(std::memory_order_relaxed) ? 1 : 0;
}

size_t append(char* data, size_t size, size_t n, void* out) {
  static_cast<std::string*>(out)->append(data, size * n);
  return size * n;
}

void init_curl() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

}  // namespace

Result<nlohmann::json> json_call(const std::string& method, const std::string& url, const nlohmann::json& body,
                                 double timeout_s) {
  init_curl();
  CURL* c = curl_easy_init();
  curl_slist* headers = curl_slist_append(nullptr, "Content-Type: application/json");
  std::string out, payload = body.is_null() ? "" : body.dump();
  char errbuf[CURL_ERROR_SIZE] = {0};
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method.c_str());
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
  if (!body.is_null()) {
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, payload.c_str());
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(payload.size()));
  }
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, append);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &out);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(timeout_s * 1000));
  const CURLcode rc = curl_easy_perform(c);
  long status = 0;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
  curl_slist_free_all(headers);
  curl_easy_cleanup(c);
  if (rc != CURLE_OK) return Status::errorf("{}: {}", url, errbuf[0] ? errbuf : curl_easy_strerror(rc));
  json j = out.empty() ? json(nullptr) : json::parse(out, nullptr, /*allow_exceptions=*/false);
  if (status < 200 || status >= 300) {
    const std::string e = error_text(j);
    return Status::errorf("{} {}: HTTP {}{}", method, url, status, e.empty() ? "" : ": " + e);
  }
  if (j.is_discarded()) return Status::errorf("{} {}: the answer is not JSON", method, url);
  return j;
}

const char* request_path(Api api) { return api == Api::kOllama ? "/api/generate" : "/v1/chat/completions"; }

std::string request_body(const RequestSpec& s) {
  if (s.api == Api::kOllama) {
    return json{
        {"model", s.model}, {"prompt", s.prompt}, {"stream", s.stream}, {"options", {{"num_predict", s.num_predict}}}}
        .dump();
  }
  json b{{"model", s.model},
         {"messages", json::array({{{"role", "user"}, {"content", s.prompt}}})},
         {"max_tokens", s.num_predict},
         {"stream", s.stream}};
  // Without it a stream carries no token counts.
  if (s.stream) b["stream_options"] = {{"include_usage", true}};
  return b.dump();
}

RequestResult send_request(const RequestSpec& spec, std::atomic<int64_t>* live_tokens, const std::atomic<bool>* abort) {
  init_curl();
  RequestResult r;
  const std::string url = spec.base_url + request_path(spec.api);
  const std::string body = request_body(spec);
  CURL* c = curl_easy_init();
  curl_slist* headers = curl_slist_append(nullptr, "Content-Type: application/json");
  for (const std::string& h : spec.headers) headers = curl_slist_append(headers, h.c_str());
  char errbuf[CURL_ERROR_SIZE] = {0};
  const auto t0 = Clock::now();
  ResponseReader reader(spec, r, t0, live_tokens);
  Transfer transfer{&reader, abort};
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(c, CURLOPT_POSTFIELDS, body.c_str());
  curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_write);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &transfer);
  curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
  curl_easy_setopt(c, CURLOPT_XFERINFODATA, &transfer);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(spec.timeout_s * 1000));
  // Every worker has its own connection, like `hey -c N`: the server sees N clients.
  curl_easy_setopt(c, CURLOPT_TCP_NODELAY, 1L);
  const CURLcode rc = curl_easy_perform(c);
  r.e2e_s = since(t0);
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r.status);
  curl_slist_free_all(headers);
  curl_easy_cleanup(c);
  if (rc != CURLE_OK) {
    r.error = rc == CURLE_ABORTED_BY_CALLBACK ? "aborted" : (errbuf[0] ? errbuf : curl_easy_strerror(rc));
    if (rc == CURLE_OPERATION_TIMEDOUT) r.status = 0;
    return r;
  }
  reader.finish(r.status);
  return r;
}

}  // namespace corral::cli::bench
