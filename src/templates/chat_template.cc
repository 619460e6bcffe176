#include "templates/chat_template.h"

#include <fmt/format.h>

#include "templates/template_values.h"

namespace corral {
namespace {

using gotmpl::Json;

// Ollama's collate: all system contents joined for .System, and consecutive messages of the
// same role merged (content joined by "\n\n", other fields of the first kept) except tool
// messages, whose ids must stay apart.
struct Collated {
  std::string system;
  std::vector<ChatMessage> messages;
};

Collated collate(const std::vector<ChatMessage>& messages) {
  Collated c;
  bool any_system = false;
  for (const ChatMessage& m : messages) {
    if (m.role == "system") {
      if (any_system) c.system += "\n\n";
      c.system += m.content;
      any_system = true;
    }
    if (!c.messages.empty() && c.messages.back().role == m.role && m.role != "tool") {
      c.messages.back().content += "\n\n" + m.content;
    } else {
      c.messages.push_back(m);
    }
  }
  return c;
}

void add_think(Json& data, const ThinkOption& think) {
  data["Think"] = think.enabled.value_or(false) || !think.level.empty();
  // Ollama passes ThinkValue.String(): the level, "medium" for a bare true, "" otherwise.
  data["ThinkLevel"] = !think.level.empty() ? think.level : (think.enabled.value_or(false) ? "medium" : "");
  data["IsThinkSet"] = think.enabled.has_value() || !think.level.empty();
}

Status check_size(const std::string& out, const GoTemplateLimits& limits) {
  if (out.size() > limits.max_output_bytes)
    return Status::errorf("template output exceeds {} bytes", limits.max_output_bytes);
  return Status::ok();
}

// Legacy templates: one execution per system/user/assistant exchange, the last one cut
// after {{ .Response }}.
Result<std::string> render_legacy(const GoTemplate& t, const std::vector<ChatMessage>& messages,
                                  const ThinkOption& think, const GoTemplateLimits& limits) {
  // Ollama appends {{ .Response }} to templates that never mention it.
  const bool appended_response = !t.mentions("response");
  std::string out, system, prompt, response;
  auto run = [&](const GoTemplate& tmpl) -> Status {
    Json data = {{"System", system}, {"Prompt", prompt}, {"Response", response}};
    add_think(data, think);
    CORRAL_ASSIGN_OR_RETURN(std::string text, tmpl.execute(data, limits));
    out += text;
    if (appended_response) out += response;
    system.clear();
    prompt.clear();
    response.clear();
    return check_size(out, limits);
  };
  for (const ChatMessage& m : messages) {
    if (m.role == "system") {
      if (!prompt.empty() || !response.empty()) CORRAL_RETURN_IF_ERROR(run(t));
      system = m.content;
    } else if (m.role == "user") {
      if (!response.empty()) CORRAL_RETURN_IF_ERROR(run(t));
      prompt = m.content;
    } else if (m.role == "assistant") {
      response = m.content;
    }
  }
  CORRAL_RETURN_IF_ERROR(run(t.cut_after_response()));
  return out;
}

}  // namespace

Result<std::string> render_template(const GoTemplate& t, const ChatTemplateInput& input,
                                    const GoTemplateLimits& limits) {
  Collated c = collate(input.messages);
  if (!input.prompt.empty() && !input.suffix.empty()) {
    Json data = {{"Prompt", input.prompt}, {"Suffix", input.suffix}, {"Response", ""}};
    add_think(data, input.think);
    return t.execute(data, limits);
  }
  if (t.mentions("messages")) {
    Json msgs = Json::array();
    for (const ChatMessage& m : c.messages) msgs.push_back(gotmpl::message_value(m));
    Json data = {{"System", c.system},
                 {"Messages", std::move(msgs)},
                 {"Tools", gotmpl::tools_value(input.tools)},
                 {"Response", ""}};
    add_think(data, input.think);
    return t.execute(data, limits);
  }
  return render_legacy(t, c.messages, input.think, limits);
}

Result<std::string> render_chat(const GoTemplate& t, const std::vector<ChatMessage>& messages,
                                const nlohmann::json& tools, const ThinkOption& think) {
  ChatTemplateInput input;
  input.messages = messages;
  input.tools = tools;
  input.think = think;
  return render_template(t, input);
}

Result<std::string> render_generate(const GoTemplate& t, std::string_view system, std::string_view prompt,
                                    std::string_view suffix, const ThinkOption& think) {
  ChatTemplateInput input;
  input.think = think;
  if (!suffix.empty()) {
    input.prompt = std::string(prompt);
    input.suffix = std::string(suffix);
  } else {
    if (!system.empty()) input.messages.push_back({.role = "system", .content = std::string(system)});
    input.messages.push_back({.role = "user", .content = std::string(prompt)});
  }
  return render_template(t, input);
}

}  // namespace corral
