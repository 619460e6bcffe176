// A Go text/template engine covering what Ollama's chat templates use, run over JSON data.
//
// Supported: text with {{- / -}} trimming, {{/* comments */}}, {{ pipeline }} with `|` stages
// and parenthesised sub-pipelines, fields (.A.B, $.A, $x.A, (pipe).A), variables ($x := / $x =),
// if / else if / else, range (over arrays, objects in key order, and integers; `$i, $e :=`
// forms, else, break, continue), with / else with / else, literals (strings, raw strings,
// numbers, chars, true/false/nil) and the functions and, or, not, len, index, slice, eq, ne,
// lt, le, gt, ge, print, printf, println, html, plus Ollama's json, currentDate, yesterdayDate
// and toTypeScriptType.
// Not supported (clear errors): define, template, block, call, js, urlquery.
//
// Semantics follow Go's, with these deliberate differences for JSON data:
//  - A field missing from an object is nil (Go with missingkey=zero over map[string]any, which is
//    how Ollama runs templates); if the exact key is absent, its snake_case form is tried, so
//    templates written against Ollama's Go structs (.ToolCalls, .ToolCallID) read JSON in API
//    form (tool_calls, tool_call_id).
//  - Numbers compare by value across int/uint/float (Go reports "incompatible types"), and
//    len of nil is 0 (Ollama's nil slices are typed, so len works on them there).
//  - Arrays and objects print as Go's encoding/json output (see go_value.h).
// Unknown functions are reported when executed, not when parsed: Ollama parses with
// SkipFuncCheck, so a template calling an unknown function in an untaken branch still works.
//
// Errors are Status values naming line:column ("template:3:14: unexpected {{end}}"); nothing
// throws or aborts, whatever the template: nesting, output size and work are bounded.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/status.h"

namespace corral {

namespace gotmpl {
struct Tree;
}

struct GoTemplateLimits {
  // Prompts are far smaller; this only stops a runaway template from exhausting memory.
  size_t max_output_bytes = size_t{16} << 20;
  // Node visits and command evaluations. A 10k-message chat through a tool-calling template
  // takes well under a million; the cap bounds hostile nested ranges to about a second.
  uint64_t max_steps = 50'000'000;
};

class GoTemplate {
 public:
  // Block nesting ({{if}} in {{range}} ...) plus parenthesis nesting allowed in one template.
  static constexpr int kMaxNesting = 100;

  static Result<GoTemplate> parse(std::string_view source);

  Result<std::string> execute(const nlohmann::ordered_json& data, const GoTemplateLimits& limits = {}) const;
  Result<std::string> execute(const nlohmann::json& data, const GoTemplateLimits& limits = {}) const;

  const std::string& source() const { return source_; }

  // Lower-cased, sorted, de-duplicated names of every field and variable the template mentions
  // (Ollama's Template.Vars): decides between the .Messages and the legacy rendering.
  const std::vector<std::string>& identifiers() const { return identifiers_; }
  bool mentions(std::string_view lower_name) const;

  // Ollama's legacy generation prompt: a copy of this template in which every node after the
  // first {{ ... .Response ... }} action (in source order) is removed, so the prompt ends where
  // the model's reply begins. The .Response action itself stays (it renders a prefill).
  GoTemplate cut_after_response() const;

 private:
  GoTemplate() = default;

  std::string source_;
  std::shared_ptr<const gotmpl::Tree> tree_;
  std::vector<std::string> identifiers_;
};

}  // namespace corral
