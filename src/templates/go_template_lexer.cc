#include "templates/go_template_lexer.h"

#include <algorithm>
#include <cstdint>

#include <fmt/format.h>

#include "templates/go_value.h"

namespace corral::gotmpl {

SourceMap::SourceMap(std::string_view src) {
  line_starts_.push_back(0);
  for (size_t i = 0; i < src.size(); ++i)
    if (src[i] == '\n') line_starts_.push_back(i + 1);
}

std::string SourceMap::where(size_t offset) const {
  if (line_starts_.empty()) return fmt::format("1:{}", offset + 1);
  auto it = std::upper_bound(line_starts_.begin(), line_starts_.end(), offset);
  size_t line = static_cast<size_t>(it - line_starts_.begin());  // 1-based
  return fmt::format("{}:{}", line, offset - line_starts_[line - 1] + 1);
}

Status template_error(const SourceMap& map, size_t offset, std::string_view message) {
  return Status::errorf("template:{}: {}", map.where(offset), message);
}

namespace {

// Go's trim markers need the space: "{{- 3}}" trims, "{{-3}}" is the number -3.
bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }
bool is_alnum(char c) {
  unsigned char u = static_cast<unsigned char>(c);
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         u >= 0x80;  // UTF-8 bytes: Go accepts Unicode letters in identifiers
}
bool is_digit(char c) { return c >= '0' && c <= '9'; }

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

const char* const kKeywords[] = {"if",    "else",     "end",    "range",    "with",
                                 "break", "continue", "define", "template", "block"};

class Lexer {
 public:
  Lexer(std::string_view src, const SourceMap& map) : src_(src), map_(map) {}

  Result<std::vector<Token>> run() {
    size_t i = 0;
    bool trim_next_text = false;
    while (i <= src_.size()) {
      size_t open = src_.find("{{", i);
      size_t text_end = open == std::string_view::npos ? src_.size() : open;
      std::string_view text = src_.substr(i, text_end - i);
      bool trim_left =
          open != std::string_view::npos && open + 3 < src_.size() && src_[open + 2] == '-' && is_space(src_[open + 3]);
      if (trim_next_text) text = ltrim(text);
      if (trim_left) text = rtrim(text);
      if (!text.empty()) emit(Tok::kText, i, std::string(text));
      if (open == std::string_view::npos) break;

      size_t start = trim_left ? open + 3 : open + 2;
      // Comments are whole actions: {{/* ... */}}, optionally with trim markers.
      size_t after_marker = trim_left ? open + 4 : open + 2;
      if (src_.substr(after_marker).substr(0, 2) == "/*") {
        CORRAL_ASSIGN_OR_RETURN(i, comment(open, after_marker, trim_next_text));
        continue;
      }
      emit(Tok::kLeftDelim, open, "{{");
      CORRAL_ASSIGN_OR_RETURN(i, action(open, start, trim_next_text));
    }
    emit(Tok::kEOF, src_.size(), "");
    return std::move(tokens_);
  }

 private:
  static std::string_view ltrim(std::string_view s) {
    size_t k = 0;
    while (k < s.size() && is_space(s[k])) ++k;
    return s.substr(k);
  }
  static std::string_view rtrim(std::string_view s) {
    size_t k = s.size();
    while (k > 0 && is_space(s[k - 1])) --k;
    return s.substr(0, k);
  }

  void emit(Tok t, size_t off, std::string text) { tokens_.push_back({t, off, std::move(text)}); }
  Status error(size_t off, std::string_view msg) const { return template_error(map_, off, msg); }

  // Right delimiter at i: "}}" (returns 2) or " -}}" trimming what follows (returns 4).
  size_t right_delim_at(size_t i, bool& trim) const {
    if (src_.substr(i, 2) == "}}") {
      trim = false;
      return 2;
    }
    if (i < src_.size() && is_space(src_[i]) && src_.substr(i + 1, 3) == "-}}") {
      trim = true;
      return 4;
    }
    return 0;
  }

  Result<size_t> comment(size_t open, size_t body, bool& trim_after) {
    size_t close = src_.find("*/", body + 2);
    if (close == std::string_view::npos) return error(open, "unclosed comment");
    size_t n = right_delim_at(close + 2, trim_after);
    if (n == 0) return error(open, "comment ends before closing delimiter");
    return close + 2 + n;
  }

