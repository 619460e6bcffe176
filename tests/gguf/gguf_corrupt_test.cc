// Hand-made broken files: every one must give a clear error, never a crash or an
// out-of-bounds read (run under the sanitizer build to prove the latter).
#include <gtest/gtest.h>

#include <random>

#include "gguf/gguf_file.h"
#include "gguf/gguf_writer.h"

namespace corral::gguf {
namespace {

std::string header(uint32_t version, uint64_t n_tensors, uint64_t n_kv) {
  std::string s;
  append_u32(s, kMagic);
  append_u32(s, version);
  append_u64(s, n_tensors);
  append_u64(s, n_kv);
  return s;
}

void expect_error(const std::string& bytes, const std::string& fragment) {
  auto r = GgufFile::from_bytes(bytes);
  ASSERT_FALSE(r.is_ok()) << "expected an error containing '" << fragment << "'";
  EXPECT_NE(r.error().find(fragment), std::string::npos) << "error was: " << r.error();
}

std::string valid_file() {
  GgufWriter w;
  w.set_string("general.architecture", "llama");
  w.set("tokens", Value::string_array({"a", "b"}));
  w.add_tensor("a", DType::kF32, {8}, std::string(32, '\0'));
  w.add_tensor("b", DType::kQ8_0, {32, 2}, std::string(68, '\0'));
  return w.to_bytes();
}

TEST(GgufCorrupt, BadMagic) {
  std::string s = valid_file();
  s[0] = 'X';
  expect_error(s, "not a GGUF file");
  expect_error("", "truncated");
  expect_error("GGU", "truncated");
}

TEST(GgufCorrupt, BadVersion) {
  expect_error(header(1, 0, 0), "version 1 is not supported");
  expect_error(header(7, 0, 0), "unsupported GGUF version 7");
  expect_error(header(0x03000000, 0, 0), "big-endian");
}

TEST(GgufCorrupt, HugeCounts) {
  expect_error(header(3, 0, ~0ull), "metadata count");
  expect_error(header(3, ~0ull, 0), "tensor count");
  expect_error(header(3, 1ull << 40, 0), "tensor count");
}

TEST(GgufCorrupt, StringLengthPastEnd) {
  std::string s = header(3, 0, 1);
  append_u64(s, 1000);  // key length
  s += "abc";
  s.append(20, 'x');
  expect_error(s, "runs past the end");
  std::string t = header(3, 0, 1);
  append_u64(t, ~0ull);
  t.append(20, 'x');
  expect_error(t, "exceeds the limit");
}

TEST(GgufCorrupt, ValueTypeAndArrays) {
  std::string s = header(3, 0, 1);
  append_gguf_string(s, "k");
  append_u32(s, 99);
  expect_error(s, "unknown value type 99");

  std::string a = header(3, 0, 1);
  append_gguf_string(a, "k");
  append_u32(a, static_cast<uint32_t>(ValueType::kArray));
  append_u32(a, static_cast<uint32_t>(ValueType::kUint32));
  append_u64(a, 1ull << 61);  // claims 2^61 elements
  expect_error(a, "does not fit");

  std::string b = header(3, 0, 1);
  append_gguf_string(b, "k");
  append_u32(b, static_cast<uint32_t>(ValueType::kBool));
  b += '\x05';
  expect_error(b, "invalid bool");

  // Arrays nested deeper than the limit.
  std::string d = header(3, 0, 1);
  append_gguf_string(d, "k");
  append_u32(d, static_cast<uint32_t>(ValueType::kArray));
  for (int i = 0; i < 20; ++i) {
    append_u32(d, static_cast<uint32_t>(ValueType::kArray));
    append_u64(d, 1);
  }
  d.append(64, '\0');
  expect_error(d, "nested deeper");
}

TEST(GgufCorrupt, DuplicateKeys) {
  std::string s = header(3, 0, 2);
  for (int i = 0; i < 2; ++i) {
    append_gguf_string(s, "dup");
    append_u32(s, static_cast<uint32_t>(ValueType::kUint32));
    append_u32(s, 1);
  }
  expect_error(s, "duplicate metadata key");
}

TEST(GgufCorrupt, BadAlignment) {
  GgufWriter w;
  w.set_u32("general.alignment", 48);
  expect_error(w.to_bytes(), "power-of-two");
  GgufWriter z;
  z.set_string("general.alignment", "32");
  expect_error(z.to_bytes(), "power-of-two");
}

// Found by fuzz/fuzz_gguf: the error message quoted the value with fmt's "{:?}", which aborts
// the whole process on bytes that are not valid UTF-8 (fmt 9), so one hostile file given to
// create or pull killed the server. Strings from a file are now quoted with \x escapes.
TEST(GgufCorrupt, InvalidUtf8InQuotedValueIsAnError) {
  GgufWriter w;
  w.set_string("general.alignment", "\xc4\x8a\x91\x94\xff");
  expect_error(w.to_bytes(), "got \"\xc4\x8a\\x91\\x94\\xff\"");
  GgufWriter t;
  t.set("general.alignment", Value::string_array({"ok", "\x80"}));
  expect_error(t.to_bytes(), "[\"ok\", \"\\x80\"]");
  EXPECT_EQ(Value::string_array({"\xe2\x96"}).to_string(), "[\"\\xe2\\x96\"]");
}

// Builds a file with one tensor whose directory entry is given raw.
std::string one_tensor(uint32_t n_dims, std::vector<int64_t> ne, uint32_t type, uint64_t offset, size_t data_bytes) {
  std::string s = header(3, 1, 0);
  append_gguf_string(s, "t");
  append_u32(s, n_dims);
  for (int64_t n : ne) append_u64(s, static_cast<uint64_t>(n));
  append_u32(s, type);
  append_u64(s, offset);
  if (s.size() % 32) s.append(32 - s.size() % 32, '\0');
  s.append(data_bytes, '\0');
  return s;
}

TEST(GgufCorrupt, TensorDirectory) {
  EXPECT_TRUE(GgufFile::from_bytes(one_tensor(1, {8}, 0, 0, 32)).is_ok());
  expect_error(one_tensor(1, {8}, 0, 0, 31), "runs past the end");
  expect_error(one_tensor(1, {8}, 0, 32, 40), "runs past the end");
  expect_error(one_tensor(1, {8}, 0, ~0ull - 3, 40), "not a multiple of the alignment");
  expect_error(one_tensor(1, {8}, 0, 1ull << 62, 40), "runs past the end");
  expect_error(one_tensor(5, {1, 1, 1, 1, 1}, 0, 0, 32), "dimensions");
  expect_error(one_tensor(0, {}, 0, 0, 32), "dimensions");
  expect_error(one_tensor(1, {-8}, 0, 0, 32), "dimension 0 = -8");
  expect_error(one_tensor(1, {8}, 4, 0, 32), "unknown type id 4");
  expect_error(one_tensor(1, {8}, 1000, 0, 32), "unknown type id 1000");
  expect_error(one_tensor(1, {33}, 8, 0, 64), "not a multiple of the q8_0 block size");
  expect_error(one_tensor(4, {1 << 30, 1 << 30, 1 << 30, 1 << 30}, 0, 0, 32), "overflows");
  expect_error(one_tensor(2, {1 << 20, 1 << 20}, 0, 0, 32), "runs past the end");
}

TEST(GgufCorrupt, OverlappingAndDuplicateTensors) {
  std::string s = header(3, 2, 0);
  for (const char* name : {"a", "b"}) {
    append_gguf_string(s, name);
    append_u32(s, 1);
    append_u64(s, 16);
    append_u32(s, 0);
    append_u64(s, name[0] == 'a' ? 0 : 32);  // a covers [0,64), b starts at 32
  }
  if (s.size() % 32) s.append(32 - s.size() % 32, '\0');
  s.append(128, '\0');
  expect_error(s, "overlap");

  std::string d = header(3, 2, 0);
  for (int i = 0; i < 2; ++i) {
    append_gguf_string(d, "same");
    append_u32(d, 1);
    append_u64(d, 8);
    append_u32(d, 0);
    append_u64(d, static_cast<uint64_t>(i) * 32);
  }
  if (d.size() % 32) d.append(32 - d.size() % 32, '\0');
  d.append(64, '\0');
  expect_error(d, "duplicate tensor name");
}

TEST(GgufCorrupt, EveryTruncationOfAValidFileFailsCleanly) {
  const std::string good = valid_file();
  auto full = GgufFile::from_bytes(good);
  ASSERT_TRUE(full.is_ok());
  // Padding after the last tensor is optional; anything shorter than its end must fail.
  const TensorInfo& last = (*full)->tensors().back();
  const size_t end = (*full)->data_offset() + last.offset + last.nbytes;
  EXPECT_TRUE(GgufFile::from_bytes(good.substr(0, end)).is_ok());
  for (size_t n = 0; n < end; ++n) {
    auto r = GgufFile::from_bytes(good.substr(0, n));
    EXPECT_FALSE(r.is_ok()) << "truncated to " << n << " bytes was accepted";
  }
}

TEST(GgufCorrupt, RandomByteFlipsNeverCrash) {
  const std::string good = valid_file();
  std::mt19937 rng(1234);
  for (int i = 0; i < 20000; ++i) {
    std::string s = good;
    const int flips = 1 + static_cast<int>(rng() % 4);
    for (int k = 0; k < flips; ++k) s[rng() % s.size()] = static_cast<char>(rng());
    auto r = GgufFile::from_bytes(s);  // any outcome but a crash is fine
    if (r) {
      for (const TensorInfo& t : (*r)->tensors()) {
        ASSERT_LE(t.offset + t.nbytes + (*r)->data_offset(), (*r)->file_size());
      }
    }
  }
}

}  // namespace
}  // namespace corral::gguf
