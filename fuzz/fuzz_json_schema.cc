// Fuzz target: the JSON-schema compiler (sampling/json_schema.cc) and the request fields that
// reach it (structured_output.cc: Ollama's "format", OpenAI's "response_format"), then the
// compiled program driving a JsonConstraint. The input is a schema, optionally followed by
// "\n@@DOC@@\n" and bytes to feed the constraint. Checked invariant (json_constraint.h): every
// state the constraint accepts can be completed, i.e. after the accepted prefix,
// bytes_to_complete() is accepted and leaves it complete().
#include <cstddef>
#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "fuzz_util.h"
#include "sampling/json_constraint.h"
#include "sampling/json_schema.h"
#include "sampling/structured_output.h"

using namespace corral;
using namespace corral::sampling;

namespace {

void drive(const JsonProgram& program, std::string_view doc) {
  JsonConstraint c(&program);
  JsonConstraint probe(&program);
  for (const char ch : doc) {
    probe.copy_from(c);
    if (!probe.step(static_cast<uint8_t>(ch))) break;  // rejected: c keeps the accepted prefix
    c.step(static_cast<uint8_t>(ch));
  }
  fuzz::keep(c.in_free_string());
  const std::string rest = c.bytes_to_complete();
  if (!c.feed(rest) || !c.complete()) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto [schema_text, doc] = fuzz::split_input(data, size, "\n@@DOC@@\n");
  if (fuzz::json_nesting(schema_text) > fuzz::kMaxJsonNesting) return 0;
  const auto schema = nlohmann::ordered_json::parse(schema_text, nullptr, /*allow_exceptions=*/false);
  if (schema.is_discarded()) return 0;
  auto program = program_for_format(schema);
  if (program && *program) drive(**program, doc);
  fuzz::keep(program_for_response_format(schema));
  nlohmann::ordered_json wrapped = {{"type", "json_schema"}, {"json_schema", {{"name", "x"}, {"schema", schema}}}};
  fuzz::keep(program_for_response_format(wrapped));
  // Unbounded limits: the recogniser's own kMaxJsonDepth is the only bound left.
  JsonLimits open{0, 0, 0, 0, 0};
  auto unbounded = compile_json_schema(schema, open);
  if (unbounded) drive(**unbounded, doc);
  return 0;
}
