#include "server/server_process.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <regex>

#include "common/http_client.h"
#include "common/test_data.h"
#include "store/create.h"
#include "store/modelfile.h"
#include "store/store.h"

namespace corral::testing {

store::CreateOptions fixture_create_options() {
  store::CreateOptions opts;
  opts.allow_file_paths = true;  // this process builds its own fixture store from test data
  return opts;
}

const char* const kThinkingTemplate = R"({{- range .Messages }}<|im_start|>{{ .Role }}
{{ if .Thinking }}<think>{{ .Thinking }}</think>{{ end }}{{ .Content }}<|im_end|>
{{ end }}<|im_start|>assistant
{{ if .Think }}<think>
{{ end }})";

void create_agent_test_store(const std::string& dir) {
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  store::Store s(dir);
  const std::pair<std::string, std::string> models[] = {
      {"syn-qwen3", "FROM " + test_data_path("models/synthetic/syn-qwen3-q8_0.gguf") + "\n"},
      {"thinker", "FROM " + test_data_path("models/synthetic/syn-qwen2-q8_0.gguf") + "\nTEMPLATE \"\"\"" +
                      kThinkingTemplate + "\"\"\"\n"},
      {"stories", "FROM " + test_data_path("models/stories260K.gguf") + "\n"},
  };
  for (const auto& [name, text] : models) {
    auto mf = store::parse_modelfile(text);
    ASSERT_TRUE(mf.is_ok()) << mf.error();
    auto r = store::create_model(s, name, *mf, fixture_create_options());
    ASSERT_TRUE(r.is_ok()) << name << ": " << r.error();
  }
}

std::pair<int, std::string> run_corral(const std::string& args) {
  std::string out;
  FILE* p = popen((std::string(CORRAL_BINARY) + " " + args + " 2>&1").c_str(), "r");
  if (!p) return {-1, ""};
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), p)) > 0) out.append(buf, n);
  const int st = pclose(p);
  return {WIFEXITED(st) ? WEXITSTATUS(st) : -1, out};
}

const std::string& shared_test_store() {
  // Never destroyed: the atexit cleanup below runs after static destructors registered later
  // (this string's would be), so it must not read a destroyed string (ASan caught that).
  static const std::string* dir = new std::string([] {
    std::string d = std::filesystem::temp_directory_path() / ("corral-test-store-" + std::to_string(getpid()));
    std::filesystem::remove_all(d);
    std::filesystem::create_directories(d);
    store::Store s(d);
    const std::pair<const char*, const char*> models[] = {
        {"stories", "models/stories260K.gguf"},
        {"stories-ctx", "models/stories260K-ctx512.gguf"},
        {"tiny", "models/tinystories-656k-f32.gguf"},
        {"tiny-q8", "models/tinystories-656k-q8_0.gguf"},
        {"random", "models/llama-2-tiny-random.gguf"},
        // Random weights with byte-level BPE vocabularies (GPT-2's first merges), for
        // structured output over tokens that are not whole characters.
        {"syn-qwen2", "models/synthetic/syn-qwen2-q8_0.gguf"},
        {"syn-llama3", "models/synthetic/syn-llama3-q8_0.gguf"},
    };
    // tiny-tools: TinyStories-656K under a Qwen 2.5 style template that renders tools and
    // earlier calls, so tool requests (tool_choice forcing a call) have a model to run on.
    const std::string tools_template = R"({{- if .Tools }}<|im_start|>system
# Tools
<tools>{{ range .Tools }}
{{ json . }}{{ end }}
</tools>
Call a tool as <tool_call>{"name": <name>, "arguments": <object>}</tool_call><|im_end|>
{{ end }}{{- range .Messages }}<|im_start|>{{ .Role }}
{{ .Content }}{{ range .ToolCalls }}<tool_call>{"name": "{{ .Function.Name }}", "arguments": {{ json .Function.Arguments }}}</tool_call>{{ end }}<|im_end|>
{{ end }}<|im_start|>assistant
)";
    std::vector<std::pair<std::string, std::string>> modelfiles;
    for (const auto& [name, rel] : models) modelfiles.emplace_back(name, "FROM " + test_data_path(rel) + "\n");
    modelfiles.emplace_back("tiny-tools", "FROM " + test_data_path("models/tinystories-656k-f32.gguf") +
                                              "\nTEMPLATE \"\"\"" + tools_template + "\"\"\"\n");
    for (const auto& [name, text] : modelfiles) {
      auto mf = store::parse_modelfile(text);
      EXPECT_TRUE(mf.is_ok()) << mf.error();
      auto r = store::create_model(s, name, *mf, fixture_create_options());
      EXPECT_TRUE(r.is_ok()) << name << ": " << r.error();
    }
    std::atexit([] { std::filesystem::remove_all(shared_test_store()); });
    return d;
  }());
  return *dir;
}

