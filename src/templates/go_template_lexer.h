// Lexer for the Go text/template subset: splits a template into text and action tokens,
// applying {{- / -}} whitespace trimming to the text as Go does and dropping {{/* comments */}}.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "templates/go_template_ast.h"

namespace corral::gotmpl {

enum class Tok {
  kText,        // literal text between actions (already trimmed)
  kLeftDelim,   // {{
  kRightDelim,  // }}
  kSpace,       // run of spaces inside an action (separates arguments)
  kField,       // .Name (text: "Name")
  kVariable,    // $ or $name (text includes the '$')
  kIdentifier,  // function name
  kKeyword,     // if else end range with break continue define template block
  kDot,         // .
  kBool,        // true / false
  kNil,         // nil
  kNumber,      // numeric literal (text: as written)
  kChar,        // 'x' (text: the decoded code point, in decimal)
  kString,      // "..." or `...` (text: the decoded value)
  kPipe,        // |
  kLeftParen,
  kRightParen,
  kDeclare,  // :=
  kAssign,   // =
  kComma,    // ,
  kEOF,
};

struct Token {
  Tok type = Tok::kEOF;
  size_t offset = 0;
  std::string text;
};

// Always ends with a kEOF token. Errors name line:column ("template:2:7: unclosed action").
Result<std::vector<Token>> lex(std::string_view src, const SourceMap& map);

// "template:L:C: message" — the one error format for parse and execution errors.
Status template_error(const SourceMap& map, size_t offset, std::string_view message);

}  // namespace corral::gotmpl
