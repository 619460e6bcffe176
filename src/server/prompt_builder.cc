#include "server/prompt_builder.h"

#include <random>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

namespace corral::server {
namespace {

// Markers for user text while the template runs: U+E000 <nonce> <index> U+E001. Private-use
// code points plus a per-call random nonce cannot be produced by the template or guessed by a
// user, so every marker found in the output stands exactly for one user string.
constexpr std::string_view kOpen = "\xEE\x80\x80";
constexpr std::string_view kClose = "\xEE\x80\x81";

struct Marked {
  ChatTemplateInput input;
  std::vector<std::string> originals;
};

Marked mark(const ChatTemplateInput& in, const std::string& nonce) {
  Marked m;
  m.input = in;
  auto mark_one = [&](std::string& s) {
    if (s.empty()) return;
    m.originals.push_back(s);
    s = fmt::format("{}{}{}{}", kOpen, nonce, m.originals.size() - 1, kClose);
  };
  for (ChatMessage& msg : m.input.messages) mark_one(msg.content);
  mark_one(m.input.prompt);
  mark_one(m.input.suffix);
  return m;
}

}  // namespace

Result<std::vector<int32_t>> render_and_tokenize(const Tokenizer& tok, const GoTemplate& t,
                                                 const ChatTemplateInput& input, bool add_special,
                                                 std::string* rendered_out) {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  const std::string nonce = fmt::format("{:016x}", rng());
  const Marked m = mark(input, nonce);
  CORRAL_ASSIGN_OR_RETURN(std::string rendered, render_template(t, m.input));

  // Split the output at the markers: template text may carry special tokens, user text not.
  std::vector<Tokenizer::TextSegment> segs;
  const std::string prefix = std::string(kOpen) + nonce;
  size_t pos = 0;
  bool intact = true;
  while (pos < rendered.size()) {
    const size_t at = rendered.find(prefix, pos);
    if (at == std::string::npos) {
      segs.push_back({std::string_view(rendered).substr(pos), true});
      break;
    }
    if (at > pos) segs.push_back({std::string_view(rendered).substr(pos, at - pos), true});
    const size_t num_start = at + prefix.size();
    const size_t close = rendered.find(kClose, num_start);
    size_t idx = 0;
    bool ok = close != std::string::npos && close > num_start && close - num_start < 8;
    for (size_t i = num_start; ok && i < close; ++i) {
      ok = rendered[i] >= '0' && rendered[i] <= '9';
      idx = idx * 10 + static_cast<size_t>(rendered[i] - '0');
    }
    if (!ok || idx >= m.originals.size()) {
      intact = false;
      break;
    }
    segs.push_back({m.originals[idx], false});
    pos = close + kClose.size();
  }
  // A template that cut or transformed user text leaves broken markers: fall back to
  // rendering the real text and parsing specials everywhere (what Ollama always does).
  bool broken = !intact;
  for (const auto& s : segs)
    if (s.parse_special && s.text.find(kOpen) != std::string_view::npos) broken = true;
  if (broken) {
    spdlog::debug("template transforms message text; special tokens are parsed in the whole prompt");
    CORRAL_ASSIGN_OR_RETURN(std::string plain, render_template(t, input));
    if (rendered_out) *rendered_out = plain;
    return tok.encode(plain, add_special, /*parse_special=*/true);
  }
  if (rendered_out) {
    rendered_out->clear();
    for (const auto& s : segs) rendered_out->append(s.text);
  }
  return tok.encode_segments(segs, add_special);
}

Result<std::vector<int32_t>> chat_prompt(const Tokenizer& tok, const GoTemplate& t,
                                         const std::vector<ChatMessage>& messages, const nlohmann::json& tools,
                                         const ThinkOption& think, int64_t num_ctx, std::string* rendered) {
  // Candidate start points: every non-system message, oldest first; the last message is
  // always kept.
  std::vector<size_t> starts;
  for (size_t i = 0; i < messages.size(); ++i)
    if (messages[i].role != "system") starts.push_back(i);
  if (starts.empty()) starts.push_back(0);
  size_t last_len = 0;
  for (size_t k = 0; k < starts.size(); ++k) {
    ChatTemplateInput in;
    in.tools = tools;
    in.think = think;
    for (size_t i = 0; i < messages.size(); ++i)
      if (messages[i].role == "system" || i >= starts[k]) in.messages.push_back(messages[i]);
    CORRAL_ASSIGN_OR_RETURN(std::vector<int32_t> ids, render_and_tokenize(tok, t, in, true, rendered));
    last_len = ids.size();
    if (static_cast<int64_t>(ids.size()) < num_ctx) {
      if (k > 0) spdlog::info("chat truncated: dropped the {} oldest messages to fit num_ctx {}", k, num_ctx);
      return ids;
    }
  }
  return Status::errorf(
      "the last message alone is {} tokens, which does not fit in the context of {} tokens "
      "(raise num_ctx)",
      last_len, num_ctx);
}

}  // namespace corral::server
