#include "tokenizer/tokenizer.h"

#include "tokenizer/encoders.h"
#include "tokenizer/pretokenizer.h"
#include "tokenizer/special_tokens.h"
#include "tokenizer/utf8.h"

namespace corral {
namespace {

using tokenizer_detail::Fragment;

constexpr std::string_view kSpmSpace = "\xE2\x96\x81";  // U+2581, SentencePiece's visible space

void replace_all(std::string& s, std::string_view from, std::string_view to) {
  std::string out;
  out.reserve(s.size());
  size_t pos = 0;
  for (size_t hit; (hit = s.find(from, pos)) != std::string::npos; pos = hit + from.size()) {
    out.append(s, pos, hit - pos);
    out.append(to);
  }
  out.append(s, pos);
  s.swap(out);
}

// "<0x0A>" -> 0x0A. Byte tokens of a hostile vocabulary may be malformed: -1 then.
int parse_byte_token(const std::string& text) {
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
  };
  if (text.size() < 5) return -1;
  const int hi = hex(text[3]), lo = hex(text[4]);
  return (hi < 0 || lo < 0) ? -1 : hi * 16 + lo;
}

// Hugging Face's clean_up_tokenization, byte for byte as llama.cpp implements it: drop the
// space before ? ! . , ; turn " ' " into "'"; drop the space before 's 'm 're 've.
std::string clean_spaces(const std::string& t) {
  if (t.empty()) return t;
  std::string a;
  a.reserve(t.size());
  a += t[0];
  for (size_t i = 1; i < t.size(); ++i) {
    const char x = t[i];
    if (t[i - 1] == ' ' && (x == '?' || x == '!' || x == '.' || x == ',')) a.pop_back();
    a += x;
  }

  std::string b;
  b.reserve(a.size());
  b += a[0];
  char prev = a[0];
  for (size_t i = 1; i < a.size(); ++i) {
    const char x = a[i];
    if (x == '\'' && i + 1 < a.size() && prev == ' ' && a[i + 1] == ' ') {
      b.pop_back();  // the space before
      b += x;
      ++i;          // and the space after
      prev = '\0';  // llama.cpp overwrites that space with NUL, so it no longer counts
      continue;
    }
    b += x;
    prev = x;
  }

  std::string c;
  c.reserve(b.size());
  c += b[0];
  for (size_t i = 1; i < b.size(); ++i) {
    const char x = b[i];
    if (b[i - 1] == ' ' && x == '\'' && i + 1 < b.size()) {
      const char x1 = b[i + 1];
      if (x1 == 's' || x1 == 'm') {
        c.pop_back();
      } else if (x1 != 't' && x1 != 'd' && i + 2 < b.size()) {
        const char x2 = b[i + 2];
        if ((x1 == 'r' && x2 == 'e') || (x1 == 'v' && x2 == 'e')) c.pop_back();
      }
    }
    c += x;
  }
  return c;
}

}  // namespace

Tokenizer::~Tokenizer() = default;

Result<std::shared_ptr<const Tokenizer>> Tokenizer::from_gguf(const gguf::GgufFile& file) {
  CORRAL_ASSIGN_OR_RETURN(auto vocab, Vocab::from_gguf(file));
  return from_vocab(std::move(vocab));
}

Result<std::shared_ptr<const Tokenizer>> Tokenizer::from_vocab(std::shared_ptr<const Vocab> vocab) {
  std::shared_ptr<Tokenizer> tok(new Tokenizer());
  tok->vocab_ = std::move(vocab);
  if (tok->vocab_->type() == VocabType::kBpe) {
    CORRAL_ASSIGN_OR_RETURN(tok->pre_, tokenizer_detail::PreTokenizer::create(tok->vocab_->pre_type()));
  }
  // Rendering every token once makes decode() and streaming a table lookup.
  tok->pieces_.resize(tok->vocab_->n_tokens());
  for (int32_t id = 0; id < tok->vocab_->n_tokens(); ++id) tok->pieces_[id] = tok->render_token(id);
  return std::shared_ptr<const Tokenizer>(std::move(tok));
}

