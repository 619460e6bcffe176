// Fuzz target: the Go-template lexer, parser and executor. The input is a template, optionally
// followed by "\n@@DATA@@\n" and a JSON document to run it over; without one (or when the JSON
// does not parse) it runs over a small chat with messages, tools and a system prompt.
#include <cstddef>
#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "fuzz_util.h"
#include "templates/go_template.h"

using namespace corral;

namespace {

const nlohmann::ordered_json& default_data() {
  static const nlohmann::ordered_json d = nlohmann::ordered_json::parse(R"({
    "System": "You are terse.", "Prompt": "hi", "Response": "", "Suffix": "",
    "Messages": [
      {"Role": "system", "Content": "be brief"},
      {"Role": "user", "Content": "What is 2+2?"},
      {"Role": "assistant", "Content": "", "ToolCalls": [{"Function": {"Index": 0, "Name": "add", "Arguments": {"a": 2, "b": 2}}}]},
      {"Role": "tool", "Content": "4", "ToolName": "add"}
    ],
    "Tools": [{"Type": "function", "Function": {"Name": "add", "Description": "adds",
      "Parameters": {"Type": "object", "Required": ["a", "b"], "Properties": {"a": {"Type": "integer"}, "b": {"Type": "integer"}}}}}],
    "Think": true, "ThinkLevel": "high", "IsThinkSet": true, "n": 3, "f": 1.5, "neg": -7, "nil": null
  })");
  return d;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto [source, data_text] = fuzz::split_input(data, size, "\n@@DATA@@\n");
  auto tmpl = GoTemplate::parse(source);
  if (!tmpl) return 0;
  fuzz::keep(tmpl->identifiers());
  fuzz::keep(tmpl->mentions("messages"));
  // A tight budget keeps each run short; hostile templates still hit the limits' error paths.
  GoTemplateLimits limits;
  limits.max_output_bytes = 1 << 20;
  limits.max_steps = 200'000;
  nlohmann::ordered_json custom;
  if (!data_text.empty() && fuzz::json_nesting(data_text) <= fuzz::kMaxJsonNesting) {
    custom = nlohmann::ordered_json::parse(data_text, nullptr, /*allow_exceptions=*/false);
  }
  const auto& input = custom.is_discarded() || custom.is_null() ? default_data() : custom;
  fuzz::keep(tmpl->execute(input, limits));
  fuzz::keep(tmpl->cut_after_response().execute(input, limits));
  return 0;
}
