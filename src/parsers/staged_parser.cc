#include "parsers/staged_parser.h"

#include <utility>

namespace corral::parsers {

StagedParser::StagedParser(std::optional<ThinkingSplitter> thinking, std::optional<ToolCallStage> tools)
    : thinking_(std::move(thinking)), tools_(std::move(tools)) {}

Result<ParseEvents> StagedParser::route(ParseEvents staged) {
  if (!tools_) return staged;
  ParseEvents out;
  for (ParseEvent& e : staged) {
    if (e.kind != EventKind::kContent) {
      out.push_back(std::move(e));
      continue;
    }
    Status s = tools_->feed(e.text, out);
    if (!s) {
      // Events decided before the error are delivered; the error comes with the next call, so
      // where the input was split does not change what the client sees.
      error_ = s;
      if (out.empty()) return s;
      return out;
    }
  }
  return out;
}

Result<ParseEvents> StagedParser::feed(std::string_view text) {
  if (!error_.is_ok()) return error_;
  ParseEvents staged;
  if (thinking_) {
    thinking_->feed(text, staged);
  } else {
    append_text(staged, EventKind::kContent, text);
  }
  return route(std::move(staged));
}

Result<ParseEvents> StagedParser::finish() {
  if (!error_.is_ok()) return error_;
  ParseEvents staged;
  if (thinking_) thinking_->finish(staged);
  CORRAL_ASSIGN_OR_RETURN(ParseEvents out, route(std::move(staged)));
  if (tools_) {
    Status s = tools_->finish(out);
    if (!s) {
      error_ = s;
      return s;
    }
  }
  return out;
}

}  // namespace corral::parsers
