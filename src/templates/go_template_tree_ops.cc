#include "templates/go_template_tree_ops.h"

#include <algorithm>
#include <cctype>

namespace corral::gotmpl {
namespace {

void add_lower(std::vector<std::string>& out, const std::string& name) {
  std::string s = name;
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  out.push_back(std::move(s));
}

void identifiers_in_pipe(const Pipeline& p, std::vector<std::string>& out);

void identifiers_in_expr(const Expr& e, std::vector<std::string>& out) {
  switch (e.kind) {
    case ExprKind::kField:
      for (const auto& f : e.fields) add_lower(out, f);
      break;
    case ExprKind::kVariable:
      add_lower(out, e.name);
      for (const auto& f : e.fields) add_lower(out, f);
      break;
    case ExprKind::kParen:
      if (e.fields.empty()) identifiers_in_pipe(*e.pipe, out);  // a chain is not walked
      break;
    default: break;
  }
}

void identifiers_in_pipe(const Pipeline& p, std::vector<std::string>& out) {
  for (const Command& c : p.cmds)
    for (const Expr& e : c.args) identifiers_in_expr(e, out);
}

void identifiers_in_list(const std::vector<Node>& list, std::vector<std::string>& out) {
  for (const Node& n : list) {
    if (n.kind == NodeKind::kText || n.kind == NodeKind::kBreak || n.kind == NodeKind::kContinue) continue;
    identifiers_in_pipe(n.pipe, out);
    identifiers_in_list(n.list, out);
    identifiers_in_list(n.else_list, out);
  }
}

// Pre-order walk with one flag: once the Response field is seen, every later node goes.
class Cutter {
 public:
  void list(std::vector<Node>& nodes) {
    std::vector<Node> kept;
    for (Node& n : nodes)
      if (keep(n)) kept.push_back(std::move(n));
    nodes = std::move(kept);
  }

 private:
  bool keep(Node& n) {
    if (cut_) return false;
    switch (n.kind) {
      case NodeKind::kAction: return keep_pipe(n.pipe);
      case NodeKind::kIf:
      case NodeKind::kRange:
      case NodeKind::kWith:
        list(n.list);
        list(n.else_list);
        return true;
      default: return true;
    }
  }

  bool keep_pipe(Pipeline& p) {
    if (cut_) return false;
    for (Command& c : p.cmds) {
      std::vector<Expr> kept;
      for (Expr& e : c.args)
        if (keep_arg(e)) kept.push_back(std::move(e));
      if (kept.empty()) return false;
      c.args = std::move(kept);
    }
    return true;
  }

  bool keep_arg(Expr& e) {
    if (cut_) return false;
    if (e.kind == ExprKind::kField && std::find(e.fields.begin(), e.fields.end(), "Response") != e.fields.end()) {
      cut_ = true;
      return true;
    }
    if (e.kind == ExprKind::kParen && e.fields.empty()) return keep_pipe(*e.pipe);
    return true;
  }

  bool cut_ = false;
};

}  // namespace

std::vector<std::string> collect_identifiers(const std::vector<Node>& root) {
  std::vector<std::string> out;
  identifiers_in_list(root, out);
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

void cut_after_response(std::vector<Node>& root) { Cutter().list(root); }

}  // namespace corral::gotmpl
