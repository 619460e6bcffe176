#include "registry/blob_download.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "base/quote.h"
#include "registry/byte_range.h"
#include "registry/http_client.h"

namespace corral::registry {

namespace {

using Clock = std::chrono::steady_clock;
constexpr auto kTick = std::chrono::milliseconds(60);  // Ollama's progress ticker
// How often a running part records its progress on disk: after a crash at most this much of
// each part is fetched again.
constexpr auto kSaveEvery = std::chrono::seconds(1);

enum class Outcome { kDone, kRetry, kFatal, kStopped };

bool retryable_status(long s) { return s == 408 || s == 429 || s >= 500; }

class Downloader {
 public:
  Downloader(PartialBlob& blob, const std::string& url, const DownloadOptions& options)
      : blob_(blob), url_(url), opt_(options), done_(blob.parts().size()) {
    for (size_t i = 0; i < done_.size(); ++i) done_[i].store(blob.parts()[i].completed);
  }

  Status run(const std::function<void(int64_t)>& on_progress, const CancelFlag& cancel) {
    size_t incomplete = 0;
    for (const PartState& p : blob_.parts()) incomplete += p.completed < p.size ? 1 : 0;
    const size_t n_threads = std::min<size_t>(incomplete, std::max(1, opt_.max_connections));
    running_ = static_cast<int>(n_threads);
    std::vector<std::thread> threads;
    for (size_t t = 0; t < n_threads; ++t) {
      threads.emplace_back([this] {
        work();
        std::lock_guard lock(mu_);
        --running_;
        cv_.notify_all();
      });
    }
    while (true) {
      std::unique_lock lock(mu_);
      cv_.wait_for(lock, kTick, [&] { return running_ == 0; });
      const bool finished = running_ == 0;
      lock.unlock();
      if (cancel.load()) stop_.store(true);
      if (on_progress) on_progress(completed());
      if (finished) break;
    }
    for (auto& t : threads) t.join();
    if (cancel.load()) return Status::error("cancelled");
    if (!error_.is_ok()) return error_;
    if (!blob_.complete()) return Status::error("download ended early");  // not expected
    return Status::ok();
  }

 private:
  int64_t completed() const {
    int64_t sum = 0;
    for (const auto& d : done_) sum += d.load();
    return sum;
  }

  void fail(Status st) {
    std::lock_guard lock(mu_);
    if (error_.is_ok()) error_ = std::move(st);
    stop_.store(true);
  }

  // Sleeps `d`, waking early when the download is stopped.
  void pause(std::chrono::milliseconds d) {
    const auto until = Clock::now() + d;
    while (!stop_.load() && Clock::now() < until) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }

  void work() {
    auto& parts = blob_.parts();
    while (!stop_.load()) {
      size_t i;
      {
        std::lock_guard lock(mu_);
        while (next_ < parts.size() && parts[next_].completed == parts[next_].size) ++next_;
        if (next_ == parts.size()) return;
        i = next_++;
      }
      int fruitless = 0;
      while (true) {
        const int64_t before = parts[i].completed;
        Status err;
        const Outcome o = fetch(i, &err);
        if (o == Outcome::kDone) break;
        if (o == Outcome::kStopped) return;
        if (o == Outcome::kFatal) return fail(std::move(err));
        fruitless = parts[i].completed > before ? 0 : fruitless + 1;
        if (fruitless >= opt_.max_fruitless_tries) {
          return fail(err.with_context(fmt::format("giving up after {} attempts without data", fruitless)));
        }
        if (fruitless > 0) pause(std::chrono::milliseconds(opt_.retry_base_ms << (fruitless - 1)));
        if (stop_.load()) return;
      }
    }
  }

