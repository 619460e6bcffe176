#include "sampling/structured_output.h"

namespace corral::sampling {

using ojson = nlohmann::ordered_json;

Result<std::shared_ptr<const JsonProgram>> program_for_format(const ojson& format, const JsonLimits& limits) {
  if (format.is_null() || (format.is_string() && format.get_ref<const std::string&>().empty())) {
    return std::shared_ptr<const JsonProgram>();
  }
  if (format.is_string() && format.get_ref<const std::string&>() == "json") {
    return json_any_program(/*root_object=*/true, limits);
  }
  if (!format.is_object()) {
    // Echo at most this much of the value: enough to recognise it, never a whole request.
    constexpr size_t kEchoBytes = 64;
    std::string shown = format.dump(-1, ' ', false, ojson::error_handler_t::replace);
    if (shown.size() > kEchoBytes) shown = shown.substr(0, kEchoBytes) + "...";
    return Status::errorf("invalid format: {}; expected \"json\" or a JSON schema object", shown);
  }
  auto program = compile_json_schema(format, limits);
  if (!program.is_ok()) return program.status().with_context("invalid JSON schema in format");
  return program;
}

Result<std::shared_ptr<const JsonProgram>> program_for_response_format(const ojson& rf, const JsonLimits& limits) {
  if (rf.is_null()) return std::shared_ptr<const JsonProgram>();
  if (!rf.is_object() || !rf.contains("type") || !rf["type"].is_string()) {
    return Status::error("invalid response_format: expected an object with a \"type\"");
  }
  const std::string& type = rf["type"].get_ref<const std::string&>();
  if (type == "text") return std::shared_ptr<const JsonProgram>();
  if (type == "json_object") return json_any_program(/*root_object=*/true, limits);
  if (type != "json_schema") {
    return Status::errorf("invalid response_format type \"{}\": expected text, json_object or json_schema", type);
  }
  auto it = rf.find("json_schema");
  if (it == rf.end() || !it->is_object() || !it->contains("schema")) {
    return Status::error("invalid response_format: json_schema.schema is missing");
  }
  auto program = compile_json_schema((*it)["schema"], limits);
  if (!program.is_ok()) return program.status().with_context("invalid JSON schema in response_format");
  return program;
}

}  // namespace corral::sampling
