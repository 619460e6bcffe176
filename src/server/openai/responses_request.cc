#include "server/openai/responses_request.h"

#include <utility>

#include "server/request_fields.h"

namespace corral::server::openai {
namespace {

Status type_error(std::string_view field, const char* expected) {
  return Status::errorf("invalid type for '{}': expected {}", field, expected);
}

// "input[3]: <message>": which item a problem is in.
Status in_item(size_t index, const Status& st) { return Status::errorf("input[{}]: {}", index, st.message()); }

std::string type_of(const ordered_json& obj) {
  const ordered_json* t = find_field(obj, "type");
  return t && t->is_string() ? t->get<std::string>() : "";
}

// The text of a content list: a string, or parts of type input_text / output_text joined with
// "\n" (as corral's chat API joins text parts). Images, files and audio are refused: no model
// here reads them.
Result<std::string> content_text(const ordered_json& content, std::string_view field) {
  if (content.is_string()) return content.get<std::string>();
  if (!content.is_array()) return type_error(field, "a string or an array of content parts");
  std::string text;
  for (const auto& part : content) {
    if (!part.is_object()) return Status::errorf("invalid content part in '{}': expected an object", field);
    const std::string type = type_of(part);
    if (type == "input_image" || type == "input_file" || type == "input_audio")
      return Status::errorf("{} content parts are not supported", type);
    if (type != "input_text" && type != "output_text")
      return Status::errorf("unknown content part type '{}' in '{}': expected input_text or output_text",
                            clip_for_error(type), field);
    const ordered_json* t = find_field(part, "text");
    if (!t || !t->is_string()) return Status::errorf("invalid content part in '{}': 'text' must be a string", field);
    if (!text.empty()) text += "\n";
    text += t->get_ref<const std::string&>();
  }
  return text;
}

Result<std::string> required_string(const ordered_json& item, const char* key) {
  const ordered_json* v = find_field(item, key);
  if (!v) return Status::errorf("missing required field '{}'", key);
  if (!v->is_string()) return type_error(key, "a string");
  return v->get<std::string>();
}

// A reasoning item's text: encrypted_content (where corral and Ollama put the plain reasoning),
// else the summary texts, else reasoning_text content.
Result<std::string> reasoning_text(const ordered_json& item) {
  std::string text;
  if (Status s = read_string(item, "encrypted_content", &text); !s) return type_error("encrypted_content", "a string");
  if (!text.empty()) return text;
  for (const char* key : {"summary", "content"}) {
    const ordered_json* list = find_field(item, key);
    if (!list) continue;
    if (!list->is_array()) return type_error(key, "an array");
    for (const auto& part : *list) {
      const ordered_json* t = part.is_object() ? find_field(part, "text") : nullptr;
      if (!t || !t->is_string()) return Status::errorf("invalid reasoning '{}' part: 'text' must be a string", key);
      if (!text.empty()) text += "\n";
      text += t->get_ref<const std::string&>();
    }
    if (!text.empty()) break;
  }
  return text;
}

// The function name of the call `call_id` answers (the latest call with that id).
std::string tool_name_for(const std::vector<ChatMessage>& earlier, const std::string& call_id) {
  for (auto m = earlier.rbegin(); m != earlier.rend(); ++m) {
    if (!m->tool_calls.is_array()) continue;
    for (const auto& c : m->tool_calls)
      if (c.value("id", "") == call_id) return c["function"].value("name", "");
  }
  return "";
}

// Converts the input items into messages, appending to `out`.
Status read_items(const ordered_json& items, std::vector<ChatMessage>& out) {
  std::string pending_thinking;  // a reasoning item's text, for the assistant turn after it
  for (size_t i = 0; i < items.size(); ++i) {
    const ordered_json& item = items[i];
    if (!item.is_object()) return in_item(i, Status::error("expected an object"));
    std::string type = type_of(item);
    if (const ordered_json* t = find_field(item, "type"); t && !t->is_string())
      return in_item(i, type_error("type", "a string"));
    if (type.empty() && find_field(item, "role")) type = "message";  // {"role", "content"} shorthand
    if (type == "message") {
      ChatMessage msg;
      auto role = required_string(item, "role");
      if (!role) return in_item(i, role.status());
      msg.role = *role == "developer" ? "system" : *role;
      if (msg.role != "user" && msg.role != "system" && msg.role != "assistant")
        return in_item(i, Status::errorf("invalid role '{}': expected user, system, developer or assistant",
                                         clip_for_error(*role)));
      if (const ordered_json* c = find_field(item, "content")) {
        auto text = content_text(*c, "content");
        if (!text) return in_item(i, text.status());
        msg.content = std::move(*text);
      }
      if (msg.role == "assistant") msg.thinking = std::exchange(pending_thinking, "");
      out.push_back(std::move(msg));
    } else if (type == "function_call") {
      auto call_id = required_string(item, "call_id");
      if (!call_id) return in_item(i, call_id.status());
      auto name = required_string(item, "name");
      if (!name) return in_item(i, name.status());
      std::string arguments;
      if (Status s = read_string(item, "arguments", &arguments); !s)
        return in_item(i, type_error("arguments", "a string"));
      nlohmann::json args = nlohmann::json::object();
      if (!arguments.empty()) {
        auto parsed = parse_request_json(arguments, "function call arguments");
        if (!parsed) return in_item(i, parsed.status());
        if (!parsed->is_object()) return in_item(i, Status::error("function call arguments must be a JSON object"));
        args = nlohmann::json(*parsed);
      }
      // Calls after an assistant message (or another call) belong to that turn, as in Ollama.
      if (out.empty() || out.back().role != "assistant") out.push_back(ChatMessage{.role = "assistant"});
      ChatMessage& turn = out.back();
      if (!turn.tool_calls.is_array()) turn.tool_calls = nlohmann::json::array();
      if (!pending_thinking.empty()) turn.thinking = std::exchange(pending_thinking, "");
      const int index = static_cast<int>(turn.tool_calls.size());
      turn.tool_calls.push_back(
          nlohmann::json{{"id", *call_id}, {"function", {{"index", index}, {"name", *name}, {"arguments", args}}}});
    } else if (type == "function_call_output") {
      auto call_id = required_string(item, "call_id");
      if (!call_id) return in_item(i, call_id.status());
      const ordered_json* output = find_field(item, "output");
      if (!output) return in_item(i, Status::error("missing required field 'output'"));
      auto text = content_text(*output, "output");
      if (!text) return in_item(i, text.status());
      ChatMessage msg{.role = "tool",
                      .content = std::move(*text),
                      .tool_name = tool_name_for(out, *call_id),
                      .tool_call_id = *call_id};
      out.push_back(std::move(msg));
    } else if (type == "reasoning") {
      auto text = reasoning_text(item);
      if (!text) return in_item(i, text.status());
      pending_thinking = std::move(*text);
    } else if (type == "item_reference") {
      return in_item(i,
                     Status::error("item_reference is not supported: this server keeps no responses (stateless, like "
                                   "Ollama); send the items themselves (with the AI SDK: providerOptions.openai.store "
                                   "= false)"));
    } else if (type.empty()) {
      return in_item(i, Status::error("input item missing required 'type' field"));
    } else {
      return in_item(i, Status::errorf("unknown input item type '{}'", clip_for_error(type)));
    }
  }
  // Reasoning with no turn after it is an assistant turn of its own (as Ollama does).
  if (!pending_thinking.empty()) out.push_back(ChatMessage{.role = "assistant", .thinking = pending_thinking});
  return Status::ok();
}

// Function tools in the chat API's shape ({"type": "function", "function": {...}}); hosted tools
// (web search, file search, code interpreter, ...) run inside OpenAI and cannot run here.
Status read_tools(const ordered_json& tools, ResponsesRequest& r) {
  if (!tools.is_array()) return type_error("tools", "an array");
  r.echo_tools = tools;
  if (tools.empty()) return Status::ok();
  r.chat.tools = nlohmann::json::array();
  for (size_t i = 0; i < tools.size(); ++i) {
    const ordered_json& t = tools[i];
    if (!t.is_object()) return Status::errorf("tools[{}]: expected an object", i);
    const std::string type = type_of(t);
    if (type != "function")
      return Status::errorf("tools[{}]: tool type '{}' is not supported (only function tools)", i,
                            clip_for_error(type));
    const ordered_json* name = find_field(t, "name");
    if (!name || !name->is_string() || name->get_ref<const std::string&>().empty())
      return Status::errorf("tools[{}]: 'name' must be a non-empty string", i);
    nlohmann::json fn{{"name", name->get<std::string>()}};
    if (const ordered_json* d = find_field(t, "description")) {
      if (!d->is_string()) return Status::errorf("tools[{}]: 'description' must be a string", i);
      fn["description"] = d->get<std::string>();
    }
    if (const ordered_json* p = find_field(t, "parameters")) {
      if (!p->is_object()) return Status::errorf("tools[{}]: 'parameters' must be an object", i);
      fn["parameters"] = nlohmann::json(*p);
    }
    if (const ordered_json* s = find_field(t, "strict"); s && !s->is_boolean())
      return Status::errorf("tools[{}]: 'strict' must be a boolean", i);
    r.chat.tools.push_back(nlohmann::json{{"type", "function"}, {"function", std::move(fn)}});
  }
  return Status::ok();
}

Status read_tool_choice(const ordered_json* value, ResponsesRequest& r) {
  if (value && value->is_object()) {
    const std::string type = type_of(*value);
    if (type != "function")
      return Status::errorf(
          "tool_choice type '{}' is not supported: expected {{\"type\": \"function\", \"name\": ...}}",
          clip_for_error(type));
  }
  CORRAL_ASSIGN_OR_RETURN(r.chat.tool_choice, parse_tool_choice(value, r.chat.tools));
  if (value) r.echo_tool_choice = *value;
  return Status::ok();
}

// text.format -> the chat API's response_format (program_for_response_format reads it).
Status read_text(const ordered_json& text, ResponsesRequest& r) {
  if (!text.is_object()) return type_error("text", "an object");
  const ordered_json* format = find_field(text, "format");
  if (!format) return Status::ok();
  if (!format->is_object()) return type_error("text.format", "an object");
  r.echo_text_format = *format;
  const std::string type = type_of(*format);
  if (type == "text") return Status::ok();
  if (type == "json_object") {
    r.chat.format.value = ordered_json{{"type", "json_object"}};
    return Status::ok();
  }
  if (type != "json_schema")
    return Status::errorf("invalid text.format type '{}': expected text, json_object or json_schema",
                          clip_for_error(type));
  const ordered_json* schema = find_field(*format, "schema");
  if (!schema || !schema->is_object()) return Status::error("text.format.schema must be an object (a JSON schema)");
  r.chat.format.value = ordered_json{{"type", "json_schema"}, {"json_schema", {{"schema", *schema}}}};
  return Status::ok();
}

// reasoning.effort: "none" turns thinking off, a level turns it on. OpenAI's levels beyond
// Ollama's three map to the nearest one the templates know: "minimal" to "low", "xhigh" and
// "max" to "high".
Status read_reasoning(const ordered_json& reasoning, ResponsesRequest& r) {
  if (!reasoning.is_object()) return type_error("reasoning", "an object");
  std::string effort, summary;
  if (Status s = read_string(reasoning, "effort", &effort); !s) return type_error("reasoning.effort", "a string");
  if (Status s = read_string(reasoning, "summary", &summary); !s) return type_error("reasoning.summary", "a string");
  if (!effort.empty() || !summary.empty()) {
    r.echo_reasoning = ordered_json{{"effort", effort.empty() ? ordered_json() : ordered_json(effort)},
                                    {"summary", summary.empty() ? ordered_json() : ordered_json(summary)}};
  }
  if (effort.empty()) return Status::ok();
  if (effort == "none") {
    r.chat.think.enabled = false;
  } else if (effort == "minimal" || effort == "low") {
    r.chat.think.level = "low";
  } else if (effort == "medium") {
    r.chat.think.level = effort;
  } else if (effort == "high" || effort == "xhigh" || effort == "max") {
    r.chat.think.level = "high";
  } else {
    return Status::errorf(
        "invalid reasoning value: '{}' (must be \"max\", \"xhigh\", \"high\", \"medium\", \"low\", \"minimal\", "
        "or \"none\")",
        clip_for_error(effort));
  }
  return Status::ok();
}

Status read_number_field(const ordered_json& b, const char* key, double* out) {
  const ordered_json* v = find_field(b, key);
  if (!v) return Status::ok();
  if (!v->is_number()) return type_error(key, "a number");
  *out = v->get<double>();
  return Status::ok();
}

}  // namespace

Result<ResponsesRequest> parse_responses_request(const ordered_json& b) {
  ResponsesRequest r;
  r.chat.format.syntax = OutputFormat::Syntax::kResponseFormat;  // text.format maps onto response_format
  r.echo_tools = ordered_json::array();
  r.echo_tool_choice = "auto";
  r.echo_text_format = ordered_json{{"type", "text"}};
  r.echo_metadata = ordered_json::object();

  // What a stateless server cannot do, said plainly before anything else.
  if (find_field(b, "previous_response_id"))
    return Status::error(
        "previous_response_id is not supported: this server keeps no responses (stateless, like Ollama); send "
        "the whole conversation in 'input'");
  if (find_field(b, "conversation"))
    return Status::error("conversation is not supported: this server keeps no conversations (stateless)");
  bool flag = false;
  if (Status s = read_bool(b, "background", &flag); !s) return type_error("background", "a boolean");
  if (flag) return Status::error("background responses are not supported");
  if (Status s = read_bool(b, "store", &flag); !s) return type_error("store", "a boolean");  // accepted, never kept
  if (const ordered_json* n = find_field(b, "top_logprobs"); n && (!n->is_number() || *n != 0))
    return Status::error("top_logprobs is not supported");
  if (const ordered_json* inc = find_field(b, "include"); inc && !inc->is_array())
    return type_error("include", "an array");

  if (Status s = read_string(b, "model", &r.chat.model); !s) return type_error("model", "a string");
  if (Status s = read_bool(b, "stream", &r.chat.stream); !s) return type_error("stream", "a boolean");
  if (Status s = read_bool(b, "parallel_tool_calls", &r.parallel_tool_calls); !s)
    return type_error("parallel_tool_calls", "a boolean");
  if (Status s = read_string(b, "truncation", &r.truncation); !s) return type_error("truncation", "a string");
  if (r.truncation != "auto" && r.truncation != "disabled")
    return Status::errorf("invalid truncation '{}': expected \"auto\" or \"disabled\"", clip_for_error(r.truncation));
  if (const ordered_json* m = find_field(b, "metadata")) {
    if (!m->is_object()) return type_error("metadata", "an object");
    r.echo_metadata = *m;
  }

  std::string instructions;
  if (Status s = read_string(b, "instructions", &instructions); !s) return type_error("instructions", "a string");
  if (!instructions.empty()) {
    r.echo_instructions = instructions;
    r.chat.messages.push_back(ChatMessage{.role = "system", .content = instructions});
  }
  const ordered_json* input = find_field(b, "input");
  if (!input) return Status::error("missing required parameter: 'input'");
  if (input->is_string()) {
    if (!input->get_ref<const std::string&>().empty())
      r.chat.messages.push_back(ChatMessage{.role = "user", .content = input->get<std::string>()});
  } else if (input->is_array()) {
    CORRAL_RETURN_IF_ERROR(read_items(*input, r.chat.messages));
  } else {
    return type_error("input", "a string or an array of input items");
  }
  if (r.chat.messages.empty()) return Status::error("'input' is empty: there is nothing to respond to");

  if (const ordered_json* t = find_field(b, "tools")) CORRAL_RETURN_IF_ERROR(read_tools(*t, r));
  CORRAL_RETURN_IF_ERROR(read_tool_choice(find_field(b, "tool_choice"), r));
  if (const ordered_json* t = find_field(b, "text")) CORRAL_RETURN_IF_ERROR(read_text(*t, r));
  if (r.chat.tool_choice.forces_call() && !r.chat.format.value.is_null())
    return Status::error("a tool_choice that forces a call cannot be combined with text.format");
  if (const ordered_json* t = find_field(b, "reasoning")) CORRAL_RETURN_IF_ERROR(read_reasoning(*t, r));

  ordered_json& o = r.chat.options;
  if (const ordered_json* n = find_field(b, "max_output_tokens")) {
    int64_t max = 0;
    if (Status s = read_int(b, "max_output_tokens", &max); !s) return type_error("max_output_tokens", "an integer");
    if (max < 1) return Status::error("'max_output_tokens' must be at least 1");
    o["num_predict"] = max;
    r.echo_max_output_tokens = *n;
  }
  CORRAL_RETURN_IF_ERROR(read_number_field(b, "temperature", &r.temperature));
  CORRAL_RETURN_IF_ERROR(read_number_field(b, "top_p", &r.top_p));
  o["temperature"] = r.temperature;
  o["top_p"] = r.top_p;
  // Not in OpenAI's Responses API; accepted as in its chat API, so seeded responses repeat.
  if (find_field(b, "seed")) {
    int64_t seed = 0;
    if (Status s = read_int(b, "seed", &seed); !s) return type_error("seed", "an integer");
    o["seed"] = seed;
  }
  if (r.chat.tool_choice.forces_call()) {
    r.chat.format.value = ordered_json{
        {"type", "json_schema"},
        {"json_schema", {{"name", "tool_call"}, {"schema", forced_call_schema(r.chat.tools, r.chat.tool_choice)}}}};
  }
  return r;
}

}  // namespace corral::server::openai
