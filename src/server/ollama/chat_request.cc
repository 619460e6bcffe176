// /api/chat and /api/generate bodies read into the shared ChatRequest.
#include <cstdint>
#include <utility>

#include "server/api_common.h"
#include "server/chat_output.h"
#include "server/chat_request.h"
#include "server/ollama/request.h"
#include "server/request_fields.h"

namespace corral::server {
namespace {

Result<ChatMessage> parse_message(const ordered_json& m) {
  if (!m.is_object()) return Status::error("each message must be an object");
  ChatMessage msg;
  auto role = m.find("role");
  if (role == m.end() || !role->is_string()) return Status::error("each message needs a string role");
  msg.role = role->get<std::string>();
  if (const ordered_json* c = find_field(m, "content"); c && !c->is_string())
    return Status::error("message content must be a string");
  CORRAL_RETURN_IF_ERROR(read_string(m, "content", &msg.content));
  CORRAL_RETURN_IF_ERROR(reject_images(m));
  if (Status s = read_string(m, "thinking", &msg.thinking); !s)
    return Status::error("message thinking must be a string");
  CORRAL_ASSIGN_OR_RETURN(const ordered_json* calls, read_array(m, "tool_calls"));
  if (calls) msg.tool_calls = nlohmann::json(*calls);
  if (Status s = read_string(m, "tool_name", &msg.tool_name); !s)
    return Status::error("message tool_name must be a string");
  if (Status s = read_string(m, "tool_call_id", &msg.tool_call_id); !s)
    return Status::error("message tool_call_id must be a string");
  return msg;
}

Result<std::vector<ChatMessage>> parse_messages(const ordered_json& b) {
  std::vector<ChatMessage> out;
  CORRAL_ASSIGN_OR_RETURN(const ordered_json* list, read_array(b, "messages"));
  if (!list) return out;
  for (const auto& m : *list) {
    CORRAL_ASSIGN_OR_RETURN(ChatMessage msg, parse_message(m));
    out.push_back(std::move(msg));
  }
  return out;
}

Result<std::vector<int32_t>> parse_context(const ordered_json& b) {
  std::vector<int32_t> out;
  CORRAL_ASSIGN_OR_RETURN(const ordered_json* context, read_array(b, "context"));
  if (!context) return out;
  for (const auto& v : *context) {
    if (!v.is_number_integer()) return Status::error("context must be an array of token ids");
    const int64_t id = v.is_number_unsigned() && v.get<uint64_t>() > uint64_t{INT32_MAX} ? -1 : v.get<int64_t>();
    if (id < 0 || id > INT32_MAX) return Status::error("context holds an invalid token id");
    out.push_back(static_cast<int32_t>(id));
  }
  return out;
}

// The fields parse_ollama_request reads for every inference endpoint, in a ChatRequest.
Result<ChatRequest> common_fields(const ordered_json& b, OllamaEndpoint endpoint) {
  CORRAL_ASSIGN_OR_RETURN(OllamaRequest c, parse_ollama_request(b, endpoint));
  ChatRequest r;
  r.model = std::move(c.model);
  r.stream = c.stream;
  r.keep_alive = c.keep_alive;
  r.options = std::move(c.options);  // null or an object, as options_for takes it
  r.format = OutputFormat{.syntax = OutputFormat::Syntax::kOllama, .value = std::move(c.format)};
  r.think = c.think;
  r.top_logprobs = c.top_logprobs;
  return r;
}

}  // namespace

Result<ChatRequest> parse_chat_request(const ordered_json& b) {
  CORRAL_ASSIGN_OR_RETURN(ChatRequest r, common_fields(b, OllamaEndpoint::kChat));
  CORRAL_ASSIGN_OR_RETURN(r.messages, parse_messages(b));
  CORRAL_ASSIGN_OR_RETURN(const ordered_json* tools, read_array(b, "tools"));
  if (tools && !tools->empty()) r.tools = nlohmann::json(*tools);
  // corral's addition: OpenAI's tool_choice, here too ("required" or a function forces a call).
  CORRAL_ASSIGN_OR_RETURN(r.tool_choice, parse_tool_choice(find_field(b, "tool_choice"), r.tools));
  if (r.tool_choice.forces_call()) {
    if (!r.format.value.is_null() && r.format.value != "")
      return Status::error("tool_choice cannot be combined with format");
    r.format.value = forced_call_schema(r.tools, r.tool_choice);
  }
  return r;
}

Result<ChatRequest> parse_generate_request(const ordered_json& b) {
  CORRAL_ASSIGN_OR_RETURN(ChatRequest r, common_fields(b, OllamaEndpoint::kGenerate));
  GenerateInput g;
  CORRAL_RETURN_IF_ERROR(read_string(b, "prompt", &g.prompt));
  CORRAL_RETURN_IF_ERROR(read_string(b, "suffix", &g.suffix));
  CORRAL_RETURN_IF_ERROR(reject_images(b));
  CORRAL_RETURN_IF_ERROR(read_string(b, "system", &g.system));
  std::string tmpl;
  CORRAL_RETURN_IF_ERROR(read_string(b, "template", &tmpl));
  if (!tmpl.empty()) g.template_override = std::move(tmpl);
  CORRAL_ASSIGN_OR_RETURN(g.context, parse_context(b));
  CORRAL_RETURN_IF_ERROR(read_bool(b, "raw", &g.raw));
  r.generate = std::move(g);
  return r;
}

}  // namespace corral::server
