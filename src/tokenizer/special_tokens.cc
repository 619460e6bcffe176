#include "tokenizer/special_tokens.h"

#include <array>

namespace corral::tokenizer_detail {
namespace {

// C isspace() in the "C" locale, which is what llama.cpp's strip rules use.
bool is_ascii_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'; }

// Splits the raw span `frag` around every occurrence of `token`, appending to `out`.
void split_fragment(const Vocab& vocab, std::string_view text, int32_t token, Fragment frag,
                    std::vector<Fragment>& out) {
  const std::string& needle = vocab.text(token);
  const uint32_t attr = vocab.attr(token);
  size_t off = frag.offset;
  size_t end = frag.offset + frag.length;
  while (off < end) {
    const size_t match = text.substr(0, end).find(needle, off);
    if (match == std::string_view::npos) {
      out.push_back({kNoToken, off, end - off});
      return;
    }
    size_t left_end = match;
    if (attr & token_attr::kLstrip) {
      while (left_end > off && is_ascii_space(text[left_end - 1])) --left_end;
    }
    if (left_end > off) out.push_back({kNoToken, off, left_end - off});
    out.push_back({token, match, needle.size()});
    off = match + needle.size();
    if (attr & token_attr::kRstrip) {
      while (off < end && is_ascii_space(text[off])) ++off;
    }
  }
}

}  // namespace

std::vector<Fragment> partition_special(const Vocab& vocab, std::string_view text, bool parse_special) {
  std::vector<Fragment> fragments;
  if (text.empty()) return fragments;
  fragments.push_back({kNoToken, 0, text.size()});

  // Cheap filter: a token whose first byte never occurs in the text cannot match.
  std::array<bool, 256> present{};
  for (char c : text) present[static_cast<uint8_t>(c)] = true;

  std::vector<Fragment> next;
  for (int32_t id : vocab.special_tokens()) {
    const uint32_t attr = vocab.attr(id);
    if (!parse_special && (attr & (token_attr::kControl | token_attr::kUnknown))) continue;
    const std::string& needle = vocab.text(id);
    if (!present[static_cast<uint8_t>(needle[0])] || text.find(needle) == std::string_view::npos) { continue; }
    next.clear();
    for (const Fragment& f : fragments) {
      if (f.token != kNoToken) {
        next.push_back(f);
      } else {
        split_fragment(vocab, text, id, f, next);
      }
    }
    fragments.swap(next);
  }
  return fragments;
}

}  // namespace corral::tokenizer_detail
