// A temporary `corral serve` for `corral tune`: this same binary, on a free loopback port, over
// the user's model store (read-only use), with the settings of one sweep step
// (OLLAMA_NUM_PARALLEL, ...). Its log goes to a file in a temporary directory so a failure can
// be shown.
#pragma once

#include <sys/types.h>

#include <map>
#include <memory>
#include <string>

#include "base/status.h"

namespace corral::cli {

class TempServer {
 public:
  // Starts it and waits (up to `timeout_s`) until it listens and answers GET /.
  static Result<std::unique_ptr<TempServer>> start(const std::string& models_dir,
                                                   const std::map<std::string, std::string>& env,
                                                   double timeout_s = 60);
  // Stops it (SIGTERM, then SIGKILL after a few seconds) and removes its directory.
  ~TempServer();
  TempServer(const TempServer&) = delete;
  TempServer& operator=(const TempServer&) = delete;

  std::string url() const;  // "http://127.0.0.1:<port>"
  // The last lines of its log, for error messages.
  std::string log_tail(size_t max_bytes = 2000) const;

 private:
  TempServer() = default;
  pid_t pid_ = -1;
  int port_ = 0;
  std::string dir_, log_path_;
};

}  // namespace corral::cli
