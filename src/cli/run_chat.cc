// The `corral run` REPL (Ollama's generateInteractive): each line is a chat turn, """ opens a
// multi-line message, and /commands change the session. Input is read from the terminal in
// its normal line mode; Ctrl-C stops a reply (or, at the prompt, says how to leave), Ctrl-D or
// /bye leaves.
#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <sstream>

#include <fmt/format.h>

#include "cli/client_ops.h"
#include "cli/interrupt.h"
#include "cli/progress.h"
#include "cli/run_session.h"
#include "cli/show_info.h"
#include "store/parameters.h"

namespace corral::cli {
namespace {

enum class Read { kLine, kEof, kInterrupt };

// Reads one line from stdin without stdio's buffering, so that a Ctrl-C is seen while waiting.
class LineReader {
 public:
  Read next(std::string* line) {
    line->clear();
    for (;;) {
      if (auto nl = buf_.find('\n'); nl != std::string::npos) {
        *line = buf_.substr(0, nl);
        buf_.erase(0, nl + 1);
        if (!line->empty() && line->back() == '\r') line->pop_back();
        return Read::kLine;
      }
      // The signal may land on another thread of the process (libcurl's, the spinner's), and
      // then this read() is not interrupted: wait in short polls that look at the flag too
      // (100 ms: a Ctrl-C is answered at once to a person, at no cost while idle).
      pollfd pfd{STDIN_FILENO, POLLIN, 0};
      const int ready = ::poll(&pfd, 1, /*timeout ms=*/100);
      if (interrupted()) {
        buf_.clear();
        return Read::kInterrupt;
      }
      if (ready == 0 || (ready < 0 && errno == EINTR)) continue;
      char chunk[4096];
      const ssize_t n = ::read(STDIN_FILENO, chunk, sizeof(chunk));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        if (buf_.empty()) return Read::kEof;
        *line = std::move(buf_);  // a last line without its newline
        buf_.clear();
        return Read::kLine;
      }
      buf_.append(chunk, static_cast<size_t>(n));
    }
  }

 private:
  std::string buf_;
};

std::vector<std::string> fields(const std::string& s) {
  std::istringstream in(s);
  std::vector<std::string> out;
  std::string w;
  while (in >> w) out.push_back(w);
  return out;
}

bool cut_prefix(std::string* s, std::string_view p) {
  if (s->rfind(p, 0) != 0) return false;
  s->erase(0, p.size());
  return true;
}

bool cut_suffix(std::string* s, std::string_view p) {
  if (s->size() < p.size() || s->compare(s->size() - p.size(), p.size(), p) != 0) return false;
  s->resize(s->size() - p.size());
  return true;
}

std::string join(const std::vector<std::string>& v, size_t from, const char* sep) {
  std::string out;
  for (size_t i = from; i < v.size(); ++i) out += (i > from ? sep : "") + v[i];
  return out;
}

// Help goes to stderr, as Ollama's does, so it never mixes into captured replies.
void usage() {
  fmt::print(stderr,
             "Available Commands:\n"
             "  /set            Set session variables\n"
             "  /show           Show model information\n"
             "  /load <model>   Load a session or model\n"
             "  /save <model>   Save your current session\n"
             "  /clear          Clear session context\n"
             "  /bye            Exit\n"
             "  /?, /help       Help for a command\n\n"
             "Use \"\"\" to begin a multi-line message.\n\n");
}

void usage_set() {
  fmt::print(stderr,
             "Available Commands:\n"
             "  /set parameter ...     Set a parameter\n"
             "  /set system <string>   Set system message\n"
             "  /set wordwrap          Enable wordwrap\n"
             "  /set nowordwrap        Disable wordwrap\n"
             "  /set format json       Enable JSON mode\n"
             "  /set noformat          Disable formatting\n"
             "  /set verbose           Show LLM stats\n"
             "  /set quiet             Disable LLM stats\n"
             "  /set think             Enable thinking\n"
             "  /set nothink           Disable thinking\n\n");
}

void usage_show() {
  fmt::print(stderr,
             "Available Commands:\n"
             "  /show info         Show details for this model\n"
             "  /show license      Show model license\n"
             "  /show modelfile    Show Modelfile for this model\n"
             "  /show parameters   Show parameters for this model\n"
             "  /show system       Show system message\n"
             "  /show template     Show prompt template\n\n");
}

void usage_parameters() {
  fmt::print(stderr,
             "Available Parameters:\n"
             "  /set parameter seed <int>             Random number seed\n"
             "  /set parameter num_predict <int>      Max number of tokens to predict\n"
             "  /set parameter top_k <int>            Pick from top k num of tokens\n"
             "  /set parameter top_p <float>          Pick token based on sum of probabilities\n"
             "  /set parameter min_p <float>          Pick token based on top token probability * min_p\n"
             "  /set parameter num_ctx <int>          Set the context size\n"
             "  /set parameter temperature <float>    Set creativity level\n"
             "  /set parameter repeat_penalty <float> How strongly to penalize repetitions\n"
             "  /set parameter repeat_last_n <int>    Set how far back to look for repetitions\n"
             "  /set parameter stop <string> <string> ...   Set the stop parameters\n\n");
}

// A JSON value as Go's %v prints it in "User defined parameters".
std::string value_text(const json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_array()) {
    std::string s = "[";
    for (size_t i = 0; i < v.size(); ++i) s += (i ? " " : "") + value_text(v[i]);
    return s + "]";
  }
  return v.dump();
}