std::unique_ptr<ServerProcess> ServerProcess::start(const std::string& models_dir,
                                                    const std::map<std::string, std::string>& env) {
  auto p = std::unique_ptr<ServerProcess>(new ServerProcess());
  int fds[2];
  if (pipe(fds) != 0) {
    ADD_FAILURE() << "pipe failed";
    return nullptr;
  }
  p->pid_ = fork();
  if (p->pid_ == 0) {
    dup2(fds[1], 1);
    dup2(fds[1], 2);
    close(fds[0]);
    close(fds[1]);
    setenv("OLLAMA_HOST", "127.0.0.1:0", 1);
    setenv("OLLAMA_MODELS", models_dir.c_str(), 1);
    setenv("CORRAL_THREADS", "2", 0);
    for (const auto& [k, v] : env) setenv(k.c_str(), v.c_str(), 1);
    execl(CORRAL_BINARY, CORRAL_BINARY, "serve", static_cast<char*>(nullptr));
    _exit(127);
  }
  close(fds[1]);
  p->out_fd_ = fds[0];
  // Read the log until the listening line gives the port; keep draining it afterwards.
  std::string line_buf;
  // Match only a complete number: a read can end in the middle of the line.
  const std::regex listening("listening on [^ ]*:([0-9]+)[ \\n]");
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  char buf[4096];
  while (p->port_ == 0 && std::chrono::steady_clock::now() < deadline) {
    const ssize_t n = read(p->out_fd_, buf, sizeof(buf));
    if (n <= 0) break;
    std::lock_guard<std::mutex> lk(p->log_mu_);
    p->log_.append(buf, static_cast<size_t>(n));
    std::smatch m;
    if (std::regex_search(p->log_, m, listening)) p->port_ = std::stoi(m[1]);
  }
  if (p->port_ == 0) {
    ADD_FAILURE() << "server did not start; log:\n" << p->log();
    return nullptr;
  }
  p->reader_ = std::thread([raw = p.get()] {
    char b[4096];
    for (;;) {
      const ssize_t n = read(raw->out_fd_, b, sizeof(b));
      if (n <= 0) return;
      std::lock_guard<std::mutex> lk(raw->log_mu_);
      raw->log_.append(b, static_cast<size_t>(n));
    }
  });
  for (int i = 0; i < 200; ++i) {
    if (http_get(p->url("/")).status == 200) return p;
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  ADD_FAILURE() << "server does not answer GET /; log:\n" << p->log();
  return p;
}

ServerProcess::~ServerProcess() { stop(); }

int ServerProcess::stop() {
  int status = 0;
  const bool was_running = pid_ > 0;
  if (pid_ > 0) {
    kill(pid_, SIGTERM);
    waitpid(pid_, &status, 0);
    pid_ = -1;
  }
  if (reader_.joinable()) reader_.join();
  if (out_fd_ >= 0) close(out_fd_);
  out_fd_ = -1;
  // In a sanitized build (scripts/test --sanitize) the server reports memory errors, leaks and
  // undefined behaviour on stderr, which is this log: whatever the test checked, such a report
  // fails it. A server that dies of one mid-test is caught here too, when the fixture stops it.
  const std::string text = was_running ? log() : std::string();
  for (const char* marker :
       {"ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "SUMMARY: UndefinedBehaviorSanitizer"}) {
    if (text.find(marker) != std::string::npos) {
      ADD_FAILURE() << "the server's log holds a sanitizer report (\"" << marker << "\"):\n" << text;
      break;
    }
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

std::string ServerProcess::url(const std::string& path) const {
  return "http://127.0.0.1:" + std::to_string(port_) + path;
}

std::string ServerProcess::log() const {
  std::lock_guard<std::mutex> lk(log_mu_);
  return log_;
}

}  // namespace corral::testing
