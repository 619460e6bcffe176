#include "templates/go_template_parser.h"

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <limits>
#include <string>

#include <fmt/format.h>

namespace corral::gotmpl {
namespace {

std::string describe(const Token& t) {
  switch (t.type) {
    case Tok::kEOF: return "EOF";
    case Tok::kSpace: return "space";
    case Tok::kText: return "text";
    case Tok::kString: return fmt::format("string \"{}\"", t.text);
    case Tok::kField: return fmt::format("\".{}\"", t.text);
    case Tok::kKeyword: return fmt::format("{{{{{}}}}}", t.text);
    default: return fmt::format("\"{}\"", t.text);
  }
}

bool is_digits(std::string_view s, int base) {
  if (s.empty()) return false;
  for (char c : s) {
    int d = (c >= '0' && c <= '9')   ? c - '0'
            : (c >= 'a' && c <= 'f') ? c - 'a' + 10
            : (c >= 'A' && c <= 'F') ? c - 'A' + 10
                                     : 99;
    if (d >= base) return false;
  }
  return true;
}

// Go number literal -> Number. Integers (decimal, 0x, 0o, 0b, leading-0 octal, '_' separators)
// stay integers; anything with a fraction or exponent is a float.
Result<Number> parse_number(const Token& t, const SourceMap& map) {
  Number n;
  if (t.type == Tok::kChar) {
    n.is_int = true;
    n.i = std::stoll(t.text);
    return n;
  }
  auto bad = [&] { return template_error(map, t.offset, fmt::format("bad number syntax: \"{}\"", t.text)); };
  std::string s;
  for (char c : t.text)
    if (c != '_') s.push_back(c);
  bool neg = false;
  std::string_view body = s;
  if (!body.empty() && (body[0] == '+' || body[0] == '-')) {
    neg = body[0] == '-';
    body.remove_prefix(1);
  }
  if (body.empty()) return bad();
  if (body.back() == 'i') return template_error(map, t.offset, "complex numbers are not supported");
  int base = 10;
  std::string_view digits = body;
  if (body.size() > 1 && body[0] == '0') {
    char p = body[1];
    if (p == 'x' || p == 'X') base = 16, digits = body.substr(2);
    else if (p == 'o' || p == 'O') base = 8, digits = body.substr(2);
    else if (p == 'b' || p == 'B') base = 2, digits = body.substr(2);
    else if (is_digits(body, 8)) base = 8, digits = body.substr(1);
  }
  if (is_digits(digits, base)) {
    errno = 0;
    unsigned long long u = std::strtoull(std::string(digits).c_str(), nullptr, base);
    uint64_t limit = neg ? uint64_t{1} << 63 : uint64_t{std::numeric_limits<int64_t>::max()};
    if (errno == ERANGE || u > limit)
      return template_error(map, t.offset, fmt::format("number {} overflows int", t.text));
    n.is_int = true;
    n.i = neg ? static_cast<int64_t>(0 - u) : static_cast<int64_t>(u);
    return n;
  }
  // A float: decimal with '.', exponent, or a hex float (strtod understands all of them).
  if (base == 8 && body[0] == '0' && body.find_first_of(".eE") == std::string_view::npos) return bad();
  char* end = nullptr;
  std::string str(s);
  double f = std::strtod(str.c_str(), &end);
  if (end != str.c_str() + str.size()) return bad();
  n.f = f;
  return n;
}

class Parser {
 public:
  Parser(const std::vector<Token>& toks, const SourceMap& map, int max_nesting)
      : toks_(toks), map_(map), max_nesting_(max_nesting) {}

  Result<std::vector<Node>> run() {
    std::vector<Node> root;
    CORRAL_ASSIGN_OR_RETURN(ListEnd end, parse_list(root));
    if (end.kind == End::kEnd) return error(end.offset, "unexpected {{end}}");
    if (end.kind == End::kElse) return error(end.offset, "unexpected {{else}}");
    return root;
  }

 private:
  enum class End { kEOF, kEnd, kElse };
  struct ListEnd {
    End kind;
    size_t offset;
  };

  const Token& peek() const { return toks_[p_]; }
  const Token& next() {
    const Token& t = toks_[p_];
    if (t.type != Tok::kEOF) ++p_;
    return t;
  }
  void skip_spaces() {
    while (peek().type == Tok::kSpace) ++p_;
  }
  Status error(size_t offset, std::string_view msg) const { return template_error(map_, offset, msg); }

  Status expect_right_delim(std::string_view context) {
    skip_spaces();
    const Token& t = next();
    if (t.type != Tok::kRightDelim) return error(t.offset, fmt::format("unexpected {} in {}", describe(t), context));
    return Status::ok();
  }

  Status enter(size_t offset) {
    if (++depth_ > max_nesting_)
      return error(offset, fmt::format("template nesting too deep (more than {} levels)", max_nesting_));
    return Status::ok();
  }