void set_system_message(RunSession& s, const std::string& text) {
  s.system = text;
  ordered_json m{{"role", "system"}, {"content", text}};
  if (!s.messages.empty() && s.messages.back().value("role", "") == "system") s.messages.back() = m;
  else s.messages.push_back(m);
  fmt::print("Set system message.\n");
}

// /set think and /set nothink warn, as Ollama does, when the model cannot think (the setting is
// kept: the server answers a think request for such a model with its 400).
void warn_unless_thinking(Client& c, const RunSession& s) {
  auto r = c.call("POST", "/api/show", ordered_json{{"model", s.model}});
  if (!r || !r->contains("capabilities") || !(*r)["capabilities"].is_array()) return;
  for (const json& cap : (*r)["capabilities"])
    if (cap == "thinking") return;
  fmt::print(stderr, "warning: model {} does not support thinking output\n", json(s.model).dump());
}

void set_command(Client& c, RunSession& s, const std::vector<std::string>& args, std::string* pending_system,
                 bool* system_multiline) {
  if (args.size() < 2) return usage_set();
  const std::string& what = args[1];
  if (what == "wordwrap") s.word_wrap = true, fmt::print("Set 'wordwrap' mode.\n");
  else if (what == "nowordwrap") s.word_wrap = false, fmt::print("Set 'nowordwrap' mode.\n");
  else if (what == "verbose") s.verbose = true, fmt::print("Set 'verbose' mode.\n");
  else if (what == "quiet") s.verbose = false, fmt::print("Set 'quiet' mode.\n");
  else if (what == "think") {
    // An optional level (gpt-oss: low, medium, high), checked by the server on the next turn.
    s.think = args.size() > 2 ? ordered_json(args[2]) : ordered_json(true);
    warn_unless_thinking(c, s);
    if (args.size() > 2) fmt::print("Set 'think' mode to '{}'.\n", args[2]);
    else fmt::print("Set 'think' mode.\n");
  } else if (what == "nothink") {
    s.think = false;
    warn_unless_thinking(c, s);
    fmt::print("Set 'nothink' mode.\n");
  } else if (what == "history" || what == "nohistory") {
    // Line editing (and so history) is the terminal's here; accepted for Ollama's muscle memory.
  } else if (what == "format") {
    if (args.size() < 3 || args[2] != "json") {
      fmt::print("Invalid or missing format. For 'json' mode use '/set format json'\n");
    } else {
      s.format = "json";
      fmt::print("Set format to 'json' mode.\n");
    }
  } else if (what == "noformat") {
    s.format = nullptr;
    fmt::print("Disabled format.\n");
  } else if (what == "parameter") {
    if (args.size() < 4) return usage_parameters();
    // The same typed checks as a Modelfile PARAMETER line (several values make a stop list).
    json typed = json::object();
    for (size_t i = 3; i < args.size(); ++i) {
      if (Status st = store::add_parameter(&typed, args[2], args[i]); !st) {
        fmt::print("Couldn't set parameter: {}\n", json(st.message()).dump());
        return;
      }
    }
    s.options[args[2]] = typed[args[2]];
    fmt::print("Set parameter '{}' to '{}'\n", args[2], join(args, 3, ", "));
  } else if (what == "system") {
    if (args.size() < 3) return usage_set();
    std::string text = join(args, 2, " ");
    if (cut_prefix(&text, "\"\"\"") && !cut_suffix(&text, "\"\"\"")) {
      *pending_system = text;
      *system_multiline = true;  // the rest comes on the next lines, up to a closing """
      return;
    }
    set_system_message(s, text);
  } else {
    fmt::print("Unknown command '/set {}'. Type /? for help\n", what);
  }
}

