// Modelfile parsing (Ollama's parser/parser.go grammar) and rendering (`show --modelfile`).
//
// Grammar, as Ollama reads it:
//   - one instruction per line: NAME value; instruction names are case-insensitive letters;
//   - '#' starts a comment only where an instruction could start;
//   - a value runs to the end of the line and is trimmed; a value that starts with `"""` or `"`
//     continues across lines until a line ends with the matching `"""` / `"` (no escapes);
//   - PARAMETER <name> <value>  (name: letters, digits, '_'; case-sensitive)
//   - MESSAGE <system|user|assistant> <content>
//   - FROM (required, repeatable), TEMPLATE, SYSTEM (last one wins), LICENSE (repeatable),
//     RENDERER, PARSER, REQUIRES (semver);
//   - ADAPTER and DRAFT are Ollama instructions corral does not support yet: an error.
// Deviations, all lenient or clearer: extra blanks between PARAMETER/MESSAGE and their first
// token are skipped (Ollama would take an empty name); errors name the line ("line 3: unknown
// instruction \"FORM\""); CRLF counts as one line; only ASCII control characters are dropped
// (Ollama drops every non-printable rune, e.g. U+00A0).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/status.h"

namespace corral::store {

struct Message {
  std::string role;
  std::string content;
};

struct ModelfileCommand {
  std::string name;  // lower case; "model" for FROM (Ollama's name), the parameter name for PARAMETER
  std::string args;  // MESSAGE: "role: content", as Ollama stores it
  int line = 0;      // where the instruction starts (1-based)
};

struct Modelfile {
  std::vector<ModelfileCommand> commands;  // in file order

  // The typed view of `commands`:
  std::vector<std::string> from;  // every FROM argument, in order (the first is the base)
  std::optional<std::string> template_text;
  std::optional<std::string> system;
  std::vector<std::string> licenses;
  std::vector<Message> messages;
  nlohmann::json parameters = nlohmann::json::object();  // typed values (parameters.h)
  std::string renderer;
  std::string parser;
  std::string requires_version;  // without a leading 'v'
};

Result<Modelfile> parse_modelfile(std::string_view text);

// Quotes a value the way the parser reads it back: bare when it can be, "..." for multi-line text
// or text with outer blanks, """...""" when the text contains a quote (Ollama's quote(), extended
// to leading quotes and outer tabs so that every value it can express round-trips). Text with a
// line that ends in """ cannot be written so that it parses back; no Modelfile syntax can.
std::string quote_modelfile_value(std::string_view s);

// What the Modelfile of a stored model looks like (Ollama's Model.String() + the show header).
struct ModelfileSource {
  std::string display_name;  // "# FROM <name>" hint
  std::string model_path;    // blob path of the model layer
  std::vector<std::string> adapter_paths;
  std::vector<std::string> projector_paths;
  std::optional<std::string> template_text;  // absent: Ollama's default "{{ .Prompt }}"
  std::string system;
  nlohmann::json parameters = nlohmann::json::object();
  std::vector<std::string> licenses;
  std::vector<Message> messages;
};
std::string render_modelfile(const ModelfileSource& m);

}  // namespace corral::store