  // Parses nodes until EOF, {{end}} or {{else}}. For else, the tokens after the keyword are
  // left for the enclosing control to read ("if", "with" or "}}").
  Result<ListEnd> parse_list(std::vector<Node>& out) {
    for (;;) {
      const Token& t = next();
      if (t.type == Tok::kEOF) return ListEnd{End::kEOF, t.offset};
      if (t.type == Tok::kText) {
        Node n;
        n.kind = NodeKind::kText;
        n.offset = t.offset;
        n.text = t.text;
        out.push_back(std::move(n));
        continue;
      }
      // Only text and actions appear at this level; the lexer guarantees t is "{{".
      skip_spaces();
      const Token& k = peek();
      if (k.type == Tok::kKeyword) {
        next();
        if (k.text == "end") {
          CORRAL_RETURN_IF_ERROR(expect_right_delim("end"));
          return ListEnd{End::kEnd, k.offset};
        }
        if (k.text == "else") return ListEnd{End::kElse, k.offset};
        if (k.text == "if" || k.text == "range" || k.text == "with") {
          CORRAL_ASSIGN_OR_RETURN(Node n, parse_control(k));
          out.push_back(std::move(n));
          continue;
        }
        if (k.text == "break" || k.text == "continue") {
          if (range_depth_ == 0) return error(k.offset, fmt::format("{{{{{}}}}} outside {{{{range}}}}", k.text));
          CORRAL_RETURN_IF_ERROR(expect_right_delim(k.text));
          Node n;
          n.kind = k.text == "break" ? NodeKind::kBreak : NodeKind::kContinue;
          n.offset = k.offset;
          out.push_back(std::move(n));
          continue;
        }
        return error(k.offset, fmt::format("{{{{{}}}}} is not supported", k.text));
      }
      Node n;
      n.kind = NodeKind::kAction;
      n.offset = k.offset;
      CORRAL_RETURN_IF_ERROR(pipeline(n.pipe, "command", Tok::kRightDelim, false));
      out.push_back(std::move(n));
    }
  }

  // {{if p}} ... [{{else if p}} ... | {{else}} ...] {{end}}, likewise range and with.
  Result<Node> parse_control(const Token& keyword) {
    CORRAL_RETURN_IF_ERROR(enter(keyword.offset));
    size_t var_mark = vars_.size();
    Node n;
    n.offset = keyword.offset;
    n.kind = keyword.text == "if" ? NodeKind::kIf : keyword.text == "range" ? NodeKind::kRange : NodeKind::kWith;
    bool is_range = n.kind == NodeKind::kRange;
    CORRAL_RETURN_IF_ERROR(pipeline(n.pipe, keyword.text, Tok::kRightDelim, is_range));
    if (is_range) ++range_depth_;
    auto body = parse_list(n.list);
    if (is_range) --range_depth_;
    CORRAL_RETURN_IF_ERROR(body);
    ListEnd end = body.value();
    if (end.kind == End::kEOF)
      return error(keyword.offset, fmt::format("unexpected EOF: {{{{{}}}}} has no matching {{{{end}}}}", keyword.text));
    if (end.kind == End::kElse) {
      skip_spaces();
      const Token& k = peek();
      bool chained = k.type == Tok::kKeyword &&
                     ((n.kind == NodeKind::kIf && k.text == "if") || (n.kind == NodeKind::kWith && k.text == "with"));
      if (chained) {
        // {{else if b}} is {{else}}{{if b}}...{{end}} sharing the outer {{end}}.
        next();
        CORRAL_ASSIGN_OR_RETURN(Node nested, parse_control(k));
        n.else_list.push_back(std::move(nested));
      } else {
        CORRAL_RETURN_IF_ERROR(expect_right_delim("else"));
        CORRAL_ASSIGN_OR_RETURN(ListEnd else_end, parse_list(n.else_list));
        if (else_end.kind == End::kEOF)
          return error(keyword.offset,
                       fmt::format("unexpected EOF: {{{{{}}}}} has no matching {{{{end}}}}", keyword.text));
        if (else_end.kind == End::kElse) return error(else_end.offset, "expected {{end}}, found a second {{else}}");
      }
    }
    vars_.resize(var_mark);
    --depth_;
    return n;
  }

  bool var_defined(const std::string& name) const { return std::find(vars_.begin(), vars_.end(), name) != vars_.end(); }

