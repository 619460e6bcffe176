#include "tokenizer/vocab.h"

#include <algorithm>
#include <cctype>
#include <initializer_list>

namespace corral {
namespace {

uint32_t attr_from_type(int64_t type) {
  switch (static_cast<TokenType>(type)) {
    case TokenType::kNormal: return token_attr::kNormal;
    case TokenType::kUnknown: return token_attr::kUnknown;
    case TokenType::kControl: return token_attr::kControl;
    case TokenType::kUserDefined: return token_attr::kUserDefined;
    case TokenType::kUnused: return token_attr::kUnused;
    case TokenType::kByte: return token_attr::kByte;
    default: return token_attr::kUndefined;  // unknown codes are kept but never rendered
  }
}

bool one_of(std::string_view s, std::initializer_list<std::string_view> list) {
  return std::find(list.begin(), list.end(), s) != list.end();
}

// Reads an integer array of exactly n elements (signed or unsigned element type).
Result<std::vector<int64_t>> int_array(const gguf::Value& v, size_t n, std::string_view key) {
  std::vector<int64_t> out;
  if (v.is_array() && v.ints() != nullptr) {
    out = *v.ints();
  } else if (v.is_array() && v.uints() != nullptr) {
    for (uint64_t x : *v.uints()) out.push_back(static_cast<int64_t>(x));
  } else {
    return Status::errorf("{} is not an integer array", key);
  }
  if (out.size() != n) {
    return Status::errorf("{} has {} entries but the vocabulary has {} tokens", key, out.size(), n);
  }
  return out;
}

}  // namespace

Result<std::shared_ptr<const Vocab>> Vocab::from_gguf(const gguf::GgufFile& file) {
  std::shared_ptr<Vocab> vocab(new Vocab());
  CORRAL_RETURN_IF_ERROR(vocab->load(file).with_context("tokenizer vocabulary"));
  return std::shared_ptr<const Vocab>(std::move(vocab));
}

Status Vocab::load(const gguf::GgufFile& file) {
  CORRAL_ASSIGN_OR_RETURN(auto model, file.get_string("tokenizer.ggml.model"));
  if (!model) return Status::error("tokenizer.ggml.model is missing");
  CORRAL_ASSIGN_OR_RETURN(auto pre, file.get_string("tokenizer.ggml.pre"));
  pre_name_ = pre.value_or("");

  // Defaults per tokenizer type, as llama.cpp b4748 sets them before reading the file.
  if (*model == "llama") {
    type_ = VocabType::kSpm;
    bos_ = 1;
    eos_ = 2;
    unk_ = 0;
    add_space_prefix_ = true;
    clean_spaces_ = false;
    add_bos_ = true;
    add_eos_ = false;
  } else if (*model == "gpt2") {
    type_ = VocabType::kBpe;
    bos_ = 11;  // GPT-2's conventions, overridden by every real file
    eos_ = 11;
    std::optional<PreTypeInfo> info = lookup_pre_type(pre_name_);
    if (!info) return Status::errorf("unknown pre-tokenizer type '{}'", pre_name_);
    pre_type_ = info->type;
    clean_spaces_ = info->clean_spaces;
    ignore_merges_ = info->ignore_merges;
    add_bos_ = info->add_bos;
    if (info->no_bos) bos_ = kNoToken;
  } else if (*model == "bert") {
    // llama.cpp b4748's WordPiece defaults: BERT's [CLS] 101 (taken as BOS, as ik_llama.cpp
    // does), [UNK] 100, [SEP] 102, [PAD] 0, [MASK] 103; no EOS; [CLS] ... [SEP] added.
    type_ = VocabType::kWpm;
    bos_ = 101;
    eos_ = kNoToken;
    unk_ = 100;
    sep_ = 102;
    pad_ = 0;
    mask_ = 103;
    add_space_prefix_ = false;
    clean_spaces_ = true;
    add_bos_ = true;
    add_eos_ = false;
  } else {
    return Status::errorf("unsupported tokenizer model '{}' (supported: llama, gpt2, bert)", *model);
  }
  CORRAL_ASSIGN_OR_RETURN(auto add_prefix, file.get_bool("tokenizer.ggml.add_space_prefix"));
  if (add_prefix) add_space_prefix_ = *add_prefix;

  CORRAL_RETURN_IF_ERROR(load_tokens(file));
  if (type_ == VocabType::kBpe) CORRAL_RETURN_IF_ERROR(load_merges(file));
  CORRAL_RETURN_IF_ERROR(load_special_ids(file));

  CORRAL_ASSIGN_OR_RETURN(auto add_bos, file.get_bool("tokenizer.ggml.add_bos_token"));
  if (add_bos) add_bos_ = *add_bos;
  CORRAL_ASSIGN_OR_RETURN(auto add_eos, file.get_bool("tokenizer.ggml.add_eos_token"));
  if (add_eos) add_eos_ = *add_eos;
  if (add_bos_ && bos_ == kNoToken) return Status::error("add_bos_token is set but there is no BOS token");
  if (add_eos_ && eos_ == kNoToken) return Status::error("add_eos_token is set but there is no EOS token");
  if (type_ == VocabType::kWpm && (unk_ == kNoToken || sep_ == kNoToken))
    return Status::error("a WordPiece vocabulary needs an unknown and a separator token");

  apply_heuristics(file);
  return Status::ok();
}

Status Vocab::load_tokens(const gguf::GgufFile& file) {
  const gguf::Value* tokens = file.find("tokenizer.ggml.tokens");
  if (tokens == nullptr) return Status::error("tokenizer.ggml.tokens is missing");
  if (!tokens->is_array() || tokens->strings() == nullptr) {
    return Status::error("tokenizer.ggml.tokens is not a string array");
  }
  const std::vector<std::string>& list = *tokens->strings();
  const size_t n = list.size();
  if (n == 0 || n > kMaxVocabTokens) {
    return Status::errorf("tokenizer.ggml.tokens has {} entries (allowed: 1..{})", n, kMaxVocabTokens);
  }

  scores_.assign(n, 0.0f);
  if (const gguf::Value* s = file.find("tokenizer.ggml.scores")) {
    if (s->is_array() && s->floats() != nullptr) {
      if (s->floats()->size() != n) {
        return Status::errorf("tokenizer.ggml.scores has {} entries but the vocabulary has {} tokens",
                              s->floats()->size(), n);
      }
      for (size_t i = 0; i < n; ++i) scores_[i] = static_cast<float>((*s->floats())[i]);
    } else {
      // Some converters store integer scores (e.g. negative merge ranks).
      CORRAL_ASSIGN_OR_RETURN(auto ints, int_array(*s, n, "tokenizer.ggml.scores"));
      for (size_t i = 0; i < n; ++i) scores_[i] = static_cast<float>(ints[i]);
    }
  }

  attrs_.assign(n, token_attr::kNormal);
  if (const gguf::Value* t = file.find("tokenizer.ggml.token_type")) {
    CORRAL_ASSIGN_OR_RETURN(auto types, int_array(*t, n, "tokenizer.ggml.token_type"));
    for (size_t i = 0; i < n; ++i) attrs_[i] = attr_from_type(types[i]);
  }

  text_.resize(n);
  token_to_id_.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    std::string word = list[i];
    // An empty token could never be matched and would make special-token search loop;
    // llama.cpp renames it the same way.
    if (word.empty()) word = "[EMPTY_" + std::to_string(i) + "]";
    if (word.size() > kMaxTokenBytes) {
      return Status::errorf("token {} is {} bytes long (limit {})", i, word.size(), kMaxTokenBytes);
    }
    auto [it, inserted] = token_to_id_.emplace(word, static_cast<int32_t>(i));
    if (!inserted) { return Status::errorf("duplicate token '{}' with ids {} and {}", word, it->second, i); }
    text_[i] = std::move(word);
  }
  std::vector<bool> has_length(kMaxTokenBytes + 1);
  for (const std::string& t : text_) has_length[t.size()] = true;
  for (size_t l = kMaxTokenBytes; l > 0; --l)
    if (has_length[l]) piece_lengths_.push_back(l);

