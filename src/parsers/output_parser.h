// The streaming interface every output parser implements: decoded text goes in piece by piece,
// decided events come out. Text that may still become a marker or a tool call is held back
// until it is decided, so no marker or tool-call JSON ever reaches content.
#pragma once

#include <string_view>

#include "base/status.h"
#include "parsers/events.h"

namespace corral::parsers {

class OutputParser {
 public:
  virtual ~OutputParser() = default;

  // Feeds the next decoded piece (any split, even inside a marker or a UTF-8 sequence: events
  // are cut only where the input was cut or before a marker). Returns the events now decided.
  // An error (malformed JSON inside tool-call markers, an oversized call) ends the parse:
  // Ollama ends the response with that error. Events decided before it in the same piece are
  // returned first and the error comes with the next call; once returned, every later call
  // returns it again.
  virtual Result<ParseEvents> feed(std::string_view text) = 0;

  // End of output: flushes held text and settles what is still open (see each parser).
  virtual Result<ParseEvents> finish() = 0;
};

}  // namespace corral::parsers