Status show_command(Client& c, RunSession& s, const std::vector<std::string>& args) {
  if (args.size() < 2) {
    usage_show();
    return Status::ok();
  }
  auto r = c.call("POST", "/api/show", ordered_json{{"model", s.model}});
  if (!r) return r.status();
  const json& resp = *r;
  const std::string& what = args[1];
  if (what == "info") {
    fmt::print(stderr, "{}", render_show_info(resp));
  } else if (what == "license") {
    const std::string l = resp.value("license", "");
    fmt::print("{}\n", l.empty() ? "No license was specified for this model." : l);
  } else if (what == "modelfile") {
    fmt::print("{}\n", resp.value("modelfile", ""));
  } else if (what == "parameters") {
    fmt::print("Model defined parameters:\n");
    const std::string p = resp.value("parameters", "");
    if (p.empty()) fmt::print("  No additional parameters were specified for this model.\n");
    std::istringstream in(p);
    for (std::string line; std::getline(in, line);) fmt::print("  {}\n", line);
    fmt::print("\n");
    if (!s.options.empty()) {
      fmt::print("User defined parameters:\n");
      for (auto it = s.options.begin(); it != s.options.end(); ++it)
        fmt::print("  {:<30} {}\n", it.key(), value_text(*it));
      fmt::print("\n");
    }
  } else if (what == "system") {
    const std::string sys = !s.system.empty() ? s.system : resp.value("system", "");
    if (sys.empty()) fmt::print("No system message was specified for this model.\n");
    else fmt::print("{}\n\n", sys);
  } else if (what == "template") {
    const std::string t = resp.value("template", "");
    fmt::print("{}\n", t.empty() ? "No prompt template was specified for this model." : t);
  } else {
    fmt::print("Unknown command '/show {}'. Type /? for help\n", what);
  }
  return Status::ok();
}

// /save: a new model = this one + the session's system, parameters and messages.
void save_command(Client& c, RunSession& s, const std::string& name) {
  ordered_json req{{"model", name}, {"from", s.model}};
  if (!s.system.empty()) req["system"] = s.system;
  if (!s.options.empty()) req["parameters"] = s.options;
  ordered_json msgs = ordered_json::array();
  for (const auto& m : s.messages)
    if (m.value("role", "") != "system") msgs.push_back(m);
  if (!msgs.empty()) req["messages"] = msgs;
  Status st = c.stream("/api/create", req, [](const json&) { return true; });
  if (!st) fmt::print("error: {}\n", st.message());
  else fmt::print("Created new model '{}'\n", name);
}

void load_command(Client& c, RunSession& s, const std::string& name) {
  fmt::print("Loading model '{}'\n", name);
  RunSession next = s;
  next.model = name;
  next.messages = ordered_json::array();
  Status st = load_or_unload(c, name, s.keep_alive);
  if (!st) {
    if (st.is(StatusCode::kNotFound)) fmt::print("Couldn't find model '{}'\n", name);
    else fmt::print("error: {}\n", st.message());
    return;
  }
  s = std::move(next);
}

}  // namespace

Result<std::optional<ordered_json>> chat_turn(Client& c, RunSession& s) {
  ordered_json req{{"model", s.model}, {"messages", s.messages}};
  if (!s.format.is_null()) req["format"] = s.format;
  if (!s.options.empty()) req["options"] = s.options;
  if (s.keep_alive) req["keep_alive"] = keep_alive_value(*s.keep_alive);
  if (!s.think.is_null()) req["think"] = s.think;
  Progress spinner;
  spinner.status("");
  bool first = true;
  json last;
  std::string content, thinking;
  ReplyPrinter out(s.word_wrap, s.hide_thinking, /*plain=*/false);  // the REPL runs on a terminal
  Status st = c.stream("/api/chat", req, [&](const json& r) {
    last = r;
    if (!r.contains("message") || !r["message"].is_object()) return true;
    const json& m = r["message"];
    const std::string think_piece = string_field(m, "thinking"), piece = string_field(m, "content");
    if (first && out.visible(think_piece, piece)) {
      spinner.stop_and_clear();
      first = false;
    }
    thinking += think_piece;
    content += piece;
    out.print(think_piece, piece, m.contains("tool_calls"));
    return true;
  });
  spinner.stop_and_clear();
  out.finish();
  if (!st) {
    if (st.is(StatusCode::kCancelled)) return std::optional<ordered_json>();
    return st;
  }
  fmt::print("\n\n");
  std::fflush(stdout);
  if (s.verbose && last.value("done", false)) print_summary(last);
  // The reasoning stays in the history, as Ollama's CLI keeps it: a template that renders
  // earlier thinking gets it back.
  ordered_json msg{{"role", "assistant"}, {"content", content}};
  if (!thinking.empty()) msg["thinking"] = thinking;
  return std::optional<ordered_json>(std::move(msg));
}

