#include "parsers/tool_call_stage.h"

#include <algorithm>
#include <utility>

#include "parsers/limits.h"
#include "parsers/markers.h"

namespace corral::parsers {
namespace {

constexpr std::string_view kArgsTag = "[ARGS]";
constexpr std::string_view kCallIdTag = "[CALL_ID]";  // Mistral may put an id between name and args

bool opens_json(char c) { return c == '{' || c == '['; }

}  // namespace

ToolCallStage::ToolCallStage(ToolCallFormat format)
    : format_(std::move(format)), state_(format_.leading_json ? State::kStart : State::kContent) {
  call_markers_ = format_.open_tags;
  if (!format_.close_tag.empty()) call_markers_.push_back(format_.close_tag);
}

Status ToolCallStage::feed(std::string_view text, ParseEvents& out) {
  if (!error_.is_ok()) return error_;
  buf_.append(text);
  for (;;) {
    Result<bool> more = step(out);
    if (!more) return more.status();
    if (!*more) return Status::ok();
  }
}

bool ToolCallStage::named_tool(const ToolCall& call) const {
  if (format_.tool_names.empty()) return true;
  return std::find(format_.tool_names.begin(), format_.tool_names.end(), call.name) != format_.tool_names.end();
}

bool ToolCallStage::emit_calls(std::vector<ToolCall> calls, ParseEvents& out) {
  for (ToolCall& call : calls) {
    call.index = next_index_++;
    append_call(out, std::move(call));
  }
  return true;
}

Result<bool> ToolCallStage::bad_call(std::string why, ParseEvents& out) {
  std::size_t scanned = scanning_ ? scanner_.scanned() : 0;
  scanning_ = false;
  have_name_ = false;
  switch (format_.bad_call) {
    case BadCallPolicy::kError:
      error_ = Status::error("malformed tool call: " + why);
      buf_.clear();
      return error_;
    case BadCallPolicy::kDrop:
      // What the scan already passed over goes at once (rescanning it byte by byte would be
      // quadratic in a call's size).
      buf_.erase(0, std::max<std::size_t>(1, std::min(scanned, buf_.size())));
      return true;
    case BadCallPolicy::kContent:
      append_text(out, EventKind::kContent, buf_);
      buf_.clear();
      state_ = State::kContent;
      return true;
  }
  return false;
}

Result<bool> ToolCallStage::step(ParseEvents& out) {
  switch (state_) {
    case State::kStart: {
      std::string_view rest = trim_left(buf_);
      if (rest.empty()) {
        if (buf_.size() <= kMaxHeldBytes) return false;
        state_ = State::kContent;
        return true;
      }
      if (opens_json(rest.front())) {
        json_start_ = buf_.size() - rest.size();
        scanner_.reset();
        state_ = State::kLeading;
        return true;
      }
      state_ = State::kContent;
      return true;
    }
    case State::kLeading: {
      auto scan = scanner_.scan(std::string_view(buf_).substr(json_start_));
      if (scan == JsonExtentScanner::State::kIncomplete) return false;
      if (scan == JsonExtentScanner::State::kComplete) {
        std::size_t end = json_start_ + scanner_.end();
        auto value = parse_json_bounded(std::string_view(buf_).substr(json_start_, scanner_.end()));
        if (value) {
          auto calls = calls_from_json(*value);
          if (calls && std::all_of(calls->begin(), calls->end(), [&](const ToolCall& c) { return named_tool(c); })) {
            emit_calls(std::move(calls).value(), out);
            buf_.erase(0, end);
            state_ = State::kCall;
            payload_seen_ = true;
            return true;
          }
        }
      }
      // Not a call: the answer simply starts with JSON (Ollama then stops looking for calls).
      append_text(out, EventKind::kContent, buf_);
      buf_.clear();
      state_ = State::kPassthrough;
      return false;
    }
    case State::kContent: {
      if (eat_space_) {
        std::string_view rest = trim_left(buf_);
        if (rest.empty()) {
          buf_.clear();
          return false;
        }
        buf_.erase(0, buf_.size() - rest.size());
        eat_space_ = false;
      }
      if (auto hit = find_first_marker(buf_, format_.open_tags)) {
        append_text(out, EventKind::kContent, trim_right(std::string_view(buf_).substr(0, hit->pos)));
        buf_.erase(0, hit->pos + format_.open_tags[hit->which].size());
        state_ = State::kCall;
        payload_seen_ = false;
        return true;
      }
      std::size_t n = releasable_prefix(buf_, format_.open_tags, !format_.open_tags.empty());
      append_text(out, EventKind::kContent, std::string_view(buf_).substr(0, n));
      buf_.erase(0, n);
      return false;
    }
    case State::kCall: return step_call(out);
    case State::kPassthrough:
      append_text(out, EventKind::kContent, buf_);
      buf_.clear();
      return false;
  }
  return false;
}

Result<bool> ToolCallStage::step_call(ParseEvents& out) {
  if (scanning_) {
    auto scan = scanner_.scan(buf_);
    if (scan == JsonExtentScanner::State::kIncomplete) return false;
    if (scan == JsonExtentScanner::State::kInvalid) return bad_call(scanner_.error(), out);
    std::string_view text = std::string_view(buf_).substr(0, scanner_.end());
    std::vector<ToolCall> calls;
    if (have_name_) {
      auto call = call_from_parts(pending_name_, text);
      if (!call) return bad_call(call.error(), out);
      if (!named_tool(*call)) return bad_call("tool '" + call->name + "' not found", out);
      calls.push_back(std::move(call).value());
    } else {
      auto value = parse_json_bounded(text);
      if (!value) return bad_call(value.error(), out);
      auto parsed = calls_from_json(*value);
      if (!parsed) return bad_call(parsed.error(), out);
      calls = std::move(parsed).value();
    }
    buf_.erase(0, scanner_.end());
    scanning_ = false;
    have_name_ = false;
    payload_seen_ = true;
    return emit_calls(std::move(calls), out);
  }

  // Between payloads: whitespace, and the separators Llama and Mistral write between calls.
  std::size_t skip = 0;
  while (skip < buf_.size() && (is_space(buf_[skip]) || (payload_seen_ && (buf_[skip] == ';' || buf_[skip] == ',')))) {
    ++skip;
  }
  buf_.erase(0, skip);
  if (buf_.empty()) return false;

  if (have_name_) {
    if (buf_.front() != '{') return bad_call("arguments of " + pending_name_ + " are not a JSON object", out);
    scanner_.reset();
    scanning_ = true;
    return true;
  }
  if (!format_.close_tag.empty() && buf_.starts_with(format_.close_tag)) {
    if (!payload_seen_) return bad_call("empty tool call", out);
    buf_.erase(0, format_.close_tag.size());
    state_ = State::kContent;
    eat_space_ = true;
    return true;
  }
  for (const std::string& tag : format_.open_tags) {
    if (buf_.starts_with(tag)) {
      buf_.erase(0, tag.size());
      payload_seen_ = false;
      return true;
    }
  }
  if (is_partial_marker(buf_, call_markers_)) return false;
  if (opens_json(buf_.front())) {
    scanner_.reset();
    scanning_ = true;
    return true;
  }
  if (format_.named_arguments && !payload_seen_) {
    std::size_t args = buf_.find(kArgsTag);
    if (args == std::string::npos) {
      if (buf_.size() > kMaxToolNameBytes) return bad_call("no [ARGS] after the tool name", out);
      return false;
    }
    std::string_view name = std::string_view(buf_).substr(0, args);
    if (std::size_t id = name.find(kCallIdTag); id != std::string_view::npos) name = name.substr(0, id);
    pending_name_ = std::string(trim(name));
    buf_.erase(0, args + kArgsTag.size());
    have_name_ = true;
    return true;
  }
  if (payload_seen_ && format_.close_tag.empty() && format_.bad_call != BadCallPolicy::kDrop) {
    state_ = State::kContent;  // the calls are over; what follows is an answer again
    return true;
  }
  return bad_call("tool call is not JSON", out);
}

Status ToolCallStage::finish(ParseEvents& out) {
  if (!error_.is_ok()) return error_;
  switch (state_) {
    case State::kStart:
    case State::kContent:
    case State::kPassthrough:
    case State::kLeading:  // JSON never closed: it was an answer, not a call
      if (!(state_ == State::kContent && eat_space_)) append_text(out, EventKind::kContent, buf_);
      break;
    case State::kCall:
      if (format_.bad_call == BadCallPolicy::kContent) append_text(out, EventKind::kContent, buf_);
      break;
  }
  buf_.clear();
  return Status::ok();
}

}  // namespace corral::parsers