  // One ranged GET for the rest of part i.
  Outcome fetch(size_t i, Status* err) {
    PartState& part = blob_.parts()[i];
    const int64_t start = part.offset + part.completed;
    const int64_t last = part.offset + part.size - 1;
    HttpRequest req;
    req.url = url_;
    req.headers = {{"Range", fmt::format("bytes={}-{}", start, last)}};
    req.cancel = &stop_;
    req.stall_timeout = opt_.stall_timeout;
    bool stalled = false;
    req.stalled = &stalled;
    int64_t skip = -1;  // bytes before `start` still to discard (a 200 sends the whole blob)
    Status failure;
    auto last_save = Clock::now();
    req.sink = [&](const HttpResponse& head, std::string_view data) -> bool {
      if (skip < 0) {
        if (head.status == 206) {
          auto cr = parse_content_range(head.header("content-range"));
          if (!cr || cr->range.first != start) {
            failure = Status::errorf("asked for bytes {}-{}, got Content-Range {}", start, last,
                                     quote_text(head.header("content-range").substr(0, 100)));
            return false;
          }
          if (cr->size >= 0 && cr->size != blob_.size()) {
            failure = Status::errorf("the registry has {} bytes for it, the manifest says {}", cr->size, blob_.size());
            return false;
          }
          skip = 0;
        } else {
          skip = start;  // a server that ignores Range: read past what we already have
        }
      }
      if (skip > 0) {
        const size_t k = static_cast<size_t>(std::min<int64_t>(skip, static_cast<int64_t>(data.size())));
        data.remove_prefix(k);
        skip -= static_cast<int64_t>(k);
      }
      const size_t n =
          static_cast<size_t>(std::min<int64_t>(part.size - part.completed, static_cast<int64_t>(data.size())));
      size_t written = 0;
      while (written < n) {
        ssize_t w = ::pwrite(blob_.fd(), data.data() + written, n - written,
                             part.offset + part.completed + static_cast<int64_t>(written));
        if (w < 0 && errno == EINTR) continue;
        if (w < 0) {
          failure = Status::errorf("cannot write the partial blob: {}", std::strerror(errno));
          return false;
        }
        written += static_cast<size_t>(w);
      }
      part.completed += static_cast<int64_t>(n);
      done_[i].store(part.completed);
      if (part.completed == part.size) return false;  // ours is all here; anything more is not ours
      if (Clock::now() - last_save >= kSaveEvery) {
        last_save = Clock::now();
        Status s = blob_.sync_data();
        if (s) s = blob_.save_part(i);
        if (!s) {
          failure = s;
          return false;
        }
      }
      return true;
    };
    auto resp = http_perform(req);
    // Whatever happened, record what arrived (a sync first: the record must not run ahead).
    Status saved = blob_.sync_data();
    if (saved) saved = blob_.save_part(i);
    if (!failure.is_ok()) {
      *err = failure;
      return Outcome::kFatal;
    }
    if (!saved) {
      *err = saved;
      return Outcome::kFatal;
    }
    if (part.completed == part.size) return Outcome::kDone;
    if (stalled) {
      *err = Status::errorf(
          "the registry sent nothing for {:.3g} s (CORRAL_PULL_STALL_TIMEOUT) at byte {} of {}; "
          "what arrived is kept for the next pull",
          std::chrono::duration<double>(opt_.stall_timeout).count(), part.offset + part.completed, blob_.size());
      return Outcome::kFatal;
    }
    if (!resp) {
      if (stop_.load()) return Outcome::kStopped;
      *err = resp.status();
      return Outcome::kRetry;
    }
    if (resp->status < 200 || resp->status >= 300) {
      *err = Status::errorf("GET {}: {} {}", url_, resp->status, body_excerpt(resp->body));
      return retryable_status(resp->status) ? Outcome::kRetry : Outcome::kFatal;
    }
    *err =
        Status::errorf("GET {}: the transfer ended at byte {} of {}", url_, part.offset + part.completed, blob_.size());
    return Outcome::kRetry;
  }

  PartialBlob& blob_;
  const std::string& url_;
  const DownloadOptions& opt_;
  std::vector<std::atomic<int64_t>> done_;  // [n_parts] completed bytes, for the progress tick
  std::atomic<bool> stop_{false};
  std::mutex mu_;
  std::condition_variable cv_;
  size_t next_ = 0;
  int running_ = 0;
  Status error_;
};

}  // namespace

Status download_blob(PartialBlob& blob, const std::string& url, const DownloadOptions& options,
                     const std::function<void(int64_t)>& on_progress, const CancelFlag& cancel) {
  Downloader d(blob, url, options);
  return d.run(on_progress, cancel);
}

}  // namespace corral::registry
