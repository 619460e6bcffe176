#include "store/digest.h"

#include <openssl/evp.h>

#include "base/check.h"
#include "base/quote.h"

namespace corral::store {

namespace {

constexpr size_t kHexLen = 64;  // SHA-256 is 32 bytes

bool is_lower_hex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); }

// Error texts quote at most this much of the offending input (it may be hostile and huge).
std::string abbreviate(std::string_view s) {
  constexpr size_t kMax = 80;
  if (s.size() <= kMax) return std::string(s);
  return std::string(s.substr(0, kMax)) + "...";
}

}  // namespace

Result<Digest> Digest::parse(std::string_view text) {
  constexpr std::string_view kAlgo = "sha256";
  bool ok = text.size() == kAlgo.size() + 1 + kHexLen && text.substr(0, kAlgo.size()) == kAlgo &&
            (text[kAlgo.size()] == ':' || text[kAlgo.size()] == '-');
  if (ok) {
    for (char c : text.substr(kAlgo.size() + 1)) ok = ok && is_lower_hex(c);
  }
  if (!ok) {
    return Status::errorf("invalid digest format {} (want sha256:<64 lowercase hex digits>)",
                          quote_text(abbreviate(text)));
  }
  Digest d;
  d.hex_ = std::string(text.substr(kAlgo.size() + 1));
  return d;
}

Digest Digest::from_bytes(const uint8_t bytes[32]) {
  static constexpr char kHex[] = "0123456789abcdef";
  Digest d;
  d.hex_.resize(kHexLen);
  for (size_t i = 0; i < 32; ++i) {
    d.hex_[2 * i] = kHex[bytes[i] >> 4];
    d.hex_[2 * i + 1] = kHex[bytes[i] & 0xF];
  }
  return d;
}

struct Sha256::Impl {
  EVP_MD_CTX* ctx = nullptr;
};

Sha256::Sha256() : impl_(std::make_unique<Impl>()) {
  impl_->ctx = EVP_MD_CTX_new();
  // Allocation failure or a libcrypto without SHA-256 is not an input error: nothing can run.
  CORRAL_CHECK(impl_->ctx != nullptr);
  CORRAL_CHECK(EVP_DigestInit_ex(impl_->ctx, EVP_sha256(), nullptr) == 1);
}

Sha256::~Sha256() { EVP_MD_CTX_free(impl_->ctx); }

void Sha256::update(const void* data, size_t n) {
  if (n > 0) CORRAL_CHECK(EVP_DigestUpdate(impl_->ctx, data, n) == 1);
}

Digest Sha256::finish() {
  uint8_t out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  CORRAL_CHECK(EVP_DigestFinal_ex(impl_->ctx, out, &len) == 1 && len == 32);
  return Digest::from_bytes(out);
}

Digest Sha256::of(std::string_view bytes) {
  Sha256 h;
  h.update(bytes.data(), bytes.size());
  return h.finish();
}

}  // namespace corral::store
