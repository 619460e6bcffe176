#include "server/anthropic/request.h"

#include <fmt/format.h>

#include "server/anthropic/content.h"
#include "server/model_capabilities.h"
#include "server/request_fields.h"

namespace corral::server::anthropic {
namespace {

// Anthropic's server tools (web search, code execution, computer use, ...) run on Anthropic's
// side; corral has none of them. A custom tool has no type or "custom".
bool is_custom_tool(const ordered_json& t) {
  const ordered_json* type = find_field(t, "type");
  return !type || *type == "custom";
}

// [{name, description?, input_schema}] -> [{"type": "function", "function": {name, description,
// parameters}}], the shape the templates and the shared tool_choice code read.
Result<nlohmann::json> convert_tools(const ordered_json* tools) {
  if (!tools) return nlohmann::json();
  if (!tools->is_array()) return Status::error("tools must be an array");
  nlohmann::json out = nlohmann::json::array();
  for (size_t i = 0; i < tools->size(); ++i) {
    const ordered_json& t = (*tools)[i];
    const std::string path = fmt::format("tools.{}", i);
    if (!t.is_object()) return Status::errorf("{} must be an object", path);
    if (!is_custom_tool(t)) {
      const ordered_json& type = t["type"];
      return Status::errorf("{}: tool type {} is not supported (corral runs no server tools)", path,
                            type.is_string() ? "'" + clip_for_error(type.get<std::string>()) + "'" : "of this kind");
    }
    const ordered_json* name = find_field(t, "name");
    if (!name) return Status::errorf("{}.name: field required", path);
    if (!name->is_string() || name->get_ref<const std::string&>().empty())
      return Status::errorf("{}.name must be a non-empty string", path);
    std::string description;
    if (Status s = read_string(t, "description", &description); !s) return Status::errorf("{}.{}", path, s.message());
    const ordered_json* schema = find_field(t, "input_schema");
    if (!schema) return Status::errorf("{}.input_schema: field required", path);
    if (!schema->is_object()) return Status::errorf("{}.input_schema must be an object", path);
    nlohmann::json fn{{"name", name->get<std::string>()}};
    if (!description.empty()) fn["description"] = description;
    fn["parameters"] = nlohmann::json(*schema);
    out.push_back({{"type", "function"}, {"function", std::move(fn)}});
  }
  return out.empty() ? nlohmann::json() : out;
}

// {"type": "auto" | "any" | "tool" | "none", "name"?} -> the shared ToolChoice (validated
// against the tools: "any"/"tool" need tools, "tool" one of them).
Result<ToolChoice> convert_tool_choice(const ordered_json* choice, const nlohmann::json& tools) {
  if (!choice) return ToolChoice{};
  if (!choice->is_object()) return Status::error("tool_choice must be an object");
  const ordered_json* type = find_field(*choice, "type");
  if (!type || !type->is_string()) return Status::error("tool_choice.type must be a string");
  if (const ordered_json* d = find_field(*choice, "disable_parallel_tool_use"); d && !d->is_boolean())
    return Status::error("tool_choice.disable_parallel_tool_use must be a boolean");
  ordered_json openai;  // the same choice in OpenAI's words, which parse_tool_choice reads
  const std::string& t = type->get_ref<const std::string&>();
  if (t == "auto") {
    openai = "auto";
  } else if (t == "none") {
    openai = "none";
  } else if (t == "any") {
    openai = "required";
  } else if (t == "tool") {
    const ordered_json* name = find_field(*choice, "name");
    if (!name || !name->is_string()) return Status::error("tool_choice.name must be a string for type \"tool\"");
    openai = {{"type", "function"}, {"function", {{"name", *name}}}};
  } else {
    return Status::errorf("tool_choice.type '{}' is not one of \"auto\", \"any\", \"tool\", \"none\"",
                          clip_for_error(t));
  }
  return parse_tool_choice(&openai, tools);
}

// {"type": "enabled", "budget_tokens"} / {"type": "disabled"}; "adaptive" leaves the model's
// default (Ollama). budget_tokens is read and checked but not enforced: the template decides
// where thinking ends.
Result<ThinkOption> convert_thinking(const ordered_json* thinking) {
  ThinkOption think;
  if (!thinking) return think;
  if (!thinking->is_object()) return Status::error("thinking must be an object");
  const ordered_json* type = find_field(*thinking, "type");
  if (!type || !type->is_string()) return Status::error("thinking.type must be a string");
  int64_t budget = 0;
  if (Status s = read_int(*thinking, "budget_tokens", &budget); !s)
    return Status::error("thinking.budget_tokens must be an integer");
  if (*type == "enabled") think.enabled = true;
  else if (*type == "disabled") think.enabled = false;
  else if (*type != "adaptive")
    return Status::errorf("thinking.type '{}' is not one of \"enabled\", \"disabled\", \"adaptive\"",
                          clip_for_error(type->get<std::string>()));
  return think;
}

Status copy_number(const ordered_json& b, const char* key, ordered_json& options) {
  const ordered_json* v = find_field(b, key);
  if (!v) return Status::ok();
  if (!v->is_number()) return field_type_error(key, "a number");
  options[key] = *v;
  return Status::ok();
}

}  // namespace

Result<MessagesRequest> parse_request(const ordered_json& b, RequestKind kind) {
  MessagesRequest r;
  r.chat.drop_unsupported_thinking = true;  // Ollama's relax_thinking for Anthropic clients
  CORRAL_RETURN_IF_ERROR(read_string(b, "model", &r.chat.model));
  if (r.chat.model.empty()) return Status::error("model is required");
  CORRAL_ASSIGN_OR_RETURN(std::string system, system_text(find_field(b, "system")));
  CORRAL_ASSIGN_OR_RETURN(std::vector<ChatMessage> messages, convert_messages(find_field(b, "messages")));
  if (!system.empty()) r.chat.messages.push_back(ChatMessage{.role = "system", .content = std::move(system)});
  for (ChatMessage& m : messages) r.chat.messages.push_back(std::move(m));
  CORRAL_ASSIGN_OR_RETURN(r.chat.tools, convert_tools(find_field(b, "tools")));
  CORRAL_ASSIGN_OR_RETURN(r.chat.tool_choice, convert_tool_choice(find_field(b, "tool_choice"), r.chat.tools));
  CORRAL_ASSIGN_OR_RETURN(r.chat.think, convert_thinking(find_field(b, "thinking")));
  // "any" / "tool": decoding is constrained to one call whose input validates against the tool's
  // input_schema.
  if (r.chat.tool_choice.forces_call()) r.chat.format.value = forced_call_schema(r.chat.tools, r.chat.tool_choice);
  if (kind == RequestKind::kCountTokens) return r;

  int64_t max_tokens = 0;
  CORRAL_RETURN_IF_ERROR(read_int(b, "max_tokens", &max_tokens));
  if (max_tokens <= 0) return Status::error("max_tokens is required and must be positive");  // Ollama's words
  r.chat.options["num_predict"] = max_tokens;
  CORRAL_RETURN_IF_ERROR(read_bool(b, "stream", &r.chat.stream));
  CORRAL_RETURN_IF_ERROR(copy_number(b, "temperature", r.chat.options));
  CORRAL_RETURN_IF_ERROR(copy_number(b, "top_p", r.chat.options));
  if (const ordered_json* k = find_field(b, "top_k")) {
    int64_t top_k = 0;
    CORRAL_RETURN_IF_ERROR(read_int(b, "top_k", &top_k));
    if (top_k < 0) return Status::error("top_k must not be negative");
    r.chat.options["top_k"] = *k;
  }
  if (const ordered_json* stops = find_field(b, "stop_sequences")) {
    if (!stops->is_array()) return field_type_error("stop_sequences", "an array of strings");
    for (const auto& s : *stops) {
      if (!s.is_string()) return field_type_error("stop_sequences", "an array of strings");
      if (!s.get_ref<const std::string&>().empty()) r.stop_sequences.push_back(s.get<std::string>());
    }
    // An empty list adds no stops: the template's own stay (an Ollama "stop" replaces them).
    if (!r.stop_sequences.empty()) r.chat.options["stop"] = r.stop_sequences;
  }
  if (const ordered_json* metadata = find_field(b, "metadata"); metadata && !metadata->is_object())
    return field_type_error("metadata", "an object");
  return r;
}

}  // namespace corral::server::anthropic
