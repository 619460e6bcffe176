#include "templates/template_values.h"

#include <string>

#include "base/json_depth.h"

namespace corral::gotmpl {
namespace {

std::string string_field(const nlohmann::json& obj, const char* key) {
  if (!obj.is_object()) return "";
  auto it = obj.find(key);
  return it != obj.end() && it->is_string() ? it->get<std::string>() : "";
}

// Copies key from src into dst if present and non-empty (Go's omitempty).
void copy_omitempty(Json& dst, const nlohmann::json& src, const char* key) {
  auto it = src.find(key);
  if (it == src.end() || it->is_null()) return;
  if ((it->is_array() || it->is_object() || it->is_string()) && it->empty()) return;
  dst[key] = Json(*it);
}

Json property_value(const nlohmann::json& p);

// A properties map: Go marshals maps with sorted keys, which nlohmann::json already keeps.
Json properties_value(const nlohmann::json& props) {
  if (!props.is_object()) return Json();
  Json out = Json::object();
  for (auto it = props.begin(); it != props.end(); ++it) out[it.key()] = property_value(it.value());
  return out;
}

// Ollama's ToolProperty, in its field order.
Json property_value(const nlohmann::json& p) {
  Json out = Json::object();
  if (!p.is_object()) return out;
  if (auto it = p.find("anyOf"); it != p.end() && it->is_array() && !it->empty()) {
    Json any = Json::array();
    for (const auto& alt : *it) any.push_back(property_value(alt));
    out["anyOf"] = std::move(any);
  }
  copy_omitempty(out, p, "type");
  copy_omitempty(out, p, "items");
  copy_omitempty(out, p, "description");
  copy_omitempty(out, p, "enum");
  if (auto it = p.find("properties"); it != p.end() && it->is_object() && !it->empty())
    out["properties"] = properties_value(*it);
  copy_omitempty(out, p, "required");
  return out;
}

Json tool_value(const nlohmann::json& tool) {
  Json out = Json::object();
  out["type"] = string_field(tool, "type");
  if (tool.is_object()) copy_omitempty(out, tool, "items");
  const nlohmann::json fn = tool.is_object() && tool.contains("function") ? tool["function"] : nlohmann::json::object();
  const nlohmann::json params =
      fn.is_object() && fn.contains("parameters") ? fn["parameters"] : nlohmann::json::object();
  Json f = Json::object();
  f["name"] = string_field(fn, "name");
  f["description"] = string_field(fn, "description");
  Json ps = Json::object();
  ps["type"] = string_field(params, "type");
  if (params.is_object()) {
    copy_omitempty(ps, params, "$defs");
    copy_omitempty(ps, params, "items");
    copy_omitempty(ps, params, "required");
  }
  ps["properties"] =
      properties_value(params.is_object() && params.contains("properties") ? params["properties"] : nlohmann::json());
  f["parameters"] = std::move(ps);
  out["function"] = std::move(f);
  return out;
}

// Tool call arguments nest like the JSON a model writes: a few levels. 512 matches the server's
// bound on request bodies (server/api_common.h).
constexpr int kMaxArgumentsDepth = 512;

// Arguments arrive as an object; OpenAI-style clients send a JSON string, which is decoded.
Json arguments_value(const nlohmann::json& args) {
  if (args.is_object()) return Json(args);
  // The string comes from a request; a deeply nested one would overflow the stack when copied.
  if (args.is_string() && !json_nests_deeper_than(args.get_ref<const std::string&>(), kMaxArgumentsDepth)) {
    auto parsed = nlohmann::json::parse(args.get<std::string>(), nullptr, /*allow_exceptions=*/false);
    if (parsed.is_object()) return Json(parsed);
  }
  return Json::object();
}

Json tool_calls_value(const nlohmann::json& calls) {
  if (!calls.is_array() || calls.empty()) return Json();  // Go's nil slice
  Json out = Json::array();
  for (const auto& c : calls) {
    const nlohmann::json fn = c.is_object() && c.contains("function") ? c["function"] : nlohmann::json::object();
    Json call = Json::object();
    call["id"] = string_field(c, "id");
    Json f = Json::object();
    f["index"] =
        fn.is_object() && fn.contains("index") && fn["index"].is_number_integer() ? fn["index"].get<int64_t>() : 0;
    f["name"] = string_field(fn, "name");
    f["arguments"] = arguments_value(fn.is_object() && fn.contains("arguments") ? fn["arguments"] : nlohmann::json());
    call["function"] = std::move(f);
    out.push_back(std::move(call));
  }
  return out;
}

}  // namespace

Json message_value(const ChatMessage& m) {
  Json out = Json::object();
  out["role"] = m.role;
  out["content"] = m.content;
  out["thinking"] = m.thinking;
  out["tool_calls"] = tool_calls_value(m.tool_calls);
  out["tool_name"] = m.tool_name;
  out["tool_call_id"] = m.tool_call_id;
  return out;
}

Json tools_value(const nlohmann::json& tools) {
  if (!tools.is_array()) return Json();
  Json out = Json::array();
  for (const auto& t : tools) out.push_back(tool_value(t));
  return out;
}

}  // namespace corral::gotmpl
