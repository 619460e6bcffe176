#include "registry/http_client.h"

#include <curl/curl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <mutex>

#include <fmt/format.h>

namespace corral::registry {

namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n'))
    s.remove_suffix(1);
  return s;
}

bool is_2xx(long status) { return status >= 200 && status < 300; }

using Clock = std::chrono::steady_clock;

// State shared with curl's callbacks for one transfer.
struct Transfer {
  const HttpRequest* req = nullptr;
  HttpResponse* resp = nullptr;
  int64_t upload_pos = 0;
  bool too_large = false;
  bool upload_failed = false;
  // When a byte last moved, and the byte counts the progress callback saw then.
  Clock::time_point last_activity = Clock::now();
  curl_off_t last_down = 0, last_up = 0;
  bool stalled = false;
};

size_t on_header(char* data, size_t size, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  t->last_activity = Clock::now();  // a response head arriving slowly is not a stall
  std::string_view line(data, size * n);
  if (line.substr(0, 5) == "HTTP/") {
    // A new response head (after a redirect or an interim 100): only the last one counts.
    t->resp->headers.clear();
    size_t sp = line.find(' ');
    t->resp->status =
        sp == std::string_view::npos ? 0 : std::strtol(std::string(line.substr(sp + 1, 3)).c_str(), nullptr, 10);
    return size * n;
  }
  size_t colon = line.find(':');
  if (colon != std::string_view::npos && t->resp->headers.size() < 200) {
    t->resp->headers.emplace_back(lower(trim(line.substr(0, colon))), std::string(trim(line.substr(colon + 1))));
  }
  return size * n;
}

size_t on_body(char* data, size_t size, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const size_t len = size * n;
  // Redirect bodies are not delivered by curl when it follows them; what arrives here belongs
  // to the final response, whose status the header callback has already seen.
  if (t->req->sink && is_2xx(t->resp->status)) {
    if (!t->req->sink(*t->resp, std::string_view(data, len))) {
      t->resp->stopped = true;
      return 0;  // curl then ends the transfer with CURLE_WRITE_ERROR, which is not an error here
    }
    return len;
  }
  if (static_cast<int64_t>(t->resp->body.size() + len) > t->req->max_response_bytes) {
    t->too_large = true;
    return 0;
  }
  t->resp->body.append(data, len);
  return len;
}

size_t on_read(char* buf, size_t size, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const HttpRequest& r = *t->req;
  const int64_t total = r.upload_fd >= 0 ? r.upload_size : static_cast<int64_t>(r.body.size());
  const size_t want = static_cast<size_t>(std::min<int64_t>(static_cast<int64_t>(size * n), total - t->upload_pos));
  if (want == 0) return 0;
  if (r.upload_fd < 0) {
    std::memcpy(buf, r.body.data() + t->upload_pos, want);
    t->upload_pos += static_cast<int64_t>(want);
    return want;
  }
  ssize_t got;
  do { got = ::pread(r.upload_fd, buf, want, r.upload_offset + t->upload_pos); } while (got < 0 && errno == EINTR);
  if (got <= 0) {  // the file shrank or failed under us: the upload cannot be completed
    t->upload_failed = true;
    return CURL_READFUNC_ABORT;
  }
  t->upload_pos += got;
  return static_cast<size_t>(got);
}

int on_seek(void* user, curl_off_t offset, int origin) {
  // curl rewinds the body to resend it after a redirect or an auth retry.
  auto* t = static_cast<Transfer*>(user);
  if (origin != SEEK_SET) return CURL_SEEKFUNC_CANTSEEK;
  t->upload_pos = static_cast<int64_t>(offset);
  return CURL_SEEKFUNC_OK;
}

// curl calls this often while bytes move and about once a second while none do, so a stall is
// noticed within a second of the timeout. (curl's own LOW_SPEED_LIMIT/TIME measures an average
// rate instead: a registry sending a byte now and then would pass it, or fail a pause.)
int on_progress(void* user, curl_off_t, curl_off_t down, curl_off_t, curl_off_t up) {
  auto* t = static_cast<Transfer*>(user);
  if (t->req->cancel && t->req->cancel->load()) return 1;
  const auto now = Clock::now();
  if (down != t->last_down || up != t->last_up) {
    t->last_down = down;
    t->last_up = up;
    t->last_activity = now;
  } else if (now - t->last_activity >= t->req->stall_timeout) {
    t->stalled = true;
    return 1;
  }
  return 0;
}

