#include "templates/go_template_exec.h"

#include <cctype>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "templates/go_template_funcs.h"
#include "templates/go_template_lexer.h"

namespace corral::gotmpl {
namespace {

// "ToolCallID" -> "tool_call_id": the JSON spelling of an Ollama Go struct field.
std::string snake_case(std::string_view name) {
  std::string out;
  auto upper = [](char c) { return c >= 'A' && c <= 'Z'; };
  auto lower_or_digit = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
  for (size_t i = 0; i < name.size(); ++i) {
    char c = name[i];
    if (upper(c)) {
      bool boundary = i > 0 && (lower_or_digit(name[i - 1]) ||
                                (upper(name[i - 1]) && i + 1 < name.size() && lower_or_digit(name[i + 1])));
      if (boundary) out.push_back('_');
      out.push_back(static_cast<char>(c - 'A' + 'a'));
    } else {
      out.push_back(c);
    }
  }
  return out;
}

std::string type_name(const Value& v) {
  switch (v.kind()) {
    case Kind::kBool: return "bool";
    case Kind::kInt: return "int";
    case Kind::kUint: return "uint";
    case Kind::kFloat: return "float64";
    case Kind::kString: return "string";
    case Kind::kArray: return "[]interface {}";
    default: return "interface {}";
  }
}

Value literal(const Expr& e) {
  switch (e.kind) {
    case ExprKind::kBool: return Value::of(e.boolean);
    case ExprKind::kString: return Value::of(e.name);
    case ExprKind::kNumber: return e.number.is_int ? Value::of(e.number.i) : Value::of(e.number.f);
    default: return Value();
  }
}

class Executor {
 public:
  Executor(const Tree& tree, const GoTemplateLimits& limits) : tree_(tree), limits_(limits) {}

  Result<std::string> run(const Value& root) {
    vars_.emplace_back("$", root);
    CORRAL_ASSIGN_OR_RETURN(Flow flow, walk_list(tree_.root, root));
    (void)flow;  // the parser rejects break/continue outside range
    return std::move(out_);
  }

 private:
  enum class Flow { kNormal, kBreak, kContinue };

  Status error(size_t offset, std::string_view msg) const { return template_error(tree_.source_map, offset, msg); }

  Status step(size_t offset) {
    if (++steps_ > limits_.max_steps)
      return error(offset, fmt::format("template execution exceeded {} steps", limits_.max_steps));
    return Status::ok();
  }

  Status write_value(size_t offset, const Value& v) {
    append_printed(out_, v);
    if (out_.size() > limits_.max_output_bytes)
      return error(offset, fmt::format("template output exceeds {} bytes", limits_.max_output_bytes));
    return Status::ok();
  }

  Result<Flow> walk_list(const std::vector<Node>& list, const Value& dot) {
    for (const Node& n : list) {
      CORRAL_ASSIGN_OR_RETURN(Flow flow, walk(n, dot));
      if (flow != Flow::kNormal) return flow;
    }
    return Flow::kNormal;
  }

  Result<Flow> walk(const Node& n, const Value& dot) {
    CORRAL_RETURN_IF_ERROR(step(n.offset));
    switch (n.kind) {
      case NodeKind::kText:
        out_ += n.text;
        if (out_.size() > limits_.max_output_bytes)
          return error(n.offset, fmt::format("template output exceeds {} bytes", limits_.max_output_bytes));
        return Flow::kNormal;
      case NodeKind::kAction: {
        CORRAL_ASSIGN_OR_RETURN(Value v, pipeline(n.pipe, dot));
        if (n.pipe.decl.empty()) CORRAL_RETURN_IF_ERROR(write_value(n.offset, v));  // {{ $x := }} prints nothing
        return Flow::kNormal;
      }
      case NodeKind::kIf:
      case NodeKind::kWith: return walk_if_with(n, dot);
      case NodeKind::kRange: return walk_range(n, dot);
      case NodeKind::kBreak: return Flow::kBreak;
      case NodeKind::kContinue: return Flow::kContinue;
    }
    return Flow::kNormal;
  }

  // Variables declared in the pipeline or the branches live until the matching {{end}}.
  Result<Flow> walk_if_with(const Node& n, const Value& dot) {
    size_t mark = vars_.size();
    CORRAL_ASSIGN_OR_RETURN(Value v, pipeline(n.pipe, dot));
    Result<Flow> flow = Flow::kNormal;
    if (v.truth()) flow = walk_list(n.list, n.kind == NodeKind::kWith ? v : dot);
    else flow = walk_list(n.else_list, dot);
    vars_.resize(mark);
    return flow;
  }

