#include "parsers/thinking_splitter.h"

#include <utility>

#include "parsers/limits.h"
#include "parsers/markers.h"

namespace corral::parsers {

ThinkingSplitter::ThinkingSplitter(ThinkingTags tags, bool starts_inside, std::vector<std::string> interrupts)
    : tags_(std::move(tags)),
      state_(starts_inside ? State::kThinking : State::kLookingForOpen),
      eat_space_(starts_inside),
      skip_open_again_(starts_inside) {
  thinking_markers_.push_back(tags_.close);
  for (std::string& m : interrupts) thinking_markers_.push_back(std::move(m));
}

void ThinkingSplitter::feed(std::string_view text, ParseEvents& out) {
  buf_.append(text);
  while (step(out)) {}
}

bool ThinkingSplitter::step(ParseEvents& out) {
  switch (state_) {
    case State::kLookingForOpen: {
      std::string_view rest = trim_left(buf_);
      if (rest.starts_with(tags_.open)) {
        buf_.erase(0, buf_.size() - rest.size() + tags_.open.size());
        state_ = State::kThinking;
        eat_space_ = true;
        return true;
      }
      bool undecided = rest.empty() || is_partial_marker(rest, {tags_.open});
      if (undecided && buf_.size() <= kMaxHeldBytes) return false;
      state_ = State::kContent;
      return true;
    }
    case State::kThinking: {
      if (eat_space_ || skip_open_again_) {
        std::string_view rest = trim_left(buf_);
        if (rest.empty() && buf_.size() <= kMaxHeldBytes) return false;
        if (skip_open_again_) {
          if (rest.starts_with(tags_.open)) {
            buf_.erase(0, buf_.size() - rest.size() + tags_.open.size());
            skip_open_again_ = false;
            eat_space_ = true;
            return true;
          }
          if (is_partial_marker(rest, {tags_.open})) return false;
          skip_open_again_ = false;
        }
        buf_.erase(0, buf_.size() - rest.size());
        eat_space_ = false;
      }
      if (auto hit = find_first_marker(buf_, thinking_markers_)) {
        append_text(out, EventKind::kThinking, trim_right(std::string_view(buf_).substr(0, hit->pos)));
        if (hit->which == 0) {
          buf_.erase(0, hit->pos + tags_.close.size());
          state_ = State::kAfterThinking;
        } else {
          buf_.erase(0, hit->pos);  // the interrupting marker is the next stage's
          state_ = State::kContent;
        }
        return true;
      }
      std::size_t n = releasable_prefix(buf_, thinking_markers_, /*hold_space=*/true);
      append_text(out, EventKind::kThinking, std::string_view(buf_).substr(0, n));
      buf_.erase(0, n);
      return false;
    }
    case State::kAfterThinking: {
      std::string_view rest = trim_left(buf_);
      if (rest.empty()) {
        buf_.clear();
        return false;
      }
      buf_.erase(0, buf_.size() - rest.size());
      state_ = State::kContent;
      return true;
    }
    case State::kContent:
      append_text(out, EventKind::kContent, buf_);
      buf_.clear();
      return false;
  }
  return false;
}

void ThinkingSplitter::finish(ParseEvents& out) {
  switch (state_) {
    case State::kLookingForOpen:
    case State::kContent: append_text(out, EventKind::kContent, buf_); break;
    case State::kThinking: append_text(out, EventKind::kThinking, trim_right(buf_)); break;
    case State::kAfterThinking: break;
  }
  buf_.clear();
}

}  // namespace corral::parsers
