#include "tokenizer/stream_decoder.h"

#include <algorithm>

#include "tokenizer/utf8.h"

namespace corral {

StreamDecoder::StreamDecoder(const Tokenizer& tokenizer, std::vector<std::string> stop_sequences)
    : StreamDecoder(tokenizer, std::move(stop_sequences), Options()) {}

StreamDecoder::StreamDecoder(const Tokenizer& tokenizer, std::vector<std::string> stop_sequences, Options opts)
    : tokenizer_(tokenizer), opts_(opts) {
  for (std::string& s : stop_sequences) {
    if (!s.empty()) stops_.push_back(std::move(s));
  }
}

std::string StreamDecoder::push(int32_t token) {
  if (stopped_) return {};
  std::string_view p = tokenizer_.piece(token, opts_.render_special);
  if (first_piece_ && opts_.strip_leading_space && !p.empty() && p[0] == ' ') p.remove_prefix(1);
  first_piece_ = false;
  pending_.append(p);

  // A stop sequence can only start inside pending_: emitted text never ends in a prefix of one.
  size_t best = std::string::npos;
  for (const std::string& s : stops_) {
    const size_t pos = pending_.find(s);
    if (pos < best) {
      best = pos;
      matched_stop_ = s;
    }
  }
  if (best != std::string::npos) {
    stopped_ = true;
    pending_.resize(best);
    return emit(pending_.size());  // nothing follows: an unfinished character is final now
  }

  // Hold back what a later token could still turn into a stop sequence or complete into a
  // character; release the rest.
  const size_t utf8_safe = pending_.size() - tokenizer_detail::utf8_incomplete_tail(pending_);
  return emit(std::min(stop_holdback(), utf8_safe));
}

std::string StreamDecoder::finish() {
  if (stopped_) return {};
  return emit(pending_.size());
}

std::string StreamDecoder::emit(size_t n) {
  std::string out = tokenizer_detail::sanitize_utf8(std::string_view(pending_).substr(0, n));
  pending_.erase(0, n);
  emitted_ += out;
  return out;
}

size_t StreamDecoder::stop_holdback() const {
  const size_t len = pending_.size();
  size_t hold = len;
  for (const std::string& s : stops_) {
    // Suffixes shorter than s (a full match was handled by the caller), longest first.
    const size_t first = len >= s.size() ? len - s.size() + 1 : 0;
    for (size_t k = first; k < hold; ++k) {
      if (pending_.compare(k, len - k, s, 0, len - k) == 0) {
        hold = k;
        break;
      }
    }
  }
  return hold;
}

}  // namespace corral
