#include "cli/interrupt.h"

#include <signal.h>

#include <atomic>

#include "cli/client.h"

namespace corral::cli {

namespace {

std::atomic<bool> g_interrupted{false};
struct sigaction g_previous;

void on_sigint(int) {
  // Only lock-free atomics: this runs in a signal handler.
  g_interrupted.store(true);
  g_cancel.store(true);
}

}  // namespace

InterruptScope::InterruptScope() {
  struct sigaction sa {};
  sa.sa_handler = on_sigint;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0;  // no SA_RESTART: a read() waiting for the user returns EINTR
  sigaction(SIGINT, &sa, &g_previous);
}

InterruptScope::~InterruptScope() { sigaction(SIGINT, &g_previous, nullptr); }

bool interrupted() { return g_interrupted.load(); }

void reset_interrupt() {
  g_interrupted.store(false);
  g_cancel.store(false);
}

}  // namespace corral::cli
