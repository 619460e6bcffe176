#include "store/modelfile.h"
#include "base/quote.h"
#include "store/modelfile_limits.h"

#include <fmt/format.h>

#include "store/parameters.h"

namespace corral::store {

namespace {

bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_blank(char c) { return c == ' ' || c == '\t'; }
bool is_newline(char c) { return c == '\n' || c == '\r'; }

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

std::string upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  return out;
}

std::string_view trim(std::string_view s) {
  constexpr std::string_view kSpace = " \t\n\v\f\r";
  size_t b = s.find_first_not_of(kSpace);
  if (b == std::string_view::npos) return {};
  size_t e = s.find_last_not_of(kSpace);
  return s.substr(b, e - b + 1);
}

// Ollama's unquote: a value opened with """ (or ") is complete once it also ends with it.
bool unquote(std::string_view s, std::string* out) {
  if (s.size() >= 3 && s.substr(0, 3) == R"(""")") {
    if (s.size() >= 6 && s.substr(s.size() - 3) == R"(""")") {
      *out = std::string(s.substr(3, s.size() - 6));
      return true;
    }
    return false;
  }
  if (!s.empty() && s[0] == '"') {
    if (s.size() >= 2 && s.back() == '"') {
      *out = std::string(s.substr(1, s.size() - 2));
      return true;
    }
    return false;
  }
  *out = std::string(s);
  return true;
}

bool is_valid_role(std::string_view r) { return r == "system" || r == "user" || r == "assistant"; }

// golang.org/x/mod/semver's IsValid, after the "v" Ollama prepends: vMAJOR[.MINOR[.PATCH
// [-prerelease][+build]]], numbers without leading zeros.
bool is_valid_semver(std::string_view v) {
  if (v.empty() || v[0] != 'v') return false;
  v.remove_prefix(1);
  auto number = [&](std::string_view* s) {
    size_t n = 0;
    while (n < s->size() && is_digit((*s)[n])) ++n;
    if (n == 0 || (n > 1 && (*s)[0] == '0')) return false;
    s->remove_prefix(n);
    return true;
  };
  auto idents = [&](std::string_view s, bool numeric_no_leading_zero) {
    if (s.empty()) return false;
    size_t start = 0;
    while (true) {
      size_t dot = s.find('.', start);
      std::string_view id = s.substr(start, dot == std::string_view::npos ? s.npos : dot - start);
      if (id.empty()) return false;
      bool all_digits = true;
      for (char c : id) {
        if (!(is_alpha(c) || is_digit(c) || c == '-')) return false;
        all_digits = all_digits && is_digit(c);
      }
      if (numeric_no_leading_zero && all_digits && id.size() > 1 && id[0] == '0') return false;
      if (dot == std::string_view::npos) return true;
      start = dot + 1;
    }
  };
  if (!number(&v)) return false;
  if (v.empty()) return true;  // "v1"
  if (v[0] != '.') return false;
  v.remove_prefix(1);
  if (!number(&v)) return false;
  if (v.empty()) return true;  // "v1.2"
  if (v[0] != '.') return false;
  v.remove_prefix(1);
  if (!number(&v)) return false;
  size_t plus = v.find('+');
  std::string_view pre = v.substr(0, plus);
  if (!pre.empty() && (pre[0] != '-' || !idents(pre.substr(1), true))) return false;
  if (plus != std::string_view::npos && !idents(v.substr(plus + 1), false)) return false;
  return true;
}

enum class State { kNil, kComment, kName, kParamName, kRole, kValue };

// Turns the text into commands (Ollama's ParseFile state machine, byte by byte).
class Scanner {
 public:
  explicit Scanner(std::string_view text) : text_(text) {}

