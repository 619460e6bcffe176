// Progress of a pull or push, in the shape of Ollama's api.ProgressResponse: the server streams
// each one as an NDJSON line.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>

namespace corral::registry {

struct Progress {
  std::string status;     // "pulling manifest", "pulling <12 hex>", "verifying sha256 digest", ...
  std::string digest;     // "sha256:<hex>" while a blob moves, else empty
  int64_t total = 0;      // bytes of that blob (0: not a byte count)
  int64_t completed = 0;  // bytes of it already here
};

// A report that is only a status line ("pulling manifest", "success").
inline Progress status_only(std::string status) {
  Progress p;
  p.status = std::move(status);
  return p;
}

using ProgressFn = std::function<void(const Progress&)>;

// Set from another thread (the client went away) to stop a transfer; bytes already received
// stay on disk for the next attempt.
using CancelFlag = std::atomic<bool>;

// "pulling 0123456789ab": Ollama names a blob by the first 12 hex digits of its digest.
inline std::string short_hex(const std::string& hex) { return hex.substr(0, 12); }

}  // namespace corral::registry
