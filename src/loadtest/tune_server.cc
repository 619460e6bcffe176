#include "loadtest/tune_server.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <thread>

#include <fmt/format.h>

#include "loadtest/bench_request.h"

namespace corral::cli {
namespace {

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// Waits up to `timeout` for the child to exit; true when it did.
bool wait_exit(pid_t pid, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    const pid_t r = waitpid(pid, &status, WNOHANG);
    if (r == pid || r < 0) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

}  // namespace

Result<std::unique_ptr<TempServer>> TempServer::start(const std::string& models_dir,
                                                      const std::map<std::string, std::string>& env, double timeout_s) {
  std::unique_ptr<TempServer> s(new TempServer());
  char tmpl[] = "/tmp/corral-tune-XXXXXX";
  if (!mkdtemp(tmpl)) return Status::error("cannot create a temporary directory");
  s->dir_ = tmpl;
  s->log_path_ = s->dir_ + "/server.log";
  // The binary running now is the server to start: the same build, whatever PATH says.
  std::error_code ec;
  const std::string self = std::filesystem::read_symlink("/proc/self/exe", ec).string();
  if (ec) return Status::error("cannot find this program's path (/proc/self/exe)");
  const pid_t pid = fork();
  if (pid < 0) return Status::error("fork failed");
  if (pid == 0) {
    const int fd = open(s->log_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd >= 0) {
      dup2(fd, 1);
      dup2(fd, 2);
      close(fd);
    }
    // Its own process group: a Ctrl-C in the terminal reaches `corral tune`, which then stops
    // the server itself (after reporting what it measured).
    setpgid(0, 0);
    setenv("OLLAMA_HOST", "127.0.0.1:0", 1);
    setenv("OLLAMA_MODELS", models_dir.c_str(), 1);
    for (const auto& [k, v] : env) setenv(k.c_str(), v.c_str(), 1);
    execl(self.c_str(), self.c_str(), "serve", static_cast<char*>(nullptr));
    _exit(127);
  }
  s->pid_ = pid;
  // The port is in the "listening on host:port " line of its log.
  const std::regex listening("listening on [^ ]*:([0-9]+)[ \\n]");
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::milliseconds(static_cast<int64_t>(timeout_s * 1000));
  while (s->port_ == 0) {
    std::smatch m;
    const std::string log = read_file(s->log_path_);
    if (std::regex_search(log, m, listening)) {
      s->port_ = std::stoi(m[1]);
      break;
    }
    int status = 0;
    if (waitpid(pid, &status, WNOHANG) == pid) {
      s->pid_ = -1;
      return Status::errorf("the temporary server exited before listening:\n{}", s->log_tail());
    }
    if (std::chrono::steady_clock::now() > deadline)
      return Status::errorf("the temporary server did not start in {:.0f}s:\n{}", timeout_s, s->log_tail());
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  while (!bench::json_call("GET", s->url() + "/api/version", nullptr, 5)) {
    if (std::chrono::steady_clock::now() > deadline)
      return Status::errorf("the temporary server does not answer:\n{}", s->log_tail());
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return s;
}

TempServer::~TempServer() {
  if (pid_ > 0) {
    kill(pid_, SIGTERM);
    if (!wait_exit(pid_, std::chrono::seconds(15))) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }
  if (!dir_.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
}

std::string TempServer::url() const { return fmt::format("http://127.0.0.1:{}", port_); }

std::string TempServer::log_tail(size_t max_bytes) const {
  const std::string log = read_file(log_path_);
  return log.size() <= max_bytes ? log : log.substr(log.size() - max_bytes);
}

}  // namespace corral::cli
