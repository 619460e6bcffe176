#include "parsers/harmony_parser.h"

#include <utility>
#include <vector>

#include "parsers/json_calls.h"
#include "parsers/limits.h"
#include "parsers/markers.h"

namespace corral::parsers {
namespace {

const std::string kStart = "<|start|>";
const std::string kMessage = "<|message|>";
const std::string kChannel = "<|channel|>";
const std::string kConstrain = "<|constrain|>";
// A message ends with <|end|>; <|call|> ends a tool call and <|return|> the final answer (both
// are stop tokens, so they show up only when the caller decodes stop tokens as text).
const std::vector<std::string> kEndMarkers = {"<|end|>", "<|call|>", "<|return|>"};
constexpr std::size_t kLongestEndMarker = 10;  // "<|return|>"

struct Header {
  std::string role;
  std::string channel;
  std::string recipient;
};

std::vector<std::string_view> fields(std::string_view s) {
  std::vector<std::string_view> out;
  std::size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && is_space(s[i])) ++i;
    std::size_t start = i;
    while (i < s.size() && !is_space(s[i])) ++i;
    if (i > start) out.push_back(s.substr(start, i - start));
  }
  return out;
}

// Ollama's parseHeader: the channel is the word after <|channel|>, the first remaining word is
// the role unless it is "to=X" (then X is the recipient), and a "to=X" after the role is the
// recipient too. <|constrain|> gets a space before it so it is a word of its own.
Header parse_header(std::string_view raw_view) {
  std::string raw(raw_view);
  if (std::size_t c = raw.find(kConstrain); c != std::string::npos) raw.insert(c, " ");
  Header h;
  if (std::size_t c = raw.find(kChannel); c != std::string::npos) {
    std::size_t name_start = c + kChannel.size();
    std::size_t name_end = name_start;
    while (name_end < raw.size() && !is_space(raw[name_end])) ++name_end;
    h.channel = raw.substr(name_start, name_end - name_start);
    raw = raw.substr(0, c) + raw.substr(name_end);
  }
  std::vector<std::string_view> words = fields(raw);
  if (words.empty()) return h;
  if (words[0].starts_with("to=")) {
    h.recipient = std::string(words[0].substr(3));
    h.role = "tool";
  } else {
    h.role = std::string(words[0]);
    if (words.size() > 1 && words[1].starts_with("to=")) h.recipient = std::string(words[1].substr(3));
  }
  return h;
}

}  // namespace

HarmonyParser::HarmonyParser() : buf_("assistant") {}

void HarmonyParser::open_body(std::string_view raw_header) {
  Header h = parse_header(raw_header);
  recipient_.clear();
  if ((h.channel == "analysis" || h.channel == "commentary") && !h.recipient.empty()) {
    body_ = Body::kToolCall;
    recipient_ = h.recipient;
  } else if (h.channel == "analysis") {
    body_ = Body::kThinking;
  } else {
    body_ = Body::kContent;  // final, commentary without recipient, or no channel
  }
}

Status HarmonyParser::finish_call(ParseEvents& out) {
  std::string name = recipient_;
  if (name.starts_with("functions.")) name = name.substr(10);
  std::string_view args = trim(buf_);
  ToolCall call;
  call.name = name;
  if (!args.empty()) {
    auto parsed = parse_json_bounded(args);
    if (!parsed || !parsed->is_object()) {
      return Status::error("malformed tool call: arguments of " + name + ": " +
                           (parsed ? std::string("not a JSON object") : parsed.error()));
    }
    call.arguments = std::move(parsed).value();
  }
  if (name.empty()) return Status::error("malformed tool call: no recipient");
  call.index = next_index_++;
  append_call(out, std::move(call));
  return Status::ok();
}

Result<bool> HarmonyParser::step(ParseEvents& out) {
  switch (state_) {
    case State::kOutside: {
      // Text between messages is not part of any channel: Ollama drops it too.
      std::size_t start = buf_.find(kStart);
      if (start == std::string::npos) {
        buf_.erase(0, buf_.size() - partial_marker_suffix(buf_, kStart));
        return false;
      }
      buf_.erase(0, start + kStart.size());
      state_ = State::kHeader;
      return true;
    }
    case State::kHeader: {
      std::size_t end = buf_.find(kMessage);
      if (end == std::string::npos) {
        if (buf_.size() > kMaxHarmonyHeaderBytes) {
          return Status::errorf("harmony message header longer than {} bytes", kMaxHarmonyHeaderBytes);
        }
        return false;
      }
      open_body(std::string_view(buf_).substr(0, end));
      buf_.erase(0, end + kMessage.size());
      searched_ = 0;
      state_ = State::kBody;
      return true;
    }
    case State::kBody: {
      // Resume the marker search a marker's length before where the last one stopped.
      std::size_t from = searched_ > kLongestEndMarker ? searched_ - kLongestEndMarker : 0;
      auto hit = find_first_marker(buf_, kEndMarkers, from);
      std::size_t body_end = hit ? hit->pos : buf_.size();
      if (body_ == Body::kToolCall) {
        if (body_end > kMaxToolCallBytes) {
          return Status::errorf("malformed tool call: longer than {} bytes", kMaxToolCallBytes);
        }
        if (!hit) {
          searched_ = buf_.size();
          return false;
        }
        std::string rest = buf_.substr(hit->pos + kEndMarkers[hit->which].size());
        buf_.resize(hit->pos);
        CORRAL_RETURN_IF_ERROR(finish_call(out));
        buf_ = std::move(rest);
      } else {
        EventKind kind = body_ == Body::kThinking ? EventKind::kThinking : EventKind::kContent;
        if (!hit) {
          std::size_t n = releasable_prefix(buf_, kEndMarkers, /*hold_space=*/false);
          append_text(out, kind, std::string_view(buf_).substr(0, n));
          buf_.erase(0, n);
          searched_ = buf_.size();
          return false;
        }
        append_text(out, kind, std::string_view(buf_).substr(0, hit->pos));
        buf_.erase(0, hit->pos + kEndMarkers[hit->which].size());
      }
      state_ = State::kOutside;
      return true;
    }
  }
  return false;
}

Result<ParseEvents> HarmonyParser::feed(std::string_view text) {
  if (!error_.is_ok()) return error_;
  ParseEvents out;
  buf_.append(text);
  for (;;) {
    Result<bool> more = step(out);
    if (!more) {
      // As StagedParser: what was decided before the error is delivered first.
      error_ = more.status();
      buf_.clear();
      if (out.empty()) return error_;
      return out;
    }
    if (!*more) return out;
  }
}

Result<ParseEvents> HarmonyParser::finish() {
  if (!error_.is_ok()) return error_;
  ParseEvents out;
  if (state_ == State::kBody) {
    if (body_ == Body::kToolCall) {
      Status s = finish_call(out);
      if (!s) {
        error_ = s;
        return s;
      }
    } else {
      append_text(out, body_ == Body::kThinking ? EventKind::kThinking : EventKind::kContent, buf_);
    }
  }
  buf_.clear();
  state_ = State::kOutside;
  return out;
}

}  // namespace corral::parsers
