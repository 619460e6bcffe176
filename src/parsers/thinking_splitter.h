// Splits <think>...</think> (Qwen3, DeepSeek-R1 and templates with {{ .Thinking }}) off the
// front of the output, as Ollama's thinking parser and its qwen3 parser do.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "parsers/events.h"

namespace corral::parsers {

struct ThinkingTags {
  std::string open;   // "<think>"
  std::string close;  // "</think>"

  bool operator==(const ThinkingTags&) const = default;
};

class ThinkingSplitter {
 public:
  // `starts_inside`: the prompt already opened the thinking block (it ends with tags.open), so
  // the output begins inside it; one re-emitted opening tag is then skipped (some Qwen3
  // checkpoints write it anyway). `interrupts`: markers that end thinking without the closing
  // tag (a tool call opened inside thinking, as Ollama's qwen3 parser treats it); they stay in
  // the content for the next stage.
  ThinkingSplitter(ThinkingTags tags, bool starts_inside, std::vector<std::string> interrupts);

  // Appends thinking and content events for the next piece.
  void feed(std::string_view text, ParseEvents& out);
  // Flushes held text: an unterminated thinking block stays thinking (Ollama).
  void finish(ParseEvents& out);

 private:
  enum class State { kLookingForOpen, kThinking, kAfterThinking, kContent };
  bool step(ParseEvents& out);  // true to keep going

  ThinkingTags tags_;
  std::vector<std::string> thinking_markers_;  // close tag, then interrupts
  State state_;
  bool eat_space_;        // drop whitespace opening the thinking text
  bool skip_open_again_;  // starts_inside: one leading open tag is not thinking text
  std::string buf_;       // undecided text (bounded by the marker and whitespace holds)
};

}  // namespace corral::parsers
