#include "templates/go_template.h"

#include <algorithm>

#include "templates/go_template_ast.h"
#include "templates/go_template_exec.h"
#include "templates/go_template_lexer.h"
#include "templates/go_template_parser.h"
#include "templates/go_template_tree_ops.h"

namespace corral {

Result<GoTemplate> GoTemplate::parse(std::string_view source) {
  auto tree = std::make_shared<gotmpl::Tree>();
  tree->source_map = gotmpl::SourceMap(source);
  CORRAL_ASSIGN_OR_RETURN(std::vector<gotmpl::Token> tokens, gotmpl::lex(source, tree->source_map));
  CORRAL_ASSIGN_OR_RETURN(tree->root, gotmpl::parse_tokens(tokens, tree->source_map, kMaxNesting));
  GoTemplate t;
  t.source_ = std::string(source);
  t.identifiers_ = gotmpl::collect_identifiers(tree->root);
  t.tree_ = std::move(tree);
  return t;
}

Result<std::string> GoTemplate::execute(const nlohmann::ordered_json& data, const GoTemplateLimits& limits) const {
  return gotmpl::execute_tree(*tree_, gotmpl::Value::ref(data), limits);
}

Result<std::string> GoTemplate::execute(const nlohmann::json& data, const GoTemplateLimits& limits) const {
  // Objects keep nlohmann::json's sorted key order, which is also Go's order for maps.
  return execute(nlohmann::ordered_json(data), limits);
}

bool GoTemplate::mentions(std::string_view lower_name) const {
  return std::binary_search(identifiers_.begin(), identifiers_.end(), lower_name);
}

GoTemplate GoTemplate::cut_after_response() const {
  auto tree = std::make_shared<gotmpl::Tree>(*tree_);
  gotmpl::cut_after_response(tree->root);
  GoTemplate t;
  t.source_ = source_;
  t.identifiers_ = gotmpl::collect_identifiers(tree->root);
  t.tree_ = std::move(tree);
  return t;
}

}  // namespace corral