bool is_request_error(const Status& st) { return st.is(StatusCode::kInvalidArgument); }

// A /command line: nullopt to go on, or the exit code that ends the session (/bye, or a
// /show the server failed). /set system """ opens a block: *sb gets its first line and
// *system_multiline is set.
std::optional<int> slash_command(Client& c, RunSession& s, const std::string& line, std::string* sb,
                                 bool* system_multiline) {
  const auto args = fields(line);
  const std::string cmd = args.empty() ? "/" : args[0];
  if (cmd == "/bye" || cmd == "/exit") return 0;
  if (cmd == "/clear") {
    s.messages = ordered_json::array();
    if (!s.system.empty()) s.messages.push_back({{"role", "system"}, {"content", s.system}});
    fmt::print("Cleared session context\n");
  } else if (cmd == "/set") {
    std::string pending;
    set_command(c, s, args, &pending, system_multiline);
    if (*system_multiline) *sb = pending + "\n";
  } else if (cmd == "/show") {
    if (Status st = show_command(c, s, args); !st) return fail(st);
  } else if (cmd == "/save") {
    if (args.size() != 2) fmt::print("Usage:\n  /save <modelname>\n");
    else save_command(c, s, args[1]);
  } else if (cmd == "/load") {
    if (args.size() != 2) fmt::print("Usage:\n  /load <modelname>\n");
    else load_command(c, s, args[1]);
  } else if (cmd == "/?" || cmd == "/help") {
    if (args.size() > 1 && (args[1] == "set" || args[1] == "/set")) usage_set();
    else if (args.size() > 1 && (args[1] == "show" || args[1] == "/show")) usage_show();
    else usage();
  } else {
    fmt::print("Unknown command '{}'. Type /? for help\n", cmd);
  }
  return std::nullopt;
}

// Sends `message` as the user's turn and keeps the reply: nullopt to go on, or the exit code
// that ends the session.
std::optional<int> send_turn(Client& c, RunSession& s, std::string message) {
  s.messages.push_back({{"role", "user"}, {"content", std::move(message)}});
  auto reply = chat_turn(c, s);
  reset_interrupt();
  if (!reply && is_request_error(reply.status())) {
    // The server refused this turn (a 400: e.g. "does not support thinking" after /set think):
    // report it and go on, as Ollama's REPL does for thinking; the failed turn leaves no
    // message behind. The client maps statuses to codes, so no error text is matched.
    fmt::print("error: {}\n", reply.status().message());
    s.messages.erase(s.messages.end() - 1);
    return std::nullopt;
  }
  if (!reply) return fail(reply.status());
  if (*reply) s.messages.push_back(std::move(**reply));
  return std::nullopt;
}

int chat_repl(Client& c, RunSession& s) {
  InterruptScope scope;
  LineReader in;
  std::string sb;                 // the message being composed
  bool multiline = false;         // inside a """ block of a message
  bool system_multiline = false;  // inside a """ block of /set system
  std::string line;
  for (;;) {
    fmt::print("{}", multiline || system_multiline ? "... " : ">>> ");
    std::fflush(stdout);
    const Read r = in.next(&line);
    if (r == Read::kEof) {
      fmt::print("\n");
      return 0;
    }
    if (r == Read::kInterrupt) {
      reset_interrupt();
      if (sb.empty()) fmt::print("\nUse Ctrl + d or /bye to exit.\n");
      else fmt::print("\n");
      sb.clear();
      multiline = system_multiline = false;
      continue;
    }
    if (multiline || system_multiline) {
      std::string part = line;
      const bool closed = cut_suffix(&part, "\"\"\"");
      sb += part;
      if (!closed) {
        sb += "\n";
        continue;
      }
      if (system_multiline) {
        set_system_message(s, sb);
        sb.clear();
        system_multiline = false;
        continue;
      }
      multiline = false;
    } else if (line.rfind("\"\"\"", 0) == 0) {
      std::string part = line.substr(3);
      const bool closed = cut_suffix(&part, "\"\"\"");
      sb += part;
      if (!closed) {
        sb += "\n";
        multiline = true;
        continue;
      }
    } else if (line.rfind("/", 0) == 0) {
      if (auto code = slash_command(c, s, line, &sb, &system_multiline)) return *code;
      continue;
    } else {
      sb += line;
    }
    if (sb.empty()) continue;
    if (auto code = send_turn(c, s, std::move(sb))) return *code;
    sb.clear();
  }
}

}  // namespace corral::cli