// The environment's no_proxy plus the loopback names (Go's ProxyFromEnvironment never proxies
// those).
std::string no_proxy_list() {
  std::string list = "localhost,127.0.0.1,::1";
  for (const char* var : {"no_proxy", "NO_PROXY"}) {
    if (const char* v = std::getenv(var); v && *v) {
      list += ",";
      list += v;
      break;
    }
  }
  return list;
}

void global_init() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

}  // namespace

std::string HttpResponse::header(std::string_view name) const {
  const std::string key = lower(name);
  for (const auto& [k, v] : headers)
    if (k == key) return v;
  return "";
}

std::string body_excerpt(std::string_view body) {
  constexpr size_t kMax = 300;
  std::string out;
  for (char c : body.substr(0, kMax)) out.push_back(static_cast<unsigned char>(c) < 0x20 ? ' ' : c);
  if (body.size() > kMax) out += "...";
  return std::string(trim(out));
}

Result<HttpResponse> http_perform(const HttpRequest& req) {
  global_init();
  CURL* curl = curl_easy_init();
  if (!curl) return Status::error("cannot initialise libcurl");
  struct Cleanup {
    CURL* c;
    curl_slist* h = nullptr;
    ~Cleanup() {
      if (h) curl_slist_free_all(h);
      curl_easy_cleanup(c);
    }
  } cleanup{curl};

  HttpResponse resp;
  Transfer t{&req, &resp};
  const std::string no_proxy = no_proxy_list();
  curl_easy_setopt(curl, CURLOPT_URL, req.url.c_str());
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(curl, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 1L);
  curl_easy_setopt(curl, CURLOPT_MAXREDIRS, 10L);  // Ollama's limit for blob redirects
  curl_easy_setopt(curl, CURLOPT_NOPROXY, no_proxy.c_str());
  curl_easy_setopt(curl, CURLOPT_USERAGENT, "corral");
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, req.connect_timeout_s);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &t);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &t);
  curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, on_progress);
  curl_easy_setopt(curl, CURLOPT_XFERINFODATA, &t);

  if (req.method == "HEAD") {
    curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
  } else if (req.method != "GET") {
    // Every other method sends a body, possibly empty (Content-Length: 0), through the read
    // callback, so in-memory and file bodies take the same path.
    const int64_t size = req.upload_fd >= 0 ? req.upload_size : static_cast<int64_t>(req.body.size());
    curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, req.method.c_str());
    curl_easy_setopt(curl, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(size));
    curl_easy_setopt(curl, CURLOPT_READFUNCTION, on_read);
    curl_easy_setopt(curl, CURLOPT_READDATA, &t);
    curl_easy_setopt(curl, CURLOPT_SEEKFUNCTION, on_seek);
    curl_easy_setopt(curl, CURLOPT_SEEKDATA, &t);
  }
  // No "Expect: 100-continue" round trip before bodies.
  cleanup.h = curl_slist_append(cleanup.h, "Expect:");
  for (const auto& [k, v] : req.headers) cleanup.h = curl_slist_append(cleanup.h, (k + ": " + v).c_str());
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, cleanup.h);

  const CURLcode rc = curl_easy_perform(curl);
  if (req.cancel && req.cancel->load()) return Status::error("cancelled");
  if (t.stalled) {
    if (req.stalled) *req.stalled = true;
    return Status::errorf("{} {}: no data for {:.3g} s", req.method, req.url,
                          std::chrono::duration<double>(req.stall_timeout).count());
  }
  if (t.too_large) {
    return Status::errorf("{} {}: the response is larger than {} bytes", req.method, req.url, req.max_response_bytes);
  }
  if (t.upload_failed) return Status::errorf("{} {}: cannot read the data to upload", req.method, req.url);
  if (rc != CURLE_OK && !(rc == CURLE_WRITE_ERROR && resp.stopped)) {
    return Status::errorf("{} {}: {}", req.method, req.url, curl_easy_strerror(rc));
  }
  long code = 0;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &code);
  if (code != 0) resp.status = code;
  return resp;
}

}  // namespace corral::registry
