#include "server/chat_output.h"

#include <algorithm>
#include <random>

#include "server/api_common.h"
#include "server/model_capabilities.h"
#include "server/request_fields.h"

namespace corral::server {

std::vector<std::string> tool_names(const nlohmann::json& tools) {
  std::vector<std::string> names;
  if (!tools.is_array()) return names;
  for (const auto& t : tools) {
    if (!t.is_object()) continue;
    auto f = t.find("function");
    if (f == t.end() || !f->is_object()) continue;
    auto n = f->find("name");
    if (n != f->end() && n->is_string()) names.push_back(n->get<std::string>());
  }
  return names;
}

Result<ToolChoice> parse_tool_choice(const nlohmann::ordered_json* value, const nlohmann::json& tools) {
  ToolChoice choice;
  if (!value || value->is_null()) return choice;
  if (value->is_string()) {
    const std::string& s = value->get_ref<const std::string&>();
    if (s == "auto") choice.mode = ToolChoice::Mode::kAuto;
    else if (s == "none") choice.mode = ToolChoice::Mode::kNone;
    else if (s == "required") choice.mode = ToolChoice::Mode::kRequired;
    else
      return Status::errorf("invalid tool_choice '{}': expected \"auto\", \"none\", \"required\" or a function",
                            clip_for_error(s));
  } else if (value->is_object()) {
    const nlohmann::ordered_json* f = find_field(*value, "function");
    const nlohmann::ordered_json* name = f && f->is_object() ? find_field(*f, "name") : nullptr;
    if (!name) name = find_field(*value, "name");  // {"type": "tool", "name": ...} (Anthropic-style)
    if (!name || !name->is_string())
      return Status::error("invalid tool_choice: expected {\"type\": \"function\", \"function\": {\"name\": \"...\"}}");
    choice.mode = ToolChoice::Mode::kFunction;
    choice.function = name->get<std::string>();
  } else {
    return Status::error("invalid type for 'tool_choice': expected a string or an object");
  }
  if (!choice.forces_call()) return choice;
  const std::vector<std::string> names = tool_names(tools);
  if (names.empty()) return Status::error("tool_choice requires a call but the request offers no tools");
  if (choice.mode == ToolChoice::Mode::kFunction &&
      std::find(names.begin(), names.end(), choice.function) == names.end())
    return Status::errorf("tool_choice names function '{}', which is not among the request's tools",
                          clip_for_error(choice.function));
  return choice;
}

Status check_capabilities(const ServedModel& m, std::string_view requested_name, bool wants_tools,
                          const ToolChoice& choice, ThinkOption& think) {
  const TemplateCapabilities caps = template_capabilities(m);
  if (wants_tools && !caps.tools) return Status::error(does_not_support(m, "tools"));
  const bool think_on = think.enabled.value_or(false) || !think.level.empty();
  if (!caps.thinking) {
    if (think_on) return Status::errorf("\"{}\" does not support thinking", requested_name);
    return Status::ok();
  }
  // Ollama: a level ("low", "medium", "high") only for harmony (gpt-oss) models; the others
  // think or not (true / false).
  if (!think.level.empty() && !parsers::uses_harmony(model_parser_inputs(m)))
    return Status::errorf("think value \"{}\" is not supported for this model", clip_for_error(think.level));
  if (wants_tools && choice.forces_call()) {
    think = ThinkOption{.enabled = false};
  } else if (!think.enabled && think.level.empty()) {
    think.enabled = true;  // Ollama: a model that thinks does so unless told not to
  }
  return Status::ok();
}

namespace {

nlohmann::ordered_json call_schema(const std::string& name, const nlohmann::json* parameters) {
  nlohmann::ordered_json args = nlohmann::ordered_json{{"type", "object"}};
  if (parameters && parameters->is_object() && !parameters->empty()) args = nlohmann::ordered_json(*parameters);
  return nlohmann::ordered_json{{"type", "object"},
                                {"properties", {{"name", {{"const", name}}}, {"arguments", args}}},
                                {"required", {"name", "arguments"}}};
}

}  // namespace

nlohmann::ordered_json forced_call_schema(const nlohmann::json& tools, const ToolChoice& choice) {
  const std::vector<std::string> names = tool_names(tools);
  auto parameters_of = [&](const std::string& name) -> const nlohmann::json* {
    for (const auto& t : tools) {
      auto f = t.find("function");
      if (f == t.end() || !f->is_object() || f->value("name", "") != name) continue;
      auto p = f->find("parameters");
      return p == f->end() ? nullptr : &*p;
    }
    return nullptr;
  };
  if (choice.mode == ToolChoice::Mode::kFunction) return call_schema(choice.function, parameters_of(choice.function));
  if (names.size() == 1) return call_schema(names[0], parameters_of(names[0]));
  // One branch per tool, told apart by the "name" constant each starts with, so the arguments
  // follow the schema of the tool the model names (json_schema.h: tagged object unions). A
  // name listed twice keeps its first definition, as the call parser reads it.
  nlohmann::ordered_json branches = nlohmann::ordered_json::array();
  std::vector<std::string> seen;
  for (const std::string& name : names) {
    if (std::find(seen.begin(), seen.end(), name) != seen.end()) continue;
    seen.push_back(name);
    branches.push_back(call_schema(name, parameters_of(name)));
  }
  return nlohmann::ordered_json{{"anyOf", std::move(branches)}};
}

OutputReading output_reading(const ServedModel& m, const nlohmann::json& tools, const ThinkOption& think,
                             const ToolChoice& choice, std::string_view rendered_prompt) {
  parsers::ParserInputs in = model_parser_inputs(m);
  const bool use_tools = tools.is_array() && !tools.empty() && choice.mode != ToolChoice::Mode::kNone;
  in.tools = use_tools;
  in.tool_names = tool_names(tools);
  in.think = think.enabled.value_or(false) || !think.level.empty();
  in.prompt = rendered_prompt;
  parsers::ParserSpec spec = parsers::select_parser(in);
  if (use_tools && choice.forces_call()) {
    // The constrained output is one bare JSON call: read it as Llama 3's leading-JSON calls.
    spec = parsers::ParserSpec{};
    spec.tools = parsers::ToolFormat::kLlamaJson;
    spec.tool_names = in.tool_names;
  }
  OutputReading r;
  if (!spec.harmony && spec.tools == parsers::ToolFormat::kNone && !spec.thinking) return r;
  // Harmony's channels and most tool-call tags are control tokens, which the stream decoder
  // renders as nothing unless asked: the parser must see them (Ollama streams them as text).
  r.render_special = spec.harmony || spec.tools != parsers::ToolFormat::kNone;
  r.parser = parsers::make_parser(spec);
  return r;
}

void read_output_with(CompletionStream& stream, scheduler::Job& job, OutputReading reading, int choice) {
  if (!reading.parser) return;
  job.prompt.render_special = job.prompt.render_special || reading.render_special;
  const int64_t seed = job.options.sampling.seed;
  stream.set_parser(
      choice, std::move(reading.parser),
      seed >= 0 ? static_cast<uint64_t>(seed) : (uint64_t{std::random_device{}()} << 32) ^ std::random_device{}());
}

}  // namespace corral::server
