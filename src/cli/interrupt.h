// Ctrl-C for the client commands: while an InterruptScope is alive SIGINT does not kill the
// process; it sets g_cancel (the HTTP transfer in progress aborts, client.h) and interrupted()
// turns true, and a blocking read of the terminal returns (the handler does not restart it).
// That is how `run` stops a response and returns to its prompt, as Ollama's does.
#pragma once

namespace corral::cli {

class InterruptScope {
 public:
  InterruptScope();
  ~InterruptScope();
  InterruptScope(const InterruptScope&) = delete;
  InterruptScope& operator=(const InterruptScope&) = delete;
};

// Whether SIGINT arrived since the last reset; reset_interrupt() also clears g_cancel.
bool interrupted();
void reset_interrupt();

}  // namespace corral::cli
