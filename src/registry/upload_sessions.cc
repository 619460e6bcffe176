#include "registry/upload_sessions.h"

#include <random>

#include <fmt/format.h>

namespace corral::registry {

struct UploadSessions::Session {
  std::string repository;
  store::BlobWriter writer;
  std::chrono::steady_clock::time_point last_used;
};

namespace {

// 128 random bits: a session id is the only thing that authorises appending to an upload.
std::string new_id() {
  static std::mutex mu;
  static std::random_device rd;
  std::lock_guard lock(mu);
  return fmt::format("{:08x}{:08x}{:08x}{:08x}", rd(), rd(), rd(), rd());
}

UploadResult fail(UploadError e, std::string message) { return {e, std::move(message), 0}; }

}  // namespace

UploadSessions::UploadSessions(store::Store store, size_t max_sessions, std::chrono::seconds idle_timeout)
    : store_(std::move(store)), max_sessions_(max_sessions), idle_timeout_(idle_timeout) {}

UploadSessions::~UploadSessions() = default;

void UploadSessions::expire_locked() {
  const auto now = std::chrono::steady_clock::now();
  for (auto it = sessions_.begin(); it != sessions_.end();) {
    if (now - it->second->last_used > idle_timeout_) {
      it = sessions_.erase(it);  // the writer's destructor deletes its temp file
    } else {
      ++it;
    }
  }
}

UploadResult UploadSessions::begin(const std::string& repository, std::string* id) {
  {
    std::lock_guard lock(mu_);
    expire_locked();
    if (sessions_.size() + in_use_ >= max_sessions_) {
      return fail(UploadError::kBusy, fmt::format("too many uploads in progress (at most {})", max_sessions_));
    }
    ++in_use_;  // reserve the slot while the temp file is created outside the lock
  }
  auto writer = store_.begin_blob();
  std::lock_guard lock(mu_);
  --in_use_;
  if (!writer) return fail(UploadError::kIo, writer.error());
  *id = new_id();
  sessions_[*id] = std::make_unique<Session>(Session{repository, std::move(*writer), std::chrono::steady_clock::now()});
  return {};
}

std::unique_ptr<UploadSessions::Session> UploadSessions::take(const std::string& id, const std::string& repository) {
  std::lock_guard lock(mu_);
  auto it = sessions_.find(id);
  if (it == sessions_.end() || it->second->repository != repository) return nullptr;
  std::unique_ptr<Session> s = std::move(it->second);
  sessions_.erase(it);
  ++in_use_;
  return s;
}

void UploadSessions::put_back(const std::string& id, std::unique_ptr<Session> s) {
  std::lock_guard lock(mu_);
  --in_use_;
  if (!s) return;
  s->last_used = std::chrono::steady_clock::now();
  sessions_[id] = std::move(s);
}

UploadResult UploadSessions::append(const std::string& id, const std::string& repository, std::optional<int64_t> offset,
                                    std::string_view data) {
  std::unique_ptr<Session> s = take(id, repository);
  if (!s) return fail(UploadError::kUnknown, "blob upload unknown to registry");
  UploadResult r;
  if (offset && *offset != s->writer.size()) {
    r = fail(UploadError::kBadRange, fmt::format("the upload stands at byte {}, not {}", s->writer.size(), *offset));
  } else if (Status st = s->writer.append(data.data(), data.size()); !st) {
    r = fail(UploadError::kIo, st.message());
    s.reset();  // a writer that failed is closed: the session cannot continue
  }
  if (s) r.size = s->writer.size();
  put_back(id, std::move(s));
  return r;
}

UploadResult UploadSessions::finish(const std::string& id, const std::string& repository, const store::Digest& expected,
                                    std::string_view data) {
  std::unique_ptr<Session> s = take(id, repository);
  if (!s) return fail(UploadError::kUnknown, "blob upload unknown to registry");
  UploadResult r;
  if (Status st = s->writer.append(data.data(), data.size()); !st) {
    r = fail(UploadError::kIo, st.message());
  } else {
    r.size = s->writer.size();
    auto done = s->writer.commit(expected);
    if (!done) {
      const bool mismatch = done.error().rfind("digest mismatch", 0) == 0;
      r = fail(mismatch ? UploadError::kDigestInvalid : UploadError::kIo, done.error());
    }
  }
  put_back(id, nullptr);  // finished either way
  return r;
}

void UploadSessions::cancel(const std::string& id, const std::string& repository) {
  if (take(id, repository)) put_back(id, nullptr);  // dropping the writer deletes its temp file
}

std::optional<int64_t> UploadSessions::size(const std::string& id, const std::string& repository) {
  std::lock_guard lock(mu_);
  auto it = sessions_.find(id);
  if (it == sessions_.end() || it->second->repository != repository) return std::nullopt;
  return it->second->writer.size();
}

}  // namespace corral::registry
