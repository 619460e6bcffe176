// gpt-oss's harmony format: a stream of messages
//   <|start|>assistant<|channel|>analysis<|message|>...<|end|>            -> thinking
//   <|start|>assistant<|channel|>commentary to=functions.NAME <|constrain|>json<|message|>{args}<|call|>
//                                                                          -> tool call NAME
//   <|start|>assistant<|channel|>final<|message|>...<|return|>             -> content
// The prompt ends inside an assistant turn, so the output starts in a header ("<|start|>assistant"
// is implied, as Ollama's harmony handler adds it). Headers are parsed as Ollama parses them.
#pragma once

#include <string>
#include <string_view>

#include "parsers/output_parser.h"

namespace corral::parsers {

class HarmonyParser : public OutputParser {
 public:
  HarmonyParser();
  Result<ParseEvents> feed(std::string_view text) override;
  // An open tool-call message is parsed here: <|call|> is a stop token, so a call usually ends
  // with the output (Ollama parses calls at done). Malformed arguments are an error.
  Result<ParseEvents> finish() override;

 private:
  enum class State { kOutside, kHeader, kBody };
  enum class Body { kContent, kThinking, kToolCall };
  Result<bool> step(ParseEvents& out);
  void open_body(std::string_view header);
  Status finish_call(ParseEvents& out);

  State state_ = State::kHeader;
  Body body_ = Body::kContent;
  std::string buf_;           // undecided text; kBody kToolCall: the arguments so far
  std::size_t searched_ = 0;  // kBody: bytes of buf_ known to hold no end marker
  std::string recipient_;     // kToolCall: "functions.get_weather"
  int next_index_ = 0;
  Status error_;
};

}  // namespace corral::parsers
