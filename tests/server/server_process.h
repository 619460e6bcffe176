// Test fixture: runs the real `corral serve` binary on a loopback port against a temporary
// model store, and stops it again.
#pragma once

#include <sys/types.h>

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>

#include "store/create.h"

namespace corral::testing {

// A fresh temporary store holding the tiny test models under Ollama-style names:
//   stories (stories260K), stories-ctx (stories260K-ctx512), tiny (tinystories-656k-f32),
//   tiny-q8 (tinystories-656k-q8_0), random (llama-2-tiny-random), syn-qwen2 and syn-llama3
//   (synthetic random-weight models with byte-level BPE vocabularies), tiny-tools (tiny under a
//   template that renders tools: Qwen 2.5's <tool_call> format).
// Built once per test binary and copied per call would be slow; callers share it read-only.
const std::string& shared_test_store();

// A ChatML template whose generation prompt opens a thinking block when thinking is on, and
// renders earlier reasoning between the same tags (what makes it a thinking model for Ollama):
// a random model's output under it is all thinking.
extern const char* const kThinkingTemplate;

// Creates in `dir` the store the agent tests share: syn-qwen3 (qwen3 with its family's ChatML
// template: tools, <tool_call>, thinking), thinker (syn-qwen2 under kThinkingTemplate) and
// stories (no chat template: neither tools nor thinking).
void create_agent_test_store(const std::string& dir);

// CreateOptions for a test that builds a fixture store in its own process from files in the
// test data: FROM may name a file there (the server itself never allows that).
store::CreateOptions fixture_create_options();

// Runs the `corral` binary with `args` (a shell word list) to completion, stderr merged into
// stdout: {exit status (-1 if it did not exit normally), output}.
std::pair<int, std::string> run_corral(const std::string& args);

class ServerProcess {
 public:
  // Starts `corral serve` with OLLAMA_HOST=127.0.0.1:0, OLLAMA_MODELS=models_dir and `env`
  // (e.g. OLLAMA_NUM_PARALLEL); returns once it answers GET /. Fails the test on timeout.
  static std::unique_ptr<ServerProcess> start(const std::string& models_dir,
                                              const std::map<std::string, std::string>& env = {});
  ~ServerProcess();

  std::string url(const std::string& path) const;
  int port() const { return port_; }
  pid_t pid() const { return pid_; }
  // Sends SIGTERM and waits; returns the exit status (or -1 on a signal death).
  int stop();
  std::string log() const;

 private:
  pid_t pid_ = -1;
  int port_ = 0;
  int out_fd_ = -1;
  std::thread reader_;
  mutable std::mutex log_mu_;
  std::string log_;
};

}  // namespace corral::testing