  // Binds the range variables for one iteration the way Go does: with one variable it gets the
  // element, with two the first gets the index/key and the second the element.
  Status bind_range_vars(const Pipeline& p, const Value& index, const Value& elem) {
    if (p.decl.empty()) return Status::ok();
    const Value& first = p.decl.size() > 1 ? index : elem;
    CORRAL_RETURN_IF_ERROR(set_var(p.offset, p.decl[0], first));
    if (p.decl.size() > 1) CORRAL_RETURN_IF_ERROR(set_var(p.offset, p.decl[1], elem));
    return Status::ok();
  }

  Result<Flow> walk_range(const Node& n, const Value& dot) {
    size_t mark = vars_.size();
    CORRAL_ASSIGN_OR_RETURN(Value v, pipeline(n.pipe, dot));
    size_t body_mark = vars_.size();
    bool any = false;
    auto iteration = [&](const Value& index, const Value& elem) -> Result<Flow> {
      any = true;
      CORRAL_RETURN_IF_ERROR(step(n.offset));
      CORRAL_RETURN_IF_ERROR(bind_range_vars(n.pipe, index, elem));
      Result<Flow> flow = walk_list(n.list, elem);
      vars_.resize(body_mark);
      return flow;
    };
    switch (v.kind()) {
      case Kind::kArray:
        for (size_t i = 0; i < v.size(); ++i) {
          CORRAL_ASSIGN_OR_RETURN(Flow f, iteration(Value::of(static_cast<int64_t>(i)), v.element(i)));
          if (f == Flow::kBreak) break;
        }
        break;
      case Kind::kObject:
        for (auto& [key, elem] : v.sorted_members()) {
          CORRAL_ASSIGN_OR_RETURN(Flow f, iteration(Value::of(*key), elem));
          if (f == Flow::kBreak) break;
        }
        break;
      case Kind::kInt:
      case Kind::kUint: {  // Go 1.22: range over an integer counts 0..n-1
        int64_t count = v.kind() == Kind::kInt ? v.as_int() : static_cast<int64_t>(v.as_uint());
        for (int64_t i = 0; i < count; ++i) {
          Value iv = Value::of(i);
          CORRAL_ASSIGN_OR_RETURN(Flow f, iteration(iv, iv));
          if (f == Flow::kBreak) break;
        }
        break;
      }
      case Kind::kMissing:
      case Kind::kNull: break;  // nothing to iterate: the else branch runs
      default: {
        std::string shown;
        append_printed(shown, v);
        return error(n.offset, fmt::format("range can't iterate over {}", shown));
      }
    }
    // A break in the body ended this range; one in the else branch belongs to an outer range.
    Result<Flow> flow = Flow::kNormal;
    if (!any) flow = walk_list(n.else_list, dot);
    vars_.resize(mark);
    return flow;
  }

  Status set_var(size_t offset, const std::string& name, const Value& v) {
    for (size_t i = vars_.size(); i-- > 0;) {
      if (vars_[i].first == name) {
        vars_[i].second = v;
        return Status::ok();
      }
    }
    return error(offset, fmt::format("undefined variable: {}", name));
  }

  Result<Value> var(size_t offset, const std::string& name) const {
    for (size_t i = vars_.size(); i-- > 0;)
      if (vars_[i].first == name) return vars_[i].second;
    return error(offset, fmt::format("undefined variable: {}", name));
  }

  // Runs the commands, feeding each result to the next as its final argument, then binds
  // declared variables (new ones for :=, existing ones for =).
  Result<Value> pipeline(const Pipeline& p, const Value& dot) {
    Value value;
    bool have_final = false;
    for (const Command& cmd : p.cmds) {
      CORRAL_ASSIGN_OR_RETURN(value, command(cmd, dot, have_final ? &value : nullptr));
      have_final = true;
    }
    for (const std::string& name : p.decl) {
      if (p.is_assign) CORRAL_RETURN_IF_ERROR(set_var(p.offset, name, value));
      else vars_.emplace_back(name, value);
    }
    return value;
  }

  Result<Value> command(const Command& cmd, const Value& dot, const Value* final) {
    CORRAL_RETURN_IF_ERROR(step(cmd.offset));
    const Expr& first = cmd.args[0];
    bool has_args = cmd.args.size() > 1 || final != nullptr;
    switch (first.kind) {
      case ExprKind::kFunction: return call(first, cmd, dot, final);
      case ExprKind::kField: return fields(dot, first.fields, first.offset, has_args);
      case ExprKind::kVariable: {
        CORRAL_ASSIGN_OR_RETURN(Value v, var(first.offset, first.name));
        if (first.fields.empty() && has_args)
          return error(first.offset, fmt::format("can't give argument to non-function {}", first.name));
        return fields(v, first.fields, first.offset, has_args);
      }
      case ExprKind::kParen: {
        CORRAL_ASSIGN_OR_RETURN(Value v, pipeline(*first.pipe, dot));
        if (first.fields.empty() && has_args)
          return error(first.offset, "can't give argument to non-function (pipeline)");
        return fields(v, first.fields, first.offset, has_args);
      }
      case ExprKind::kNil: return error(first.offset, "nil is not a command");
      case ExprKind::kDot:
      case ExprKind::kBool:
      case ExprKind::kNumber:
      case ExprKind::kString:
        if (has_args) return error(first.offset, "can't give argument to non-function");
        return first.kind == ExprKind::kDot ? dot : literal(first);
    }
    return Value();
  }

