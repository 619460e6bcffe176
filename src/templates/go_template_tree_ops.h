// The two tree walks Ollama performs on a parsed template (template/template.go): listing the
// identifiers it mentions, and cutting the tree after the first {{ .Response }}.
#pragma once

#include <string>
#include <vector>

#include "templates/go_template_ast.h"

namespace corral::gotmpl {

// Lower-cased, sorted, unique field and variable names used anywhere in commands (not
// declarations), like Ollama's Identifiers: `.Messages`, `$.Messages` and `$m.Role` count;
// the fields of a parenthesised chain `(x).Role` do not, as Ollama does not descend there.
std::vector<std::string> collect_identifiers(const std::vector<Node>& root);

// In source order, keeps everything up to and including the first field chain naming
// "Response" inside an action, and deletes every node after it (Ollama's deleteNode walk:
// if/range/with conditions are not searched, their bodies are; an action whose pipeline
// loses all arguments of a command disappears).
void cut_after_response(std::vector<Node>& root);

}  // namespace corral::gotmpl
