#include "server/anthropic/content.h"

#include <fmt/format.h>

#include "server/request_fields.h"

namespace corral::server::anthropic {
namespace {

// "messages.1.content.0", the path Anthropic's own errors name a block by.
std::string block_path(size_t message, size_t block) { return fmt::format("messages.{}.content.{}", message, block); }

std::string block_type(const ordered_json& block) {
  const ordered_json* t = find_field(block, "type");
  return t && t->is_string() ? t->get<std::string>() : "";
}

// A block's required string field.
Result<std::string> required_string(const ordered_json& block, const char* key, const std::string& path) {
  const ordered_json* v = find_field(block, key);
  if (!v) return Status::errorf("{}: {} block missing required '{}' field", path, block_type(block), key);
  if (!v->is_string()) return Status::errorf("{}.{} must be a string", path, key);
  return v->get<std::string>();
}

Status unsupported_block(const std::string& path, const std::string& type) {
  if (type == "image" || type == "document")
    return Status::errorf("{}: {} content blocks are not supported yet (corral serves text-only models)", path, type);
  return Status::errorf("{}: content block type '{}' is not supported", path, clip_for_error(type));
}

// The text of text blocks (strings joined by newlines): a system prompt or a tool_result's
// content.
Result<std::string> text_blocks(const ordered_json& blocks, const std::string& path) {
  if (!blocks.is_array()) return Status::errorf("{} must be a string or an array of text blocks", path);
  std::string text;
  for (size_t i = 0; i < blocks.size(); ++i) {
    const ordered_json& b = blocks[i];
    const std::string p = fmt::format("{}.{}", path, i);
    if (!b.is_object()) return Status::errorf("{} must be an object", p);
    const std::string type = block_type(b);
    if (type != "text") return unsupported_block(p, type);
    CORRAL_ASSIGN_OR_RETURN(std::string t, required_string(b, "text", p));
    if (!text.empty()) text += "\n";
    text += t;
  }
  return text;
}

// The function name of the call `id` answers: the latest tool_use with that id.
std::string tool_name_for(const std::vector<ChatMessage>& earlier, const std::string& id) {
  for (auto m = earlier.rbegin(); m != earlier.rend(); ++m) {
    if (!m->tool_calls.is_array()) continue;
    for (const auto& c : m->tool_calls)
      if (c.is_object() && c.contains("id") && c["id"] == id) return c["function"].value("name", "");
  }
  return "";
}

// One Anthropic message: its tool results (tool messages) first, then the message itself when it
// says anything.
Status convert_message(const ordered_json& m, size_t index, std::vector<ChatMessage>& out) {
  const std::string path = fmt::format("messages.{}", index);
  if (!m.is_object()) return Status::errorf("{} must be an object", path);
  const ordered_json* role = find_field(m, "role");
  if (!role) return Status::errorf("{}.role: field required", path);
  if (!role->is_string() || (*role != "user" && *role != "assistant"))
    return Status::errorf("{}.role must be \"user\" or \"assistant\"", path);
  ChatMessage msg{.role = role->get<std::string>()};
  const ordered_json* content = find_field(m, "content");
  if (!content) return Status::errorf("{}.content: field required", path);
  if (content->is_string()) {
    msg.content = content->get<std::string>();
    out.push_back(std::move(msg));
    return Status::ok();
  }
  if (!content->is_array()) return Status::errorf("{}.content must be a string or an array of content blocks", path);

  std::vector<ChatMessage> results;
  for (size_t i = 0; i < content->size(); ++i) {
    const ordered_json& b = (*content)[i];
    const std::string p = block_path(index, i);
    if (!b.is_object()) return Status::errorf("{} must be an object", p);
    const std::string type = block_type(b);
    if (type == "text") {
      CORRAL_ASSIGN_OR_RETURN(std::string text, required_string(b, "text", p));
      msg.content += text;  // Ollama joins text blocks as they come
    } else if (type == "tool_use") {
      CORRAL_ASSIGN_OR_RETURN(std::string id, required_string(b, "id", p));
      CORRAL_ASSIGN_OR_RETURN(std::string name, required_string(b, "name", p));
      const ordered_json* input = find_field(b, "input");
      if (input && !input->is_object()) return Status::errorf("{}.input must be an object", p);
      if (!msg.tool_calls.is_array()) msg.tool_calls = nlohmann::json::array();
      const int call_index = static_cast<int>(msg.tool_calls.size());
      msg.tool_calls.push_back({{"id", id},
                                {"function",
                                 {{"index", call_index},
                                  {"name", name},
                                  {"arguments", input ? nlohmann::json(*input) : nlohmann::json::object()}}}});
    } else if (type == "tool_result") {
      ChatMessage result{.role = "tool"};
      CORRAL_ASSIGN_OR_RETURN(result.tool_call_id, required_string(b, "tool_use_id", p));
      if (const ordered_json* c = find_field(b, "content")) {
        if (c->is_string()) {
          result.content = c->get<std::string>();
        } else {
          CORRAL_ASSIGN_OR_RETURN(result.content, text_blocks(*c, p + ".content"));
        }
      }
      if (const ordered_json* e = find_field(b, "is_error"); e && !e->is_boolean())
        return Status::errorf("{}.is_error must be a boolean", p);
      // The call it answers is in an earlier message (or this request's earlier results' calls).
      result.tool_name = tool_name_for(out, result.tool_call_id);
      results.push_back(std::move(result));
    } else if (type == "thinking") {
      CORRAL_ASSIGN_OR_RETURN(std::string thinking, required_string(b, "thinking", p));
      msg.thinking += thinking;
    } else if (type == "redacted_thinking") {
      // Encrypted reasoning from Anthropic's models: nothing a local template can render.
    } else {
      return unsupported_block(p, type);
    }
  }
  if (!results.empty() && msg.role != "user")
    return Status::errorf("{}: tool_result blocks belong in a user message", path);
  for (ChatMessage& r : results) out.push_back(std::move(r));
  // A user message of tool results only adds no empty user turn (as in Ollama).
  if (results.empty() || !msg.content.empty()) out.push_back(std::move(msg));
  return Status::ok();
}

}  // namespace

Result<std::string> system_text(const ordered_json* system) {
  if (!system) return std::string();
  if (system->is_string()) return system->get<std::string>();
  return text_blocks(*system, "system");
}

Result<std::vector<ChatMessage>> convert_messages(const ordered_json* messages) {
  if (!messages) return Status::error("messages is required");
  if (!messages->is_array()) return Status::error("messages must be an array");
  if (messages->empty()) return Status::error("messages is required");
  std::vector<ChatMessage> out;
  for (size_t i = 0; i < messages->size(); ++i) CORRAL_RETURN_IF_ERROR(convert_message((*messages)[i], i, out));
  return out;
}

}  // namespace corral::server::anthropic
