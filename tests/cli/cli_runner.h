// Runs the real `corral` binary as a subprocess - with pipes (what scripts see) or on a pseudo
// terminal (what a person at a terminal sees: progress bars, the REPL).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace corral::testing {

struct CliResult {
  int exit_code = -1;  // -1: killed (timeout) or did not exit normally
  std::string out, err;
};

// `corral args...` with `env` added to this process's environment. stdin gets `input` (then
// EOF), or /dev/null when absent.
CliResult run_corral(const std::vector<std::string>& args, const std::map<std::string, std::string>& env,
                     const std::optional<std::string>& input = std::nullopt, int timeout_s = 120);

// `corral args...` on a pseudo terminal (stdin, stdout and stderr all on it), for the REPL and
// terminal rendering. The terminal echoes what is sent, as a real one does.
class PtySession {
 public:
  PtySession(const std::vector<std::string>& args, const std::map<std::string, std::string>& env, int columns = 100);
  ~PtySession();
  PtySession(const PtySession&) = delete;
  PtySession& operator=(const PtySession&) = delete;

  void send(const std::string& text);
  void interrupt();  // Ctrl-C: SIGINT to the process
  // Reads until `needle` appears in what was read since the last call (true), or timeout.
  bool wait_for(const std::string& needle, std::chrono::milliseconds timeout = std::chrono::seconds(60));
  // Everything read so far.
  const std::string& output() const { return out_; }
  // Waits for the process to exit (reading its last output); its exit code, -1 on timeout.
  int wait_exit(std::chrono::milliseconds timeout = std::chrono::seconds(30));

 private:
  bool read_some(std::chrono::milliseconds timeout);
  pid_t pid_ = -1;  // -1 once reaped
  int exit_code_ = -1;
  int master_ = -1;
  std::string out_;
  size_t mark_ = 0;  // wait_for() searches from here
};

}  // namespace corral::testing