  for (int b = 0; b < 256; ++b) {
    static constexpr char kHex[] = "0123456789ABCDEF";
    const std::string hex = {'<', '0', 'x', kHex[b >> 4], kHex[b & 15], '>'};
    int32_t id = find(hex);
    if (id == kNoToken) id = find(std::string(1, static_cast<char>(b)));
    byte_tokens_[b] = id;
  }
  return Status::ok();
}

Status Vocab::load_merges(const gguf::GgufFile& file) {
  const gguf::Value* merges = file.find("tokenizer.ggml.merges");
  if (merges == nullptr) return Status::error("tokenizer.ggml.merges is missing (required for gpt2)");
  if (!merges->is_array() || merges->strings() == nullptr) {
    return Status::error("tokenizer.ggml.merges is not a string array");
  }
  const std::vector<std::string>& list = *merges->strings();
  if (list.size() > kMaxMerges) {
    return Status::errorf("tokenizer.ggml.merges has {} entries (limit {})", list.size(), kMaxMerges);
  }
  merge_ranks_.reserve(list.size());
  for (size_t i = 0; i < list.size(); ++i) {
    // "left right", split at the first space after the first byte (so "Ġ Ġ" and "  x" work).
    // The key is the entry itself; the first occurrence of a pair keeps its rank.
    if (list[i].find(' ', 1) == std::string::npos) continue;  // malformed: matches nothing
    merge_ranks_.emplace(list[i], static_cast<int32_t>(i));
  }
  return Status::ok();
}

