// Executor for parsed Go templates: walks the tree over a JSON root, with Go's scoping of
// variables, dot, range/with/if semantics, and the limits in GoTemplateLimits.
#pragma once

#include <string>

#include "base/status.h"
#include "templates/go_template.h"
#include "templates/go_template_ast.h"
#include "templates/go_value.h"

namespace corral::gotmpl {

Result<std::string> execute_tree(const Tree& tree, const Value& root, const GoTemplateLimits& limits);

}  // namespace corral::gotmpl
