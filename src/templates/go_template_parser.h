// Parser for the Go text/template subset: tokens -> parse tree (go_template_ast.h).
// Checks at parse time what Go checks at parse time: structure ({{end}} matching, else
// placement, break/continue inside range), declared variables, literal syntax.
#pragma once

#include <vector>

#include "base/status.h"
#include "templates/go_template_ast.h"
#include "templates/go_template_lexer.h"

namespace corral::gotmpl {

// max_nesting bounds block plus parenthesis depth (recursion in parser and executor).
Result<std::vector<Node>> parse_tokens(const std::vector<Token>& tokens, const SourceMap& map, int max_nesting);

}  // namespace corral::gotmpl