Status Vocab::load_special_ids(const gguf::GgufFile& file) {
  struct Slot {
    const char* key;
    int32_t* id;
    bool required_in_range;  // a bad value is an error rather than ignored
  };
  const Slot slots[] = {
      {"tokenizer.ggml.bos_token_id", &bos_, true},
      {"tokenizer.ggml.eos_token_id", &eos_, true},
      {"tokenizer.ggml.eot_token_id", &eot_, false},
      {"tokenizer.ggml.eom_token_id", &eom_, false},
      {"tokenizer.ggml.unknown_token_id", &unk_, false},
      {"tokenizer.ggml.seperator_token_id", &sep_, false},  // sic: the GGUF key's spelling
      {"tokenizer.ggml.padding_token_id", &pad_, false},
      {"tokenizer.ggml.mask_token_id", &mask_, false},
      {"tokenizer.ggml.fim_pre_token_id", &fim_pre_, false},
      {"tokenizer.ggml.fim_suf_token_id", &fim_suf_, false},
      {"tokenizer.ggml.fim_mid_token_id", &fim_mid_, false},
      {"tokenizer.ggml.fim_pad_token_id", &fim_pad_, false},
      {"tokenizer.ggml.fim_rep_token_id", &fim_rep_, false},
      {"tokenizer.ggml.fim_sep_token_id", &fim_sep_, false},
      {"tokenizer.ggml.prefix_token_id", &fim_pre_, false},  // older names of the FIM ids
      {"tokenizer.ggml.suffix_token_id", &fim_suf_, false},
      {"tokenizer.ggml.middle_token_id", &fim_mid_, false},
  };
  for (const Slot& s : slots) {
    if (!valid_id(*s.id)) *s.id = kNoToken;  // a type default beyond a small vocabulary
    const gguf::Value* v = file.find(s.key);
    if (v == nullptr) continue;
    const std::optional<int64_t> raw = v->as_int();
    if (!raw) return Status::errorf("{} is not an integer", s.key);
    // -1 (or its u32 spelling) is the converters' "none": keep the type default, as llama.cpp.
    if (*raw == -1 || *raw == 0xFFFFFFFFll) continue;
    if (*raw < 0 || *raw >= n_tokens()) {
      if (s.required_in_range) {
        return Status::errorf("{} = {} is outside the vocabulary (0..{})", s.key, *raw, n_tokens() - 1);
      }
      continue;  // llama.cpp ignores a bad optional id too
    }
    *s.id = static_cast<int32_t>(*raw);
  }
  return Status::ok();
}

void Vocab::apply_heuristics(const gguf::GgufFile& file) {
  detect_roles();
  mark_unused();
  build_eog_set();
  retype_harmony();
  for (int32_t id = 0; id < n_tokens(); ++id) {  // the final set, as a list
    if (eog_[id]) eog_list_.push_back(id);
  }
  collect_special_tokens();
  apply_name_rules(file);
}

void Vocab::detect_roles() {
  const int32_t n = n_tokens();
  // Converters do not record every role, so llama.cpp recognises well-known token texts. A
  // recognised token is forced to be a control token (it must never be printed as text).
  auto detect = [&](int32_t& slot, std::initializer_list<std::string_view> names) {
    if (slot != kNoToken) return;
    for (int32_t id = 0; id < n; ++id) {
      if (one_of(text_[id], names)) {
        slot = id;
        attrs_[id] |= token_attr::kControl;
        return;
      }
    }
  };
  detect(eot_, {"<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>", "<EOT>", "_<EOT>",
                "<｜end▁of▁sentence｜>"});
  detect(eom_, {"<|eom_id|>"});
  detect(fim_pre_, {"<|fim_prefix|>", "<fim-prefix>", "<｜fim▁begin｜>", "<PRE>"});
  detect(fim_suf_, {"<|fim_suffix|>", "<fim-suffix>", "<｜fim▁hole｜>", "<SUF>"});
  detect(fim_mid_, {"<|fim_middle|>", "<fim-middle>", "<｜fim▁end｜>", "<MID>"});
  detect(fim_pad_, {"<|fim_pad|>", "<fim-pad>", "<PAD>"});
  detect(fim_rep_, {"<|fim_repo|>", "<|repo_name|>", "<fim-repo>", "<REPO>"});
  detect(fim_sep_, {"<|file_sep|>"});
}

void Vocab::mark_unused() {
  const int32_t n = n_tokens();
  // Control tokens named "unused..." are placeholders.
  for (int32_t id = 0; id < n; ++id) {
    if ((attrs_[id] & token_attr::kControl) && text_[id].find("unused") != std::string::npos) {
      attrs_[id] |= token_attr::kUnused;
    }
  }
}