  // [decl :=|=] command [| command]... up to `end` (right delimiter or right paren).
  Status pipeline(Pipeline& pipe, std::string_view context, Tok end, bool range_decl) {
    skip_spaces();
    pipe.offset = peek().offset;
    if (peek().type == Tok::kVariable) {
      size_t save = p_;
      std::vector<const Token*> names{&next()};
      skip_spaces();
      if (range_decl && peek().type == Tok::kComma) {
        next();
        skip_spaces();
        if (peek().type == Tok::kVariable) {
          names.push_back(&next());
          skip_spaces();
        }
      }
      Tok op = peek().type;
      if (op == Tok::kDeclare || op == Tok::kAssign) {
        next();
        pipe.is_assign = op == Tok::kAssign;
        for (const Token* v : names) {
          if (pipe.is_assign && !var_defined(v->text))
            return error(v->offset, fmt::format("undefined variable \"{}\"", v->text));
          pipe.decl.push_back(v->text);
          vars_.push_back(v->text);
        }
      } else if (names.size() == 2) {
        return error(names[0]->offset, fmt::format("expected := or = after {} in {}", names[1]->text, context));
      } else {
        p_ = save;  // not a declaration: the variable is an operand
      }
    }
    for (;;) {
      skip_spaces();
      Command cmd;
      cmd.offset = peek().offset;
      CORRAL_RETURN_IF_ERROR(command(cmd, context));
      pipe.cmds.push_back(std::move(cmd));
      const Token& t = next();
      if (t.type == Tok::kPipe) continue;
      if (t.type == end) break;
      return error(t.offset, fmt::format("unexpected {} in {}", describe(t), context));
    }
    for (size_t i = 1; i < pipe.cmds.size(); ++i) {
      ExprKind k = pipe.cmds[i].args[0].kind;
      if (k == ExprKind::kBool || k == ExprKind::kDot || k == ExprKind::kNil || k == ExprKind::kNumber ||
          k == ExprKind::kString)
        return error(pipe.cmds[i].offset, fmt::format("non executable command in pipeline stage {}", i + 1));
    }
    return Status::ok();
  }

  // Space-separated operands up to "|", "}}" or ")".
  Status command(Command& cmd, std::string_view context) {
    for (;;) {
      skip_spaces();
      Tok t = peek().type;
      if (t == Tok::kPipe || t == Tok::kRightDelim || t == Tok::kRightParen || t == Tok::kEOF) break;
      CORRAL_ASSIGN_OR_RETURN(Expr e, operand());
      cmd.args.push_back(std::move(e));
      const Token& after = peek();
      if (after.type == Tok::kSpace || after.type == Tok::kPipe || after.type == Tok::kRightDelim ||
          after.type == Tok::kRightParen)
        continue;
      return error(after.offset, fmt::format("unexpected {} in operand", describe(after)));
    }
    if (cmd.args.empty()) return error(peek().offset, fmt::format("missing value for {}", context));
    return Status::ok();
  }

  // A term followed by an optional .Field chain.
  Result<Expr> operand() {
    CORRAL_ASSIGN_OR_RETURN(Expr e, term());
    if (peek().type == Tok::kField) {
      if (e.kind != ExprKind::kField && e.kind != ExprKind::kVariable && e.kind != ExprKind::kParen)
        return error(peek().offset,
                     fmt::format("unexpected . after term \"{}\"", e.kind == ExprKind::kFunction ? e.name : "literal"));
      while (peek().type == Tok::kField) e.fields.push_back(next().text);
    }
    return e;
  }

  Result<Expr> term() {
    const Token& t = next();
    Expr e;
    e.offset = t.offset;
    switch (t.type) {
      case Tok::kIdentifier:
        e.kind = ExprKind::kFunction;
        e.name = t.text;
        return e;
      case Tok::kDot: e.kind = ExprKind::kDot; return e;
      case Tok::kNil: e.kind = ExprKind::kNil; return e;
      case Tok::kBool:
        e.kind = ExprKind::kBool;
        e.boolean = t.text == "true";
        return e;
      case Tok::kString:
        e.kind = ExprKind::kString;
        e.name = t.text;
        return e;
      case Tok::kField:
        e.kind = ExprKind::kField;
        e.fields.push_back(t.text);
        return e;
      case Tok::kVariable:
        if (!var_defined(t.text)) return error(t.offset, fmt::format("undefined variable \"{}\"", t.text));
        e.kind = ExprKind::kVariable;
        e.name = t.text;
        return e;
      case Tok::kNumber:
      case Tok::kChar: {
        e.kind = ExprKind::kNumber;
        CORRAL_ASSIGN_OR_RETURN(e.number, parse_number(t, map_));
        return e;
      }
      case Tok::kLeftParen: {
        CORRAL_RETURN_IF_ERROR(enter(t.offset));
        Pipeline sub;
        CORRAL_RETURN_IF_ERROR(pipeline(sub, "parenthesized pipeline", Tok::kRightParen, false));
        --depth_;
        e.kind = ExprKind::kParen;
        e.pipe = Box<Pipeline>(std::move(sub));
        return e;
      }
      default: return error(t.offset, fmt::format("unexpected {} in operand", describe(t)));
    }
  }

  const std::vector<Token>& toks_;
  const SourceMap& map_;
  const int max_nesting_;
  size_t p_ = 0;
  int depth_ = 0;
  int range_depth_ = 0;
  std::vector<std::string> vars_{"$"};  // variables in scope; "$" is the data root
};

}  // namespace

Result<std::vector<Node>> parse_tokens(const std::vector<Token>& tokens, const SourceMap& map, int max_nesting) {
  return Parser(tokens, map, max_nesting).run();
}

}  // namespace corral::gotmpl