  // Lexes the inside of an action starting at i; returns the offset after its "}}".
  Result<size_t> action(size_t open, size_t i, bool& trim_after) {
    int parens = 0;
    for (;;) {
      bool trim = false;
      size_t n = right_delim_at(i, trim);
      if (n > 0) {
        if (parens > 0) return error(open, "unclosed left paren");
        emit(Tok::kRightDelim, i, "}}");
        trim_after = trim;
        return i + n;
      }
      if (i >= src_.size()) return error(open, "unclosed action");
      char c = src_[i];
      size_t start = i;
      if (is_space(c)) {
        // Stop before a space that begins " -}}" so the delimiter check above sees it.
        while (i < src_.size() && is_space(src_[i]) && src_.substr(i + 1, 3) != "-}}") ++i;
        if (i > start) emit(Tok::kSpace, start, " ");
        continue;
      }
      switch (c) {
        case '=': emit(Tok::kAssign, i++, "="); continue;
        case '|': emit(Tok::kPipe, i++, "|"); continue;
        case ',': emit(Tok::kComma, i++, ","); continue;
        case '(':
          ++parens;
          emit(Tok::kLeftParen, i++, "(");
          continue;
        case ')':
          if (--parens < 0) return error(i, "unexpected right paren");
          emit(Tok::kRightParen, i++, ")");
          continue;
        case ':':
          if (src_.substr(i, 2) != ":=") return error(i, "expected :=");
          emit(Tok::kDeclare, i, ":=");
          i += 2;
          continue;
        case '"': {
          CORRAL_ASSIGN_OR_RETURN(i, quoted(i));
          continue;
        }
        case '`': {
          size_t close = src_.find('`', i + 1);
          if (close == std::string_view::npos) return error(i, "unterminated raw quoted string");
          emit(Tok::kString, i, std::string(src_.substr(i + 1, close - i - 1)));
          i = close + 1;
          continue;
        }
        case '\'': {
          CORRAL_ASSIGN_OR_RETURN(i, char_constant(i));
          continue;
        }
        case '$': {
          ++i;
          while (i < src_.size() && is_alnum(src_[i])) ++i;
          emit(Tok::kVariable, start, std::string(src_.substr(start, i - start)));
          CORRAL_RETURN_IF_ERROR(check_terminator(i));
          continue;
        }
        case '.':
          if (i + 1 < src_.size() && is_digit(src_[i + 1])) break;  // .5 is a number
          if (i + 1 < src_.size() && is_alnum(src_[i + 1])) {
            ++i;
            while (i < src_.size() && is_alnum(src_[i])) ++i;
            emit(Tok::kField, start, std::string(src_.substr(start + 1, i - start - 1)));
            CORRAL_RETURN_IF_ERROR(check_terminator(i));
          } else {
            emit(Tok::kDot, i++, ".");
          }
          continue;
        default: break;
      }
      if (c == '+' || c == '-' || c == '.' || is_digit(c)) {
        CORRAL_ASSIGN_OR_RETURN(i, number(i));
        continue;
      }
      if (is_alnum(c)) {
        while (i < src_.size() && is_alnum(src_[i])) ++i;
        std::string word(src_.substr(start, i - start));
        Tok t = Tok::kIdentifier;
        if (word == "true" || word == "false") t = Tok::kBool;
        if (word == "nil") t = Tok::kNil;
        for (const char* k : kKeywords)
          if (word == k) t = Tok::kKeyword;
        emit(t, start, std::move(word));
        CORRAL_RETURN_IF_ERROR(check_terminator(i));
        continue;
      }
      return error(i, fmt::format("unrecognized character in action: U+{:04X} '{}'", static_cast<unsigned char>(c), c));
    }
  }

  // After a name, Go requires a separator: space, '.', ',', '|', ':', '(', ')', or "}}".
  Status check_terminator(size_t i) const {
    if (i >= src_.size()) return Status::ok();
    char c = src_[i];
    if (is_space(c) || c == '.' || c == ',' || c == '|' || c == ':' || c == '(' || c == ')' || c == '=' ||
        src_.substr(i, 2) == "}}")
      return Status::ok();
    return error(i, fmt::format("bad character U+{:04X} '{}'", static_cast<unsigned char>(c), c));
  }