void Vocab::build_eog_set() {
  const int32_t n = n_tokens();
  // End-of-generation set.
  eog_.assign(n, false);
  auto add_eog = [&](int32_t id) {
    if (id != kNoToken) eog_[id] = true;
  };
  add_eog(fim_pad_);
  add_eog(fim_rep_);
  add_eog(fim_sep_);
  for (int32_t id = 0; id < n; ++id) {
    // <|return|> and <|call|>: gpt-oss's harmony format (o200k_harmony) ends a reply or a tool
    // call with them.
    if (one_of(text_[id], {"<|eot_id|>", "<|im_end|>", "<|end|>", "<|return|>", "<|call|>", "<end_of_turn>",
                           "<|endoftext|>", "<|eom_id|>", "<EOT>", "_<EOT>"})) {
      eog_[id] = true;
      attrs_[id] |= token_attr::kControl;
    }
    // Phi-3's vocabulary stores "</s>" user-defined (matched in raw text, so its type stays)
    // while EOS is <|endoftext|>; llama.cpp still ends generation on it (ik_llama.cpp's set for
    // phi3 is {</s>, <|endoftext|>, <|end|>}).
    if (text_[id] == "</s>") eog_[id] = true;
  }
  add_eog(eos_);
  add_eog(eot_);
  add_eog(eom_);
}

void Vocab::retype_harmony() {
  // Harmony's structural tokens are stored as control tokens but must show in the text (the
  // reply's channels are parsed from it) and be matched in raw text, so llama.cpp re-types
  // them user-defined. In harmony <|end|> only ends a message, not the generation (<|return|>
  // and <|call|> do): when both of those exist it leaves the end-of-generation set and is
  // re-typed the same way.
  for (std::string_view t : {"<|channel|>", "<|message|>", "<|start|>", "<|constrain|>"}) {
    if (const int32_t id = find(t); id != kNoToken) attrs_[id] = token_attr::kUserDefined;
  }
  const int32_t harmony_end = find("<|end|>");
  auto eog_text = [&](std::string_view t) {
    const int32_t id = find(t);
    return id != kNoToken && eog_[id];
  };
  if (harmony_end != kNoToken && eog_[harmony_end] && eog_text("<|return|>") && eog_text("<|call|>")) {
    eog_[harmony_end] = false;
    attrs_[harmony_end] = token_attr::kUserDefined;
  }
}

void Vocab::collect_special_tokens() {
  const int32_t n = n_tokens();
  // Tokens recognised inside text, longest first so that e.g. "<|im_start|>" wins over "<|".
  for (int32_t id = 0; id < n; ++id) {
    if (attrs_[id] & (token_attr::kControl | token_attr::kUserDefined | token_attr::kUnknown)) {
      special_tokens_.push_back(id);
    }
  }
  std::stable_sort(special_tokens_.begin(), special_tokens_.end(),
                   [&](int32_t a, int32_t b) { return text_[a].size() > text_[b].size(); });
}

void Vocab::apply_name_rules(const gguf::GgufFile& file) {
  // Per-model strip rules that the GGUF does not carry (llama.cpp keys them on the name).
  std::string name = file.string_or("general.name", "");
  std::transform(name.begin(), name.end(), name.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  auto set_attr = [&](std::string_view text, uint32_t bit, bool on) {
    const int32_t id = find(text);
    if (id == kNoToken) return;
    attrs_[id] = on ? (attrs_[id] | bit) : (attrs_[id] & ~bit);
  };
  if (one_of(pre_name_, {"jina-v2-de", "jina-v2-es", "jina-v2-code"})) {
    set_attr("<mask>", token_attr::kLstrip, true);
  } else if (name.find("phi-3") != std::string::npos || name.find("phi3") != std::string::npos) {
    // Phi-3's chat tokens swallow the whitespace after them ("<|user|>\n" -> "<|user|>").
    for (int32_t id : special_tokens_) attrs_[id] |= token_attr::kRstrip;
    set_attr("</s>", token_attr::kRstrip, true);
    for (std::string_view t : {"<unk>", "<s>", "<|endoftext|>"}) set_attr(t, token_attr::kRstrip, false);
  }
}

int32_t Vocab::find(std::string_view text) const {
  auto it = token_to_id_.find(text);
  return it == token_to_id_.end() ? kNoToken : it->second;
}

int32_t Vocab::merge_rank(std::string_view left, std::string_view right, std::string& scratch) const {
  // Merges are pairs split at the first space after byte 0, so a left part with a later space
  // could never have been stored as such.
  if (left.empty() || left.find(' ', 1) != std::string_view::npos) return -1;
  scratch.assign(left);
  scratch += ' ';
  scratch.append(right);
  auto it = merge_ranks_.find(std::string_view(scratch));
  return it == merge_ranks_.end() ? -1 : it->second;
}

}  // namespace corral