  Result<std::vector<ModelfileCommand>> run() {
    size_t line_bytes = 0;
    for (size_t i = 0; i < text_.size(); ++i) {
      char c = text_[i];
      CORRAL_RETURN_IF_ERROR(step(c, i));
      if (commands_.size() > kMaxModelfileCommands) {
        return error(line_, fmt::format("more than {} instructions", kMaxModelfileCommands));
      }
      // CRLF is one line break; a lone CR (old Mac files) is one too.
      if (c == '\n' || (c == '\r' && (i + 1 >= text_.size() || text_[i + 1] != '\n'))) {
        if (++line_ > kMaxModelfileLines) {
          return Status::errorf("the Modelfile has more than {} lines", kMaxModelfileLines);
        }
        line_bytes = 0;
      } else if (++line_bytes > kMaxModelfileLineBytes) {
        return error(line_, fmt::format("the line is longer than {} bytes", kMaxModelfileLineBytes));
      }
    }
    CORRAL_RETURN_IF_ERROR(finish());
    return std::move(commands_);
  }

 private:
  Status error(int line, std::string msg) const { return Status::errorf("line {}: {}", line, msg); }

  // A word quoted in an error: a name can run to the line's length, the error stays one line.
  static std::string clip(const std::string& s) { return s.size() <= 40 ? s : s.substr(0, 40) + "..."; }

  // The rest of the word at i, for error texts.
  std::string word_from(size_t i) const {
    size_t e = i;
    while (e < text_.size() && !is_blank(text_[e]) && !is_newline(text_[e]) && e - i < 40) ++e;
    return std::string(text_.substr(i, e - i));
  }

  Status step(char c, size_t i) {
    switch (state_) {
      case State::kNil:
        if (c == '#') {
          state_ = State::kComment;
        } else if (!is_blank(c) && !is_newline(c)) {
          buf_.assign(1, c);
          cmd_ = ModelfileCommand{};
          cmd_.line = line_;
          state_ = State::kName;
        }
        return Status::ok();
      case State::kComment:
        if (is_newline(c)) state_ = State::kNil;
        return Status::ok();
      case State::kName:
        if (is_alpha(c)) {
          buf_ += c;
          return Status::ok();
        }
        if (is_blank(c)) return finish_name();
        if (is_newline(c) && is_instruction(lower(buf_))) {
          return error(line_, fmt::format("{} needs a value", upper(buf_)));
        }
        return error(line_, fmt::format("unknown instruction {}", quote_text(clip(buf_ + word_from(i)))));
      case State::kParamName:
        if (is_alpha(c) || is_digit(c) || c == '_') {
          buf_ += c;
        } else if (is_blank(c)) {
          if (!buf_.empty()) {
            cmd_.name = buf_;
            enter_value();
          }
        } else if (is_newline(c)) {
          return error(line_, buf_.empty() ? std::string("PARAMETER needs a name and a value")
                                           : fmt::format("PARAMETER {} needs a value", clip(buf_)));
        } else {
          return error(line_, fmt::format("invalid parameter name {}", quote_text(clip(buf_ + word_from(i)))));
        }
        return Status::ok();
      case State::kRole: {
        const char* kRoleError = R"(message role must be one of "system", "user", or "assistant")";
        if (is_alpha(c)) {
          buf_ += c;
          return Status::ok();
        }
        if (is_blank(c)) {
          if (buf_.empty()) return Status::ok();
          if (!is_valid_role(buf_)) return error(line_, kRoleError);
          role_ = buf_;
          enter_value();
          return Status::ok();
        }
        if (is_newline(c) && (buf_.empty() || is_valid_role(buf_))) {
          return error(line_, "MESSAGE needs a role and content");
        }
        return error(line_, kRoleError);
      }
      case State::kValue:
        if (is_newline(c) && try_emit()) {
          state_ = State::kNil;
        } else if (is_newline(c) || c == '\t' || static_cast<unsigned char>(c) >= 0x20) {
          if (c != 0x7f) buf_ += c;  // like Ollama, other control characters are dropped
        }
        return Status::ok();
    }
    return Status::ok();
  }

  static bool is_instruction(const std::string& n) {
    for (std::string_view k : {"from", "license", "template", "system", "adapter", "draft", "renderer", "parser",
                               "parameter", "message", "requires"}) {
      if (n == k) return true;
    }
    return false;
  }

