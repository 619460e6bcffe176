#include "common/http_client.h"

#include <curl/curl.h>

#include <algorithm>
#include <mutex>

namespace corral::testing {
namespace {

struct Ctx {
  HttpResponse* r;
  std::function<bool(const std::string&)>* on_data;
};

size_t write_cb(char* p, size_t size, size_t n, void* ud) {
  auto* c = static_cast<Ctx*>(ud);
  std::string chunk(p, size * n);
  if (*c->on_data && !(*c->on_data)(chunk)) return 0;  // abort
  c->r->body += chunk;
  return size * n;
}

size_t header_cb(char* p, size_t size, size_t n, void* ud) {
  auto* r = static_cast<HttpResponse*>(ud);
  std::string line(p, size * n);
  const auto colon = line.find(':');
  if (colon != std::string::npos) {
    std::string k = line.substr(0, colon), v = line.substr(colon + 1);
    std::transform(k.begin(), k.end(), k.begin(), ::tolower);
    while (!v.empty() && (v.front() == ' ')) v.erase(0, 1);
    while (!v.empty() && (v.back() == '\r' || v.back() == '\n' || v.back() == ' ')) v.pop_back();
    r->headers[k] = v;
  }
  return size * n;
}

}  // namespace

HttpResponse http_request(const std::string& method, const std::string& url, const std::string& body,
                          std::function<bool(const std::string&)> on_data, long timeout_s) {
  static std::once_flag init;
  std::call_once(init, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  HttpResponse r;
  CURL* c = curl_easy_init();
  Ctx ctx{&r, &on_data};
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method.c_str());
  if (method == "HEAD") curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
  curl_slist* hdrs = nullptr;
  if (!body.empty() || method == "POST") {
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body.c_str());
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
    hdrs = curl_slist_append(hdrs, "Content-Type: application/json");
    hdrs = curl_slist_append(hdrs, "Expect:");
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
  }
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, write_cb);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &ctx);
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, header_cb);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, &r);
  curl_easy_setopt(c, CURLOPT_TIMEOUT, timeout_s);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  CURLcode rc = curl_easy_perform(c);
  if (rc != CURLE_OK) r.error = curl_easy_strerror(rc);
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r.status);
  if (hdrs) curl_slist_free_all(hdrs);
  curl_easy_cleanup(c);
  return r;
}

}  // namespace corral::testing
