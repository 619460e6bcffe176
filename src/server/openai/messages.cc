#include "server/openai/messages.h"

#include "server/request_fields.h"

namespace corral::server::openai {
namespace {

Result<std::string> text_content(const ordered_json& content) {
  if (content.is_string()) return content.get<std::string>();
  if (!content.is_array()) return Status::error("invalid message content: expected a string or an array of parts");
  std::string text;
  for (const auto& part : content) {
    const ordered_json* t = find_field(part, "type");
    const std::string type = t && t->is_string() ? t->get<std::string>() : "";
    if (type == "image_url" || type == "input_audio" || type == "file")
      return Status::errorf("{} content parts are not supported", type);
    if (type != "text" || !part.contains("text") || !part["text"].is_string())
      return Status::error("invalid message content part: expected {\"type\": \"text\", \"text\": \"...\"}");
    if (!text.empty()) text += "\n";
    text += part["text"].get<std::string>();
  }
  return text;
}

// [{id, type, function: {name, arguments: "<json>"}}] -> [{id, function: {index, name, arguments: {...}}}]
Result<nlohmann::json> tool_calls(const ordered_json& calls) {
  if (!calls.is_array()) return Status::error("tool_calls must be an array");
  nlohmann::json out = nlohmann::json::array();
  int index = 0;
  for (const auto& c : calls) {
    if (!c.is_object() || !c.contains("function") || !c["function"].is_object())
      return Status::error("invalid tool call: expected {\"function\": {...}}");
    const auto& f = c["function"];
    nlohmann::json args = nlohmann::json::object();
    if (auto a = f.find("arguments"); a != f.end() && !a->is_null()) {
      if (!a->is_string()) return Status::error("invalid tool call arguments");
      auto parsed = parse_request_json(a->get_ref<const std::string&>(), "tool call arguments");
      if (!parsed) return parsed.status();
      args = nlohmann::json(*parsed);
    }
    std::string name;
    if (Status s = read_string(f, "name", &name); !s)
      return Status::error("invalid type for 'function.name': expected a string");
    nlohmann::json call{{"function", {{"index", index++}, {"name", name}, {"arguments", args}}}};
    if (c.contains("id") && c["id"].is_string()) call["id"] = c["id"];
    out.push_back(std::move(call));
  }
  return out;
}

// The function name of the call `id` answers: the latest one with that id wins, as in Ollama.
std::string tool_name_for(const std::vector<ChatMessage>& earlier, const std::string& id) {
  for (auto m = earlier.rbegin(); m != earlier.rend(); ++m) {
    if (!m->tool_calls.is_array()) continue;
    for (const auto& c : m->tool_calls)
      if (c.is_object() && c.contains("id") && c["id"] == id) return c["function"].value("name", "");
  }
  return "";
}

Result<std::string> optional_string(const ordered_json& m, const char* key) {
  std::string out;
  if (!read_string(m, key, &out)) return Status::errorf("invalid type for message '{}': expected a string", key);
  return out;
}

}  // namespace

Result<std::vector<ChatMessage>> parse_messages(const ordered_json& messages) {
  if (!messages.is_array()) return Status::error("invalid type for 'messages': expected an array");
  // OpenAI's own wording for an empty list (Ollama copies it).
  if (messages.empty()) return Status::error("[] is too short - 'messages'");
  std::vector<ChatMessage> out;
  for (const auto& m : messages) {
    if (!m.is_object() || !m.contains("role") || !m["role"].is_string())
      return Status::error("each message must be an object with a string 'role'");
    ChatMessage msg;
    msg.role = m["role"].get<std::string>();
    if (msg.role == "developer") msg.role = "system";
    if (auto tc = m.find("tool_calls"); tc != m.end() && !tc->is_null()) {
      CORRAL_ASSIGN_OR_RETURN(msg.tool_calls, tool_calls(*tc));
    }
    auto content = m.find("content");
    if (content != m.end() && !content->is_null()) {
      CORRAL_ASSIGN_OR_RETURN(msg.content, text_content(*content));
    } else if (msg.tool_calls.is_null()) {
      return Status::error("invalid message content: null is only allowed with tool_calls");  // as in Ollama
    }
    CORRAL_ASSIGN_OR_RETURN(msg.thinking, optional_string(m, "reasoning"));
    CORRAL_ASSIGN_OR_RETURN(std::string tool_call_id, optional_string(m, "tool_call_id"));
    CORRAL_ASSIGN_OR_RETURN(std::string name, optional_string(m, "name"));
    if (msg.role == "tool") {
      msg.tool_call_id = std::move(tool_call_id);
      msg.tool_name = std::move(name);
      if (msg.tool_name.empty() && !msg.tool_call_id.empty()) msg.tool_name = tool_name_for(out, msg.tool_call_id);
    }
    out.push_back(std::move(msg));
  }
  return out;
}

}  // namespace corral::server::openai
