// `corral run`: the settings of one session (flags, then /set commands in the REPL), the
// one-shot generate, the interactive chat loop, and how responses are printed.
#pragma once

#include <optional>
#include <string>

#include "cli/client.h"

namespace corral::cli {

struct RunSession {
  std::string model;
  ordered_json messages = ordered_json::array();  // the chat so far
  ordered_json options = ordered_json::object();  // /set parameter values (typed)
  std::string system;                             // /set system
  ordered_json format;                            // null, "json" or a JSON schema
  std::optional<std::string> keep_alive;          // --keepalive
  bool verbose = false;                           // --verbose, /set verbose
  bool word_wrap = true;                          // --nowordwrap, /set nowordwrap
};

// Prints streamed response text to stdout; with word wrap on a terminal, a word that would
// cross the right margin moves to the next line (Ollama's displayResponse).
class ResponsePrinter {
 public:
  explicit ResponsePrinter(bool word_wrap);
  void print(const std::string& text);

 private:
  int width_ = 0;     // 0: no wrapping
  int line_len_ = 0;  // columns used on the current line
  std::string word_;  // the word being printed, for moving it to the next line
};

// Ollama's --verbose block (to stderr) from a final response record's timings.
void print_summary(const json& done);

// POST /api/generate with the whole prompt, output streamed (Ollama's generate()).
int generate_once(Client& c, RunSession& s, const std::string& prompt);
// The REPL (Ollama's generateInteractive): chat turns, """ blocks and /commands.
int chat_repl(Client& c, RunSession& s);
// One chat turn for the REPL: streams the reply; returns it, or nullopt when cancelled.
Result<std::optional<std::string>> chat_turn(Client& c, RunSession& s);

}  // namespace corral::cli