  // Field chain from v. A missing key is nil (missingkey=zero over map[string]any); a field
  // of nil or of a non-object is an error, as in Go.
  Result<Value> fields(Value v, const std::vector<std::string>& names, size_t offset, bool has_args) {
    for (size_t i = 0; i < names.size(); ++i) {
      const std::string& name = names[i];
      if (v.kind() == Kind::kObject) {
        Value m = v.member(name);
        if (m.kind() == Kind::kMissing) {
          std::string alt = snake_case(name);
          if (alt != name) m = v.member(alt);
        }
        v = m;
      } else if (v.is_nil()) {
        return error(offset, fmt::format("nil pointer evaluating interface {{}}.{}", name));
      } else {
        return error(offset, fmt::format("can't evaluate field {} in type {}", name, type_name(v)));
      }
      if (i + 1 == names.size() && has_args)
        return error(offset, fmt::format("{} is not a method but has arguments", name));
    }
    return v;
  }

  // An argument position: like a command of one word, except that a function name calls the
  // function with no arguments (`print currentDate`).
  Result<Value> arg(const Expr& e, const Value& dot) {
    switch (e.kind) {
      case ExprKind::kDot: return dot;
      case ExprKind::kNil: return Value();
      case ExprKind::kField: return fields(dot, e.fields, e.offset, false);
      case ExprKind::kVariable: {
        CORRAL_ASSIGN_OR_RETURN(Value v, var(e.offset, e.name));
        return fields(v, e.fields, e.offset, false);
      }
      case ExprKind::kParen: {
        CORRAL_ASSIGN_OR_RETURN(Value v, pipeline(*e.pipe, dot));
        return fields(v, e.fields, e.offset, false);
      }
      case ExprKind::kFunction: {
        Command alone;
        alone.offset = e.offset;
        alone.args.push_back(e);
        return call(e, alone, dot, nullptr);
      }
      default: return literal(e);
    }
  }

  Result<Value> call(const Expr& fn, const Command& cmd, const Value& dot, const Value* final) {
    FuncStatus status = function_status(fn.name);
    if (status == FuncStatus::kUnknown)
      return error(fn.offset, fmt::format("\"{}\" is not a defined function", fn.name));
    if (status == FuncStatus::kUnsupported)
      return error(fn.offset, fmt::format("function \"{}\" is not supported", fn.name));
    // and/or short-circuit: arguments after the deciding one are never evaluated.
    if (fn.name == "and" || fn.name == "or") {
      bool is_or = fn.name == "or";
      if (cmd.args.size() < 2 && final == nullptr)
        return error(fn.offset, fmt::format("error calling {}: wrong number of args for {}: want at least 1 got 0",
                                            fn.name, fn.name));
      Value v;
      for (size_t i = 1; i < cmd.args.size(); ++i) {
        CORRAL_ASSIGN_OR_RETURN(v, arg(cmd.args[i], dot));
        if (v.truth() == is_or) return v;
      }
      return final ? *final : v;
    }
    std::vector<Value> args;
    args.reserve(cmd.args.size());
    for (size_t i = 1; i < cmd.args.size(); ++i) {
      CORRAL_ASSIGN_OR_RETURN(Value v, arg(cmd.args[i], dot));
      args.push_back(std::move(v));
    }
    if (final) args.push_back(*final);
    Result<Value> r = call_function(fn.name, args);
    if (!r.is_ok()) return error(fn.offset, fmt::format("error calling {}: {}", fn.name, r.error()));
    // Strings built in variables never reach the output check; `$s = printf "%s%s" $s $s`
    // in a loop would otherwise double without bound.
    if (r->kind() == Kind::kString && r->size() > limits_.max_output_bytes)
      return error(fn.offset, fmt::format("{} result exceeds {} bytes", fn.name, limits_.max_output_bytes));
    return r;
  }

  const Tree& tree_;
  const GoTemplateLimits& limits_;
  std::string out_;
  uint64_t steps_ = 0;
  std::vector<std::pair<std::string, Value>> vars_;  // innermost last; "$" first
};

}  // namespace

Result<std::string> execute_tree(const Tree& tree, const Value& root, const GoTemplateLimits& limits) {
  return Executor(tree, limits).run(root);
}

}  // namespace corral::gotmpl
