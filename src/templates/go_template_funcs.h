// Go text/template's builtin functions (minus and/or, which the executor evaluates lazily)
// and the functions Ollama adds (json, currentDate, yesterdayDate, toTypeScriptType).
#pragma once

#include <string_view>
#include <vector>

#include "base/status.h"
#include "templates/go_value.h"

namespace corral::gotmpl {

enum class FuncStatus { kDefined, kUnsupported, kUnknown };
// kUnsupported: a Go builtin corral deliberately leaves out (call, js, urlquery).
FuncStatus function_status(std::string_view name);

// Calls a defined function on evaluated arguments. Errors carry a bare message ("index out of
// range: 5"); the executor prefixes position and function name.
Result<Value> call_function(std::string_view name, const std::vector<Value>& args);

}  // namespace corral::gotmpl
