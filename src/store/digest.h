// Content digests of blobs. A manifest spells a digest "sha256:<64 lowercase hex>"; the blob
// lives in blobs/ under the file name "sha256-<hex>". A digest is validated completely before it
// is ever turned into a path, so nothing taken from a manifest or a request can name a file
// outside blobs/.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "base/status.h"

namespace corral::store {

class Digest {
 public:
  Digest() = default;  // empty: "no digest" (e.g. an absent config)

  // Accepts "sha256:<hex>" (manifest form) and "sha256-<hex>" (file-name form); the hex must be
  // exactly 64 lowercase hex digits. Ollama's own check also lets uppercase hex through, but every
  // blob it writes is named in lowercase, so an uppercase digest could only ever miss (or, on a
  // case-insensitive disk, alias); it is rejected here instead.
  static Result<Digest> parse(std::string_view text);
  // Builds from 32 raw hash bytes.
  static Digest from_bytes(const uint8_t bytes[32]);

  bool empty() const { return hex_.empty(); }
  const std::string& hex() const { return hex_; }       // 64 lowercase hex digits
  std::string str() const { return "sha256:" + hex_; }  // manifest form
  std::string file_name() const { return "sha256-" + hex_; }

  bool operator==(const Digest& o) const { return hex_ == o.hex_; }
  bool operator!=(const Digest& o) const { return hex_ != o.hex_; }
  bool operator<(const Digest& o) const { return hex_ < o.hex_; }

 private:
  std::string hex_;
};

// Incremental SHA-256 (OpenSSL's EVP interface).
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;

  void update(const void* data, size_t n);
  Digest finish();  // the hasher must not be updated afterwards

  static Digest of(std::string_view bytes);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace corral::store
