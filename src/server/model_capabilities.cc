#include "server/model_capabilities.h"

#include "server/api_common.h"

namespace corral::server {

parsers::ParserInputs model_parser_inputs(const ServedModel& m) {
  parsers::ParserInputs in;
  in.template_text = m.tmpl->source();
  in.architecture = m.resolved.config.model_family;
  in.parser_name = m.resolved.config.parser;
  return in;
}

TemplateCapabilities template_capabilities(const ServedModel& m) {
  TemplateCapabilities caps;
  const parsers::ParserInputs in = model_parser_inputs(m);
  // Ollama: the template's variables (lower-cased) name .Tools / .Suffix, or the model's
  // explicit parser handles tool calls itself (harmony and the qwen parsers do).
  caps.tools = m.tmpl->mentions("tools") || in.parser_name == "harmony" || in.parser_name.starts_with("qwen3") ||
               in.parser_name == "ministral";
  caps.insert = m.tmpl->mentions("suffix");
  caps.thinking = parsers::supports_thinking(in);
  return caps;
}

std::vector<std::string> model_capabilities(const ServedModel& m) {
  std::vector<std::string> out;
  out.emplace_back(m.facts.pooling ? "embedding" : "completion");
  if (m.facts.vision) out.emplace_back("vision");
  const TemplateCapabilities t = template_capabilities(m);
  if (t.tools) out.emplace_back("tools");
  if (t.insert) out.emplace_back("insert");
  if (t.thinking) out.emplace_back("thinking");
  return out;
}

Status check_completion(const ServedModel& m, std::string_view requested_name, const char* endpoint) {
  if (!m.facts.pooling) return Status::ok();
  return Status::errorf("\"{}\" does not support {}", clip_for_error(requested_name), endpoint);
}

std::string does_not_support(const ServedModel& m, const char* capability) {
  return m.resolved.name.full() + " does not support " + capability;
}

}  // namespace corral::server