std::string Tokenizer::render_token(int32_t id) const {
  const Vocab& v = *vocab_;
  const uint32_t attr = v.attr(id);
  const std::string& text = v.text(id);
  if (attr & (token_attr::kUnknown | token_attr::kControl | token_attr::kUserDefined)) return text;
  if (attr & token_attr::kNormal) {
    if (v.type() != VocabType::kBpe) {  // SPM's and WordPiece's U+2581 stands for a space
      std::string s = text;
      replace_all(s, kSpmSpace, " ");
      return s;
    }
    // Byte-level BPE: every character stands for one byte. A character outside GPT-2's
    // alphabet (only in odd vocabularies) is passed through as its own UTF-8; llama.cpp
    // prints an "[UNK_BYTE_0x..]" marker there instead.
    std::string s;
    for (size_t pos = 0; pos < text.size();) {
      const size_t start = pos;
      const uint32_t cp = tokenizer_detail::next_code_point(text, &pos);
      const int b = tokenizer_detail::bpe_char_to_byte(cp);
      if (b >= 0) {
        s += static_cast<char>(b);
      } else {
        s.append(text, start, pos - start);
      }
    }
    return s;
  }
  if (attr & token_attr::kByte) {
    const int b = parse_byte_token(text);
    return b < 0 ? std::string() : std::string(1, static_cast<char>(b));
  }
  return {};  // unused and undefined tokens render as nothing
}

std::string_view Tokenizer::piece(int32_t id, bool render_special) const {
  if (!vocab_->valid_id(id)) return {};
  if (!render_special && (vocab_->attr(id) & (token_attr::kUnknown | token_attr::kControl))) return {};
  return pieces_[id];
}

std::vector<int32_t> Tokenizer::encode(std::string_view text, bool add_special, bool parse_special) const {
  return encode_fragments(text, tokenizer_detail::partition_special(*vocab_, text, parse_special), add_special);
}

std::vector<int32_t> Tokenizer::encode_segments(const std::vector<TextSegment>& segments, bool add_special) const {
  std::string text;
  std::vector<Fragment> fragments;
  for (const TextSegment& seg : segments) {
    const size_t base = text.size();
    text.append(seg.text);
    for (Fragment f : tokenizer_detail::partition_special(*vocab_, seg.text, seg.parse_special)) {
      f.offset += base;
      // Raw text runs on across segment boundaries: the words either side of a boundary must
      // tokenize exactly as they would in one string.
      if (f.token == kNoToken && !fragments.empty() && fragments.back().token == kNoToken &&
          fragments.back().offset + fragments.back().length == f.offset) {
        fragments.back().length += f.length;
      } else {
        fragments.push_back(f);
      }
    }
  }
  return encode_fragments(text, fragments, add_special);
}

std::vector<int32_t> Tokenizer::encode_fragments(std::string_view text, const std::vector<Fragment>& fragments,
                                                 bool add_special) const {
  const Vocab& v = *vocab_;
  std::vector<int32_t> out;
  if (add_special && v.add_bos()) out.push_back(v.bos());

  if (v.type() == VocabType::kSpm) {
    // SentencePiece prefixes a space to the text (so "Hello" and " Hello" at the start encode
    // alike); llama.cpp does that for the first text fragment and for each one that follows a
    // special token.
    bool after_special = true;
    std::string buf;
    for (const Fragment& f : fragments) {
      if (f.token != kNoToken) {
        out.push_back(f.token);
        after_special = true;
        continue;
      }
      buf.clear();
      if (v.add_space_prefix() && after_special) buf += ' ';
      buf.append(text.substr(f.offset, f.length));
      replace_all(buf, " ", kSpmSpace);
      tokenizer_detail::spm_encode(v, buf, out);
      after_special = false;
    }
  } else {
    for (const Fragment& f : fragments) {
      if (f.token != kNoToken) {
        out.push_back(f.token);
      } else if (v.type() == VocabType::kWpm) {
        tokenizer_detail::wpm_encode(v, text.substr(f.offset, f.length), out);
      } else {
        tokenizer_detail::bpe_encode(v, *pre_, text.substr(f.offset, f.length), out);
      }
    }
  }

  if (add_special && v.add_eos()) out.push_back(v.eos());
  if (add_special && v.type() == VocabType::kWpm) out.push_back(v.sep());  // BERT's closing [SEP]
  return out;
}

std::string Tokenizer::decode(const std::vector<int32_t>& ids, bool render_special) const {
  std::string out;
  bool strip_space = vocab_->add_space_prefix();  // only ever the first token's
  for (int32_t id : ids) {
    std::string_view p = piece(id, render_special);
    if (strip_space && !p.empty() && p[0] == ' ') p.remove_prefix(1);
    strip_space = false;
    out.append(p);
  }
  return vocab_->clean_spaces() ? clean_spaces(out) : out;
}

}  // namespace corral
