// Response output for `corral run`: streamed text with optional word wrap, thinking shown dimmed
// before the answer, the spinner, the --verbose timings, and the one-shot generate.
#include <sys/ioctl.h>
#include <unistd.h>

#include <fmt/format.h>

#include "cli/client_ops.h"
#include "cli/format.h"
#include "cli/interrupt.h"
#include "cli/progress.h"
#include "cli/run_session.h"

namespace corral::cli {

ResponsePrinter::ResponsePrinter(bool word_wrap) {
  winsize ws{};
  if (word_wrap && isatty(STDOUT_FILENO) && ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col >= 10)
    width_ = ws.ws_col;
}

void ResponsePrinter::print(const std::string& text) {
  if (width_ == 0) {
    fmt::print("{}", text);
    std::fflush(stdout);
    return;
  }
  // Walk code points; every one counts one column (wide characters end a word, as in Ollama).
  for (size_t i = 0; i < text.size();) {
    size_t n = 1;
    const unsigned char c = static_cast<unsigned char>(text[i]);
    if (c >= 0xF0) n = 4;
    else if (c >= 0xE0) n = 3;
    else if (c >= 0xC0) n = 2;
    const std::string ch = text.substr(i, n);
    i += n;
    if (line_len_ + 1 > width_ - 5) {
      const int word_len = static_cast<int>(display_width(word_));
      if (word_len > width_ - 10) {
        // A word longer than a line cannot move: let it break where the margin is.
        fmt::print("{}", ch);
        word_.clear();
        line_len_ = 0;
        continue;
      }
      // Take the partial word back off this line and start the next with it.
      if (word_len > 0) fmt::print("\033[{}D", word_len);
      fmt::print("\033[K\n{}{}", word_, ch);
      line_len_ = word_len + 1;
      if (ch == " ") word_.clear();
      else word_ += ch;
      continue;
    }
    fmt::print("{}", ch);
    ++line_len_;
    if (ch == " ") word_.clear();
    else if (ch == "\n") line_len_ = 0, word_.clear();
    else word_ += ch;
  }
  std::fflush(stdout);
}

namespace {

// Ollama draws thinking in 256-colour grey; faint (SGR 2) dims it on every terminal, whatever
// its palette. The header is bold within it, as Ollama's is.
constexpr const char* kFaint = "\033[2m";
constexpr const char* kBold = "\033[1m";
constexpr const char* kReset = "\033[0m";

}  // namespace

std::string string_field(const json& record, const char* key) {
  if (!record.is_object()) return "";
  auto it = record.find(key);
  return it != record.end() && it->is_string() ? it->get<std::string>() : "";
}

ReplyPrinter::ReplyPrinter(bool word_wrap, bool hide_thinking, bool plain)
    : word_wrap_(word_wrap), hide_(hide_thinking), plain_(plain), out_(word_wrap) {}

bool ReplyPrinter::visible(const std::string& thinking, const std::string& content) const {
  return !content.empty() || (!hide_ && !thinking.empty());
}

void ReplyPrinter::print(const std::string& thinking, const std::string& content, bool calls) {
  if (!thinking.empty() && !hide_) {
    if (!open_) {
      if (plain_) fmt::print("Thinking...\n");
      else fmt::print("{}{}Thinking...\n{}{}", kFaint, kBold, kReset, kFaint);
      open_ = true;
      closed_ = false;
    }
    out_.print(thinking);
    thinking_ends_line_ = thinking.back() == '\n';
  }
  if (open_ && !closed_ && (!content.empty() || calls)) {
    if (!thinking_ends_line_) fmt::print("\n");
    if (plain_) fmt::print("...done thinking.\n\n");
    else fmt::print("{}{}...done thinking.\n\n{}", kFaint, kBold, kReset);
    closed_ = true;
    out_ = ResponsePrinter(word_wrap_);  // the answer starts its own lines
  }
  if (!content.empty()) out_.print(content);
}

void ReplyPrinter::finish() {
  if (open_ && !closed_ && !plain_) {
    fmt::print("{}", kReset);
    std::fflush(stdout);
  }
}

void print_summary(const json& d) {
  auto ns = [&](const char* k) -> int64_t {
    auto it = d.find(k);
    return it != d.end() && it->is_number() ? it->get<int64_t>() : 0;
  };
  auto dur = [](int64_t v) { return go_duration(std::chrono::nanoseconds(v)); };
  const int64_t total = ns("total_duration"), load = ns("load_duration");
  const int64_t pcount = ns("prompt_eval_count"), pdur = ns("prompt_eval_duration");
  const int64_t count = ns("eval_count"), edur = ns("eval_duration");
  if (total > 0) fmt::print(stderr, "total duration:       {}\n", dur(total));
  if (load > 0) fmt::print(stderr, "load duration:        {}\n", dur(load));
  if (pcount > 0) fmt::print(stderr, "prompt eval count:    {} token(s)\n", pcount);
  if (pdur > 0) {
    fmt::print(stderr, "prompt eval duration: {}\n", dur(pdur));
    fmt::print(stderr, "prompt eval rate:     {:.2f} tokens/s\n",
               static_cast<double>(pcount) / (static_cast<double>(pdur) / 1e9));
  }
  if (count > 0) fmt::print(stderr, "eval count:           {} token(s)\n", count);
  if (edur > 0) {
    fmt::print(stderr, "eval duration:        {}\n", dur(edur));
    fmt::print(stderr, "eval rate:            {:.2f} tokens/s\n",
               static_cast<double>(count) / (static_cast<double>(edur) / 1e9));
  }
}

int generate_once(Client& c, RunSession& s, const std::string& prompt) {
  ordered_json req{{"model", s.model}, {"prompt", prompt}};
  if (!s.format.is_null()) req["format"] = s.format;
  if (!s.options.empty()) req["options"] = s.options;
  if (!s.system.empty()) req["system"] = s.system;
  if (s.keep_alive) req["keep_alive"] = keep_alive_value(*s.keep_alive);
  if (!s.think.is_null()) req["think"] = s.think;
  InterruptScope scope;
  Progress spinner;  // until the first token: the model may be loading
  spinner.status("");
  bool first = true;
  json last;
  ReplyPrinter out(s.word_wrap, s.hide_thinking, !isatty(STDOUT_FILENO));
  Status st = c.stream("/api/generate", req, [&](const json& r) {
    const std::string thinking = string_field(r, "thinking"), response = string_field(r, "response");
    if (first && out.visible(thinking, response)) {
      spinner.stop_and_clear();
      first = false;
    }
    last = r;
    out.print(thinking, response, r.contains("tool_calls"));
    return true;
  });
  spinner.stop_and_clear();
  out.finish();
  if (!st) {
    if (st.is(StatusCode::kCancelled)) return 0;  // Ctrl-C: stop quietly, as Ollama does
    return fail(st);
  }
  if (!prompt.empty()) fmt::print("\n\n");
  std::fflush(stdout);
  if (s.verbose && last.value("done", false)) print_summary(last);
  return 0;
}

}  // namespace corral::cli
