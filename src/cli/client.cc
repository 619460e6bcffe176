#include "cli/client.h"

#include <curl/curl.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <mutex>

#include <fmt/format.h>

#include "server/ollama/host.h"

namespace corral::cli {

std::atomic<bool> g_cancel{false};

namespace {

// One easy handle with the settings every call shares.
class Easy {
 public:
  Easy(const std::string& method, const std::string& url) : url_(url) {
    static std::once_flag init;
    std::call_once(init, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
    c_ = curl_easy_init();
    curl_easy_setopt(c_, CURLOPT_URL, url.c_str());
    if (method == "HEAD") curl_easy_setopt(c_, CURLOPT_NOBODY, 1L);
    else if (method != "GET") curl_easy_setopt(c_, CURLOPT_CUSTOMREQUEST, method.c_str());
    curl_easy_setopt(c_, CURLOPT_USERAGENT, "corral/" CORRAL_VERSION);
    curl_easy_setopt(c_, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c_, CURLOPT_CONNECTTIMEOUT, 30L);
    curl_easy_setopt(c_, CURLOPT_ERRORBUFFER, errbuf_);
    curl_easy_setopt(c_, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(c_, CURLOPT_XFERINFOFUNCTION, &Easy::on_progress);
    curl_easy_setopt(c_, CURLOPT_XFERINFODATA, this);
  }
  ~Easy() {
    if (headers_) curl_slist_free_all(headers_);
    curl_easy_cleanup(c_);
  }
  Easy(const Easy&) = delete;
  Easy& operator=(const Easy&) = delete;

  CURL* get() { return c_; }
  void header(const char* h) { headers_ = curl_slist_append(headers_, h); }
  void json_body(const std::string& body) {
    body_ = body;
    curl_easy_setopt(c_, CURLOPT_POSTFIELDS, body_.c_str());
    curl_easy_setopt(c_, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body_.size()));
    header("Content-Type: application/json");
  }
  // Upload progress for Client::upload.
  std::function<void(int64_t, int64_t)> upload_progress;

  // Runs the transfer; a transport failure is an error (nothing listening: kUnavailable with
  // kNotRunning's text; Ctrl-C: kCancelled).
  Status perform(long* status) {
    header("Accept: application/json");
    // A server with CORRAL_API_KEYS wants one of its keys as a bearer token. (OLLAMA_API_KEY is
    // not sent: it is an ollama.com account key, which ollama-js sends only to https://ollama.com,
    // and it must not leak to whatever OLLAMA_HOST names.)
    if (const char* key = std::getenv("CORRAL_API_KEY"); key && *key) {
      auth_ = fmt::format("Authorization: Bearer {}", key);
      header(auth_.c_str());
    }
    curl_easy_setopt(c_, CURLOPT_HTTPHEADER, headers_);
    const CURLcode rc = curl_easy_perform(c_);
    *status = 0;
    curl_easy_getinfo(c_, CURLINFO_RESPONSE_CODE, status);
    if (rc == CURLE_OK) return Status::ok();
    if (rc == CURLE_ABORTED_BY_CALLBACK && g_cancel.load()) return Status::cancelled(kCancelled);
    if (rc == CURLE_COULDNT_CONNECT) return Status::unavailable(kNotRunning);
    return Status::errorf(StatusCode::kUnavailable, "{}: {}", url_, errbuf_[0] ? errbuf_ : curl_easy_strerror(rc));
  }

 private:
  static int on_progress(void* self, curl_off_t, curl_off_t, curl_off_t ultotal, curl_off_t ulnow) {
    auto* e = static_cast<Easy*>(self);
    if (e->upload_progress && ultotal > 0) e->upload_progress(ulnow, ultotal);
    return g_cancel.load() ? 1 : 0;
  }

  CURL* c_;
  std::string url_;
  curl_slist* headers_ = nullptr;
  std::string body_;
  std::string auth_;
  char errbuf_[CURL_ERROR_SIZE] = {};
};

size_t append_to_string(char* p, size_t size, size_t n, void* out) {
  static_cast<std::string*>(out)->append(p, size * n);
  return size * n;
}

// The message of an error answer: Ollama's {"error": "..."}, OpenAI's {"error": {"message"}},
// else the body itself when it is short text, else the status.
std::string error_message(long status, const std::string& body) {
  if (status == 401) {
    const char* key = std::getenv("CORRAL_API_KEY");
    return fmt::format("{} ({})", error_message(0, body),
                       key && *key ? "CORRAL_API_KEY is not one of the server's keys"
                                   : "the server requires an API key: set CORRAL_API_KEY");
  }
  json j = json::parse(body, nullptr, false);
  if (j.is_object() && j.contains("error")) {
    const json& e = j["error"];
    if (e.is_string()) return e.get<std::string>();
    if (e.is_object() && e.contains("message") && e["message"].is_string()) return e["message"].get<std::string>();
  }
  std::string t = body;
  while (!t.empty() && (t.back() == '\n' || t.back() == '\r' || t.back() == ' ')) t.pop_back();
  if (!t.empty() && t.size() <= 200 && t.find('\n') == std::string::npos) return t;
  return fmt::format("server answered HTTP {}", status);
}

// An error answer as a typed error: the CLI decides by its kind (a missing model, a full
// queue), never by the server's wording.
Status http_error(long status, const std::string& body) {
  StatusCode code = StatusCode::kInternal;
  if (status == 400 || status == 413 || status == 422) code = StatusCode::kInvalidArgument;
  else if (status == 401 || status == 403) code = StatusCode::kPermissionDenied;
  else if (status == 404) code = StatusCode::kNotFound;
  else if (status == 429) code = StatusCode::kResourceExhausted;
  else if (status == 501) code = StatusCode::kUnimplemented;
  else if (status == 503) code = StatusCode::kUnavailable;
  return Status::error(code, error_message(status, body));
}

}  // namespace

Result<Client> Client::from_env() {
  auto host = server::ollama_host_from_env();
  if (!host) return host.status();
  // A server listening on every interface is reached through loopback, as Ollama's client does.
  if (host->host == "0.0.0.0") host->host = "127.0.0.1";
  if (host->host == "::") host->host = "::1";
  return Client(host->url());
}

Result<json> Client::call(const std::string& method, const std::string& path, const ordered_json& body) {
  Easy e(method, base_ + path);
  std::string out;
  curl_easy_setopt(e.get(), CURLOPT_WRITEFUNCTION, append_to_string);
  curl_easy_setopt(e.get(), CURLOPT_WRITEDATA, &out);
  if (!body.is_null()) e.json_body(body.dump(-1, ' ', false, json::error_handler_t::replace));
  CORRAL_RETURN_IF_ERROR(e.perform(&last_status_));
  if (last_status_ >= 400) return http_error(last_status_, out);
  if (out.empty()) return json(nullptr);
  json j = json::parse(out, nullptr, false);
  if (j.is_discarded()) return Status::errorf("invalid response from the server: {}", out.substr(0, 200));
  return j;
}

Status Client::stream(const std::string& path, const ordered_json& body,
                      const std::function<bool(const json&)>& on_record) {
  Easy e("POST", base_ + path);
  struct State {
    CURL* c;
    const std::function<bool(const json&)>* on_record;
    std::string pending;   // bytes of an unfinished line, or a whole error body
    std::string error;     // an {"error"} record or an unparsable line
    bool stopped = false;  // the caller asked to stop
  } st{e.get(), &on_record, {}, {}, false};
  auto on_data = +[](char* p, size_t size, size_t n, void* ud) -> size_t {
    auto* s = static_cast<State*>(ud);
    s->pending.append(p, size * n);
    long code = 0;
    curl_easy_getinfo(s->c, CURLINFO_RESPONSE_CODE, &code);
    if (code >= 400) return size * n;  // an error body: read whole, reported after
    size_t nl;
    while ((nl = s->pending.find('\n')) != std::string::npos) {
      std::string line = s->pending.substr(0, nl);
      s->pending.erase(0, nl + 1);
      if (line.find_first_not_of(" \r\t") == std::string::npos) continue;
      json rec = json::parse(line, nullptr, false);
      if (rec.is_discarded()) {
        s->error = "invalid response from the server: " + line.substr(0, 200);
        return 0;
      }
      if (rec.is_object() && rec.contains("error")) {
        s->error = error_message(200, line);
        return 0;
      }
      if (!(*s->on_record)(rec)) {
        s->stopped = true;
        return 0;
      }
    }
    return size * n;
  };
  curl_easy_setopt(e.get(), CURLOPT_WRITEFUNCTION, on_data);
  curl_easy_setopt(e.get(), CURLOPT_WRITEDATA, &st);
  e.json_body(body.dump(-1, ' ', false, json::error_handler_t::replace));
  const Status transport = e.perform(&last_status_);
  // An error answer's body arrives as an error record: its kind comes from the HTTP status.
  if (last_status_ >= 400 && !st.error.empty()) return Status::error(http_error(last_status_, "").code(), st.error);
  if (!st.error.empty()) return Status::internal(st.error);  // failed mid-stream (status 200 was sent)
  if (st.stopped) return Status::ok();
  CORRAL_RETURN_IF_ERROR(transport);
  if (last_status_ >= 400) return http_error(last_status_, st.pending);
  if (!st.pending.empty()) {  // a last record without its newline
    json rec = json::parse(st.pending, nullptr, false);
    if (rec.is_object() && rec.contains("error")) return Status::error(error_message(200, st.pending));
    if (!rec.is_discarded()) on_record(rec);
  }
  return Status::ok();
}

Result<bool> Client::exists(const std::string& path) {
  Easy e("HEAD", base_ + path);
  CORRAL_RETURN_IF_ERROR(e.perform(&last_status_));
  if (last_status_ == 200) return true;
  if (last_status_ == 404) return false;
  return Status::errorf("HEAD {}: server answered HTTP {}", path, last_status_);
}

Status Client::upload(const std::string& path, const std::string& file,
                      const std::function<void(int64_t, int64_t)>& progress) {
  const int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Status::errorf("open {}: {}", file, std::strerror(errno));
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  struct stat sb;
  if (::fstat(fd, &sb) != 0) return Status::errorf("stat {}: {}", file, std::strerror(errno));

  Easy e("POST", base_ + path);
  std::string out;
  curl_easy_setopt(e.get(), CURLOPT_POST, 1L);
  curl_easy_setopt(e.get(), CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(sb.st_size));
  auto on_read = +[](char* buf, size_t size, size_t n, void* ud) -> size_t {
    const int f = *static_cast<int*>(ud);
    for (;;) {
      const ssize_t r = ::read(f, buf, size * n);
      if (r < 0 && errno == EINTR) continue;
      return r < 0 ? CURL_READFUNC_ABORT : static_cast<size_t>(r);
    }
  };
  int fd_copy = fd;
  curl_easy_setopt(e.get(), CURLOPT_READFUNCTION, on_read);
  curl_easy_setopt(e.get(), CURLOPT_READDATA, &fd_copy);
  curl_easy_setopt(e.get(), CURLOPT_WRITEFUNCTION, append_to_string);
  curl_easy_setopt(e.get(), CURLOPT_WRITEDATA, &out);
  e.header("Content-Type: application/octet-stream");
  e.upload_progress = progress;
  CORRAL_RETURN_IF_ERROR(e.perform(&last_status_));
  if (last_status_ >= 400) return http_error(last_status_, out);
  return Status::ok();
}

int fail(const std::string& message) {
  fmt::print(stderr, "Error: {}\n", message);
  return 1;
}

}  // namespace corral::cli