  Status finish_name() {
    std::string n = lower(buf_);
    if (n == "adapter" || n == "draft") { return error(line_, fmt::format("{} is not supported yet", upper(n))); }
    if (!is_instruction(n)) return error(line_, fmt::format("unknown instruction {}", quote_text(clip(buf_))));
    buf_.clear();
    if (n == "parameter") {
      state_ = State::kParamName;
    } else if (n == "message") {
      cmd_.name = "message";
      role_.clear();
      state_ = State::kRole;
    } else {
      cmd_.name = n == "from" ? "model" : n;
      enter_value();
    }
    return Status::ok();
  }

  void enter_value() {
    buf_.clear();
    state_ = State::kValue;
  }

  bool try_emit() {
    std::string v;
    if (!unquote(trim(buf_), &v)) return false;
    cmd_.args = cmd_.name == "message" ? role_ + ": " + v : v;
    commands_.push_back(cmd_);
    buf_.clear();
    return true;
  }

  Status finish() {
    switch (state_) {
      case State::kNil:
      case State::kComment: return Status::ok();
      case State::kValue:
        if (try_emit()) return Status::ok();
        return error(cmd_.line, "a quoted value is never closed (unexpected end of file)");
      case State::kName:
        if (is_instruction(lower(buf_))) { return error(line_, fmt::format("{} needs a value", upper(buf_))); }
        return error(line_, fmt::format("unknown instruction {}", quote_text(clip(buf_))));
      case State::kParamName: return error(line_, "PARAMETER needs a name and a value");
      case State::kRole: return error(line_, "MESSAGE needs a role and content");
    }
    return Status::ok();
  }

  std::string_view text_;
  State state_ = State::kNil;
  int line_ = 1;
  std::string buf_;
  std::string role_;
  ModelfileCommand cmd_;
  std::vector<ModelfileCommand> commands_;
};

}  // namespace

Result<Modelfile> parse_modelfile(std::string_view text) {
  if (text.size() > kMaxModelfileBytes) {
    return Status::errorf("the Modelfile is {} bytes; at most {} bytes are allowed", text.size(), kMaxModelfileBytes);
  }
  if (text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);  // UTF-8 byte order mark
  if (text.substr(0, 2) == "\xFF\xFE" || text.substr(0, 2) == "\xFE\xFF") {
    return Status::error("the Modelfile is UTF-16 encoded; save it as UTF-8");
  }
  CORRAL_ASSIGN_OR_RETURN(std::vector<ModelfileCommand> commands, Scanner(text).run());

  Modelfile mf;
  for (const ModelfileCommand& c : commands) {
    auto fail = [&](const std::string& msg) { return Status::errorf("line {}: {}", c.line, msg); };
    if (c.name == "model") {
      if (c.args.empty()) return fail("FROM needs a value");
      if (mf.from.size() == kMaxModelfileFroms) return fail(fmt::format("more than {} FROM lines", kMaxModelfileFroms));
      mf.from.push_back(c.args);
    } else if (c.name == "template") {
      mf.template_text = c.args;
    } else if (c.name == "system") {
      mf.system = c.args;
    } else if (c.name == "license") {
      mf.licenses.push_back(c.args);
    } else if (c.name == "renderer") {
      mf.renderer = c.args;
    } else if (c.name == "parser") {
      mf.parser = c.args;
    } else if (c.name == "requires") {
      std::string v = c.args.empty() || c.args[0] != 'v' ? "v" + c.args : c.args;
      if (!is_valid_semver(v)) return fail("requires must be a valid semver (e.g. 0.14.0)");
      mf.requires_version = v.substr(1);
    } else if (c.name == "message") {
      if (mf.messages.size() == kMaxModelfileMessages)
        return fail(fmt::format("more than {} messages", kMaxModelfileMessages));
      size_t sep = c.args.find(": ");  // the scanner joined "role: content"
      mf.messages.push_back(Message{c.args.substr(0, sep), c.args.substr(sep + 2)});
    } else {
      Status st = add_parameter(&mf.parameters, c.name, c.args);
      if (!st) {
        return fail(find_parameter(c.name) ? fmt::format("PARAMETER {}: {}", c.name, st.message()) : st.message());
      }
    }
  }
  if (mf.from.empty()) return Status::error("no FROM line");
  mf.commands = std::move(commands);
  return mf;
}

}  // namespace corral::store
