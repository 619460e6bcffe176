// What a model can do, as Ollama's Model.Capabilities derives it from the template and the
// model's config: tools (the template mentions .Tools, or a parser that calls tools), insert
// (.Suffix: fill-in-the-middle), thinking (tags around {{ .Thinking }}, gpt-oss/harmony, or a
// thinking parser). Completion / embedding / vision come from the GGUF (the caller's part).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "parsers/select.h"
#include "server/model_resolver.h"

namespace corral::server {

struct TemplateCapabilities {
  bool tools = false;
  bool insert = false;
  bool thinking = false;
};

TemplateCapabilities template_capabilities(const ServedModel& m);

// Everything a model can do, named and ordered as Ollama's Model.Capabilities lists them:
// "embedding" (the GGUF has <arch>.pooling_type) or else "completion", "vision" (the GGUF has
// <arch>.vision.block_count), then the template's "tools", "insert", "thinking".
std::vector<std::string> model_capabilities(const ServedModel& m);

// The parser inputs that describe the model (template text, family, explicit parser name);
// the caller fills in the request's part (tools, think, prompt).
parsers::ParserInputs model_parser_inputs(const ServedModel& m);

// Ollama's wording for a missing capability: "<full model name> does not support tools".
std::string does_not_support(const ServedModel& m, const char* capability);

// Ollama's 400 for a text request to a model without "completion" (an embedding model):
// "\"<name>\" does not support generate" (or chat: `endpoint`), with the name the request used.
// Checked before anything else of the request, as Ollama's scheduleRunner does.
Status check_completion(const ServedModel& m, std::string_view requested_name, const char* endpoint);

}  // namespace corral::server
