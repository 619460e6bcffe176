#include "cli/cli_runner.h"

#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <thread>

namespace corral::testing {
namespace {

using Clock = std::chrono::steady_clock;

[[noreturn]] void exec_corral(const std::vector<std::string>& args, const std::map<std::string, std::string>& env) {
  for (const auto& [k, v] : env) setenv(k.c_str(), v.c_str(), 1);
  std::vector<char*> argv;
  argv.push_back(const_cast<char*>(CORRAL_BINARY));
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  execv(CORRAL_BINARY, argv.data());
  _exit(127);
}

int exit_code_of(int status) { return WIFEXITED(status) ? WEXITSTATUS(status) : -1; }

}  // namespace

CliResult run_corral(const std::vector<std::string>& args, const std::map<std::string, std::string>& env,
                     const std::optional<std::string>& input, int timeout_s) {
  int in[2], out[2], err[2];
  if (pipe(in) || pipe(out) || pipe(err)) return {};
  const pid_t pid = fork();
  if (pid == 0) {
    if (input) {
      dup2(in[0], 0);
    } else {
      const int null = open("/dev/null", O_RDONLY);
      dup2(null, 0);
    }
    dup2(out[1], 1);
    dup2(err[1], 2);
    for (int fd : {in[0], in[1], out[0], out[1], err[0], err[1]}) close(fd);
    exec_corral(args, env);
  }
  close(in[0]);
  close(out[1]);
  close(err[1]);
  // The input is written from a thread so a child that answers before reading it all cannot
  // deadlock us.
  std::thread writer([fd = in[1], data = input.value_or("")] {
    signal(SIGPIPE, SIG_IGN);
    size_t off = 0;
    while (off < data.size()) {
      const ssize_t n = write(fd, data.data() + off, data.size() - off);
      if (n <= 0) break;
      off += static_cast<size_t>(n);
    }
    close(fd);
  });
  CliResult r;
  pollfd fds[2] = {{out[0], POLLIN, 0}, {err[0], POLLIN, 0}};
  int open_fds = 2;
  const auto deadline = Clock::now() + std::chrono::seconds(timeout_s);
  while (open_fds > 0 && Clock::now() < deadline) {
    if (poll(fds, 2, 100) <= 0) continue;
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP))) continue;
      char buf[65536];
      const ssize_t n = read(fds[i].fd, buf, sizeof(buf));
      if (n <= 0) {
        close(fds[i].fd);
        fds[i].fd = -1;
        --open_fds;
      } else {
        (i == 0 ? r.out : r.err).append(buf, static_cast<size_t>(n));
      }
    }
  }
  if (open_fds > 0) kill(pid, SIGKILL);
  for (auto& f : fds)
    if (f.fd >= 0) close(f.fd);
  int status = 0;
  waitpid(pid, &status, 0);
  writer.join();
  r.exit_code = exit_code_of(status);
  return r;
}

PtySession::PtySession(const std::vector<std::string>& args, const std::map<std::string, std::string>& env,
                       int columns) {
  winsize ws{};
  ws.ws_row = 40;
  ws.ws_col = static_cast<unsigned short>(columns);
  int slave = -1;
  if (openpty(&master_, &slave, nullptr, nullptr, &ws) != 0) return;
  pid_ = fork();
  if (pid_ == 0) {
    // A test binary started in the background of a non-interactive shell inherits SIGINT
    // ignored, and an ignored signal stays ignored across exec: the REPL would never see the
    // Ctrl-C this session types. A terminal program starts with the default disposition.
    signal(SIGINT, SIG_DFL);
    signal(SIGQUIT, SIG_DFL);
    setsid();
    ioctl(slave, TIOCSCTTY, 0);
    dup2(slave, 0);
    dup2(slave, 1);
    dup2(slave, 2);
    close(slave);
    close(master_);
    exec_corral(args, env);
  }
  close(slave);
}

PtySession::~PtySession() {
  if (pid_ > 0) {
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
  }
  if (master_ >= 0) close(master_);
}

void PtySession::send(const std::string& text) {
  size_t off = 0;
  while (off < text.size()) {
    const ssize_t n = write(master_, text.data() + off, text.size() - off);
    if (n <= 0) break;
    off += static_cast<size_t>(n);
  }
}

void PtySession::interrupt() {
  if (pid_ > 0) kill(pid_, SIGINT);
}

bool PtySession::read_some(std::chrono::milliseconds timeout) {
  pollfd p{master_, POLLIN, 0};
  if (poll(&p, 1, static_cast<int>(timeout.count())) <= 0) return false;
  char buf[4096];
  const ssize_t n = read(master_, buf, sizeof(buf));
  if (n <= 0) return false;  // EIO once the child closed the terminal
  out_.append(buf, static_cast<size_t>(n));
  return true;
}

bool PtySession::wait_for(const std::string& needle, std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  for (;;) {
    if (auto at = out_.find(needle, mark_); at != std::string::npos) {
      mark_ = at + needle.size();
      return true;
    }
    if (Clock::now() >= deadline) return false;
    if (!read_some(std::chrono::milliseconds(50))) {
      if (pid_ <= 0) return false;  // exited, everything read
      int status;
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        exit_code_ = exit_code_of(status);
        while (read_some(std::chrono::milliseconds(10))) {}
      }
    }
  }
}

int PtySession::wait_exit(std::chrono::milliseconds timeout) {
  if (pid_ <= 0) return exit_code_;
  const auto deadline = Clock::now() + timeout;
  while (Clock::now() < deadline && pid_ > 0) {
    read_some(std::chrono::milliseconds(50));
    int status;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      while (read_some(std::chrono::milliseconds(10))) {}
      return exit_code_of(status);
    }
  }
  return -1;
}

}  // namespace corral::testing
