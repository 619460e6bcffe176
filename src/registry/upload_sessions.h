// The receiving side of Docker registry v2 blob uploads, for `corral serve` as a registry:
// POST .../blobs/uploads/ begins a session, PATCH appends bytes in order, PUT ?digest= finishes
// it. Bytes go straight into a store::BlobWriter (a hidden temp file in blobs/, hashed as it
// grows), so a blob appears in the store only when its sha256 matches the digest the client
// named; a mismatch or an abandoned session leaves nothing behind.
//
// Bounded: at most max_sessions at once (each holds a file descriptor), and a session idle for
// idle_timeout is dropped (its temp file deleted) the next time a session begins.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "store/store.h"

namespace corral::registry {

// Why an upload step failed, as the registry answers it.
enum class UploadError {
  kNone,
  kUnknown,        // 404 BLOB_UPLOAD_UNKNOWN: no such session (finished, expired, never begun)
  kBadRange,       // 416: the bytes do not continue where the upload stands
  kDigestInvalid,  // 400 DIGEST_INVALID: the bytes do not hash to the digest named
  kBusy,           // 429 TOOMANYREQUESTS: too many uploads at once
  kIo,             // 500: the store could not write
};

struct UploadResult {
  UploadError error = UploadError::kNone;
  std::string message;
  int64_t size = 0;  // bytes received so far (after this step)
  bool ok() const { return error == UploadError::kNone; }
};

class UploadSessions {
 public:
  UploadSessions(store::Store store, size_t max_sessions = 16,
                 std::chrono::seconds idle_timeout = std::chrono::minutes(15));
  ~UploadSessions();

  // A new session for `repository` ("<namespace>/<model>"); its id goes into the Location URL.
  UploadResult begin(const std::string& repository, std::string* id);
  // Appends `data` at `offset` (nullopt: wherever the upload stands).
  UploadResult append(const std::string& id, const std::string& repository, std::optional<int64_t> offset,
                      std::string_view data);
  // Appends `data` (may be empty), then commits the blob if it hashes to `expected`. The
  // session ends either way.
  UploadResult finish(const std::string& id, const std::string& repository, const store::Digest& expected,
                      std::string_view data);
  // Ends a session without committing anything.
  void cancel(const std::string& id, const std::string& repository);
  // Bytes received, or nullopt for an unknown session.
  std::optional<int64_t> size(const std::string& id, const std::string& repository);

 private:
  struct Session;
  // Takes the session out of the map for the duration of one step, so concurrent requests on
  // the same id cannot interleave (the second gets kUnknown, as a stale client would).
  std::unique_ptr<Session> take(const std::string& id, const std::string& repository);
  void put_back(const std::string& id, std::unique_ptr<Session> s);
  void expire_locked();

  const store::Store store_;
  const size_t max_sessions_;
  const std::chrono::seconds idle_timeout_;
  std::mutex mu_;
  std::map<std::string, std::unique_ptr<Session>> sessions_;
  size_t in_use_ = 0;  // sessions taken out by a running step
};

}  // namespace corral::registry
