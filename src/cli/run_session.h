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
  ordered_json think;          // --think, /set think [level], /set nothink: null (the server's default), bool or level
  bool hide_thinking = false;  // --hidethinking
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

// A reply's thinking and answer as Ollama's CLI shows them: "Thinking..." and the reasoning
// dimmed (ANSI faint), "...done thinking." once the answer or a tool call starts, then the
// answer; with --hidethinking only the answer. `plain` (output is not a terminal): the same
// words without escape codes.
class ReplyPrinter {
 public:
  ReplyPrinter(bool word_wrap, bool hide_thinking, bool plain);
  // One streamed record's pieces; `calls`: the record carries tool calls.
  void print(const std::string& thinking, const std::string& content, bool calls = false);
  // After the last record: a thinking block that never closed leaves the terminal undimmed.
  void finish();
  // Whether the spinner should give way: something visible arrived.
  bool visible(const std::string& thinking, const std::string& content) const;

 private:
  bool word_wrap_, hide_, plain_;
  bool open_ = false, closed_ = false;
  bool thinking_ends_line_ = false;  // the last thinking piece ended with a newline
  ResponsePrinter out_;
};

// A string field of a response record; "" when it is absent or not a string.
std::string string_field(const json& record, const char* key);

// Ollama's --verbose block (to stderr) from a final response record's timings.
void print_summary(const json& done);

// POST /api/generate with the whole prompt, output streamed (Ollama's generate()).
int generate_once(Client& c, RunSession& s, const std::string& prompt);
// The REPL (Ollama's generateInteractive): chat turns, """ blocks and /commands.
int chat_repl(Client& c, RunSession& s);
// One chat turn for the REPL: streams the reply; returns the assistant message for the history
// (content, and thinking when there was some), or nullopt when cancelled.
Result<std::optional<ordered_json>> chat_turn(Client& c, RunSession& s);

// Whether a failed turn was refused as a bad request (the server's 400, e.g. thinking asked of a
// model that cannot think): the REPL reports it and goes on, as Ollama's does for thinking.
bool is_request_error(const Status& st);

}  // namespace corral::cli
