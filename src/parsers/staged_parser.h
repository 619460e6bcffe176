// The parser for every non-harmony family: an optional thinking splitter, then an optional
// tool-call stage over the content it lets through. With neither, text passes through as content.
#pragma once

#include <optional>
#include <string_view>

#include "parsers/output_parser.h"
#include "parsers/thinking_splitter.h"
#include "parsers/tool_call_stage.h"

namespace corral::parsers {

class StagedParser : public OutputParser {
 public:
  StagedParser(std::optional<ThinkingSplitter> thinking, std::optional<ToolCallStage> tools);
  Result<ParseEvents> feed(std::string_view text) override;
  Result<ParseEvents> finish() override;

 private:
  Result<ParseEvents> route(ParseEvents staged);  // content of `staged` goes through the tool stage

  std::optional<ThinkingSplitter> thinking_;
  std::optional<ToolCallStage> tools_;
  Status error_;
};

}  // namespace corral::parsers
