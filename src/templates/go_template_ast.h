// Parse tree of a Go text/template. Plain values (deep-copied on copy) so that Ollama's
// "cut everything after {{ .Response }}" can work on a copy without touching the original.
// Positions are byte offsets into the source; SourceMap turns them into line:column.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace corral::gotmpl {

// A deep-copying owning pointer: lets recursive value types (an expression holding a
// parenthesised pipeline) keep value semantics.
template <typename T>
class Box {
 public:
  Box() = default;
  explicit Box(T value) : p_(std::make_unique<T>(std::move(value))) {}
  Box(const Box& o) : p_(o.p_ ? std::make_unique<T>(*o.p_) : nullptr) {}
  Box(Box&&) noexcept = default;
  Box& operator=(const Box& o) {
    if (this != &o) p_ = o.p_ ? std::make_unique<T>(*o.p_) : nullptr;
    return *this;
  }
  Box& operator=(Box&&) noexcept = default;
  T& operator*() const { return *p_; }
  T* operator->() const { return p_.get(); }
  explicit operator bool() const { return p_ != nullptr; }

 private:
  std::unique_ptr<T> p_;
};

// A numeric literal as Go's parser classifies it: integers stay integers so `eq $i 0` compares
// exactly; anything with a '.', exponent or out of int64 range is a float.
struct Number {
  bool is_int = false;
  int64_t i = 0;
  double f = 0;
};

struct Pipeline;

enum class ExprKind {
  kDot,       // .
  kNil,       // nil
  kBool,      // true / false
  kNumber,    // 1, -2.5, 0x1F, 'a'
  kString,    // "..." or `...`
  kField,     // .A.B (fields applied to dot)
  kVariable,  // $x.A.B or $.A
  kFunction,  // identifier naming a function: eq, len, json, ...
  kParen,     // (pipeline).A.B
};

struct Expr {
  ExprKind kind = ExprKind::kDot;
  size_t offset = 0;
  std::string name;  // function name, variable name ("$", "$x"), string value
  bool boolean = false;
  Number number;
  std::vector<std::string> fields;  // field chain applied to the term ("A", "B")
  Box<Pipeline> pipe;               // kParen only
};

struct Command {
  size_t offset = 0;
  std::vector<Expr> args;  // args[0] is the operator (function, field, literal...)
};

struct Pipeline {
  size_t offset = 0;
  bool is_assign = false;         // `$x = ...` rather than `$x := ...`
  std::vector<std::string> decl;  // declared/assigned variables ("$x"); range may have two
  std::vector<Command> cmds;      // cmd1 | cmd2 | ...
};

enum class NodeKind { kText, kAction, kIf, kRange, kWith, kBreak, kContinue };

struct Node {
  NodeKind kind = NodeKind::kText;
  size_t offset = 0;
  std::string text;             // kText
  Pipeline pipe;                // kAction, kIf, kRange, kWith
  std::vector<Node> list;       // body of if/range/with
  std::vector<Node> else_list;  // {{ else }} branch; `else if` nests an kIf node here
};

// Maps byte offsets to 1-based line:column for error messages.
class SourceMap {
 public:
  SourceMap() = default;
  explicit SourceMap(std::string_view src);
  std::string where(size_t offset) const;  // "3:14"

 private:
  std::vector<size_t> line_starts_;
};

struct Tree {
  SourceMap source_map;
  std::vector<Node> root;
};

}  // namespace corral::gotmpl
