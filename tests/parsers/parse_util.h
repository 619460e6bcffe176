// Runs an output parser over scripted model output, fed whole, split in two at every byte
// position, and one byte at a time: all must give the same (coalesced) events or error.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

#include "parsers/select.h"

namespace corral::parsers::testing {

struct Outcome {
  ParseEvents events;  // coalesced
  std::string error;   // empty when the parse succeeded

  std::string content() const { return joined_text(events, EventKind::kContent); }
  std::string thinking() const { return joined_text(events, EventKind::kThinking); }
  std::vector<ToolCall> calls() const { return tool_calls(events); }
  bool operator==(const Outcome&) const = default;
};

inline Outcome run_pieces(const ParserSpec& spec, const std::vector<std::string_view>& pieces) {
  auto parser = make_parser(spec);
  Outcome out;
  for (std::string_view piece : pieces) {
    auto r = parser->feed(piece);
    if (!r) {
      out.error = r.error();
      break;
    }
    out.events.insert(out.events.end(), r->begin(), r->end());
  }
  if (out.error.empty()) {
    auto r = parser->finish();
    if (r) {
      out.events.insert(out.events.end(), r->begin(), r->end());
    } else {
      out.error = r.error();
    }
  }
  out.events = coalesce(out.events);
  return out;
}

inline std::string describe(const Outcome& o) {
  std::string s = o.error.empty() ? "" : "error: " + o.error + "\n";
  for (const ParseEvent& e : o.events) {
    switch (e.kind) {
      case EventKind::kContent: s += "content[" + e.text + "]\n"; break;
      case EventKind::kThinking: s += "thinking[" + e.text + "]\n"; break;
      case EventKind::kToolCall:
        s += "call#" + std::to_string(e.call.index) + "[" + e.call.name + " " + e.call.arguments.dump() + "]\n";
        break;
    }
  }
  return s;
}

// Parses `text` whole, then checks every two-piece split and the byte-at-a-time feed agree.
// `all_splits` false skips the two-piece splits (quadratic: for megabyte inputs).
inline Outcome parse_everywhere(const ParserSpec& spec, std::string_view text, bool all_splits = true) {
  Outcome whole = run_pieces(spec, {text});
  if (all_splits) {
    for (std::size_t k = 0; k <= text.size(); ++k) {
      Outcome split = run_pieces(spec, {text.substr(0, k), text.substr(k)});
      if (!(split == whole)) {
        ADD_FAILURE() << "split at byte " << k << " differs\nwhole:\n"
                      << describe(whole) << "split:\n"
                      << describe(split);
        return whole;
      }
    }
  }
  std::vector<std::string_view> bytes;
  for (std::size_t i = 0; i < text.size(); ++i) bytes.push_back(text.substr(i, 1));
  Outcome one = run_pieces(spec, bytes);
  EXPECT_EQ(one, whole) << "byte-at-a-time differs\nwhole:\n" << describe(whole) << "bytes:\n" << describe(one);
  return whole;
}

// No marker of any supported format appears in content or thinking.
inline void expect_no_markers(const Outcome& o) {
  static const std::vector<std::string> kMarkers = {"<think>",        "</think>",    "<tool_call>",   "</tool_call>",
                                                    "[TOOL_CALLS]",   "[ARGS]",      "<|tool_call|>", "<|/tool_call|>",
                                                    "<|python_tag|>", "<|channel|>", "<|message|>",   "<|end|>",
                                                    "<|start|>",      "<|call|>",    "<|return|>",    "<|constrain|>"};
  for (const ParseEvent& e : o.events) {
    for (const std::string& m : kMarkers) {
      EXPECT_EQ(e.text.find(m), std::string::npos) << m << " leaked into: " << e.text;
    }
  }
}

inline ParserSpec spec_with_tools(ToolFormat format) {
  ParserSpec spec;
  spec.tools = format;
  return spec;
}

inline ParserSpec qwen_thinking_spec(bool starts_inside) {
  ParserSpec spec = spec_with_tools(ToolFormat::kQwen);
  spec.thinking = ThinkingTags{"<think>", "</think>"};
  spec.starts_in_thinking = starts_inside;
  return spec;
}

inline ToolCall call(std::string name, nlohmann::json args, int index) {
  return ToolCall{std::move(name), std::move(args), index};
}

}  // namespace corral::parsers::testing