  Result<size_t> number(size_t i) {
    size_t start = i;
    if (src_[i] == '+' || src_[i] == '-') ++i;
    while (i < src_.size()) {
      char c = src_[i];
      if (is_alnum(c) || c == '.') {
        ++i;
      } else if ((c == '+' || c == '-') &&
                 (src_[i - 1] == 'e' || src_[i - 1] == 'E' || src_[i - 1] == 'p' || src_[i - 1] == 'P')) {
        ++i;  // exponent sign
      } else {
        break;
      }
    }
    std::string text(src_.substr(start, i - start));
    if (text == "+" || text == "-") return error(start, fmt::format("bad number syntax: \"{}\"", text));
    emit(Tok::kNumber, start, std::move(text));
    return i;
  }

  // Decodes one escape sequence after the backslash at s[i]; quote is the delimiter.
  Result<size_t> escape(size_t i, char quote, std::string& out) const {
    if (i + 1 >= src_.size()) return error(i, "unterminated quoted string");
    char c = src_[i + 1];
    switch (c) {
      case 'a': out.push_back('\a'); return i + 2;
      case 'b': out.push_back('\b'); return i + 2;
      case 'f': out.push_back('\f'); return i + 2;
      case 'n': out.push_back('\n'); return i + 2;
      case 'r': out.push_back('\r'); return i + 2;
      case 't': out.push_back('\t'); return i + 2;
      case 'v': out.push_back('\v'); return i + 2;
      case '\\': out.push_back('\\'); return i + 2;
      default: break;
    }
    if (c == quote) {
      out.push_back(c);
      return i + 2;
    }
    int digits = c == 'x' ? 2 : c == 'u' ? 4 : c == 'U' ? 8 : (c >= '0' && c <= '7') ? 3 : 0;
    if (digits == 0) return error(i, fmt::format("invalid escape sequence \\{}", c));
    bool octal = c >= '0' && c <= '7';
    size_t j = octal ? i + 1 : i + 2;
    uint32_t v = 0;
    for (int k = 0; k < digits; ++k, ++j) {
      int d = j < src_.size() ? hex_value(src_[j]) : -1;
      if (d < 0 || (octal && d > 7)) return error(i, "invalid escape sequence in quoted string");
      v = v * (octal ? 8 : 16) + static_cast<uint32_t>(d);
    }
    if (c == 'x' || octal) {
      if (v > 255) return error(i, "octal escape value > 255");
      out.push_back(static_cast<char>(v));  // a raw byte, as in Go
    } else {
      if (v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
        return error(i, "escape sequence is invalid Unicode code point");
      append_utf8(out, v);
    }
    return j;
  }

  Result<size_t> quoted(size_t i) {
    size_t start = i++;
    std::string value;
    while (true) {
      if (i >= src_.size() || src_[i] == '\n') return error(start, "unterminated quoted string");
      char c = src_[i];
      if (c == '"') break;
      if (c == '\\') {
        CORRAL_ASSIGN_OR_RETURN(i, escape(i, '"', value));
        continue;
      }
      value.push_back(c);
      ++i;
    }
    emit(Tok::kString, start, std::move(value));
    return i + 1;
  }

  Result<size_t> char_constant(size_t i) {
    size_t start = i++;
    std::string value;
    if (i < src_.size() && src_[i] == '\\') {
      CORRAL_ASSIGN_OR_RETURN(i, escape(i, '\'', value));
    } else {
      while (i < src_.size() && src_[i] != '\'' && src_[i] != '\n') value.push_back(src_[i++]);
    }
    if (i >= src_.size() || src_[i] != '\'') return error(start, "unterminated character constant");
    // Decode the single UTF-8 character to its code point.
    uint32_t r = 0;
    unsigned char b0 = value.empty() ? 0 : static_cast<unsigned char>(value[0]);
    size_t len = b0 < 0x80 ? 1 : (b0 >> 5) == 6 ? 2 : (b0 >> 4) == 14 ? 3 : (b0 >> 3) == 30 ? 4 : 1;
    if (value.empty() || (value.size() != len && value.size() != 1))
      return error(start, "malformed character constant");
    if (value.size() == 1) {
      r = b0;
    } else {
      r = b0 & (0x7F >> len);
      for (size_t k = 1; k < len; ++k) r = (r << 6) | (static_cast<unsigned char>(value[k]) & 0x3F);
    }
    emit(Tok::kChar, start, std::to_string(r));
    return i + 1;
  }

  std::string_view src_;
  const SourceMap& map_;
  std::vector<Token> tokens_;
};

}  // namespace

Result<std::vector<Token>> lex(std::string_view src, const SourceMap& map) { return Lexer(src, map).run(); }

}  // namespace corral::gotmpl
