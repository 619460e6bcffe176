#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "common/test_data.h"
#include "gguf/gguf_file.h"
#include "gguf/gguf_writer.h"

namespace corral::gguf {
namespace {

using corral::testing::test_data_path;

TEST(GgufReader, ReadsStories260K) {
  auto r = GgufFile::open(test_data_path("models/stories260K.gguf"));
  ASSERT_TRUE(r.is_ok()) << r.error();
  const GgufFile& f = **r;
  EXPECT_EQ(f.version(), 3u);
  EXPECT_EQ(f.string_or("general.architecture", ""), "llama");
  EXPECT_EQ(f.int_or("llama.embedding_length", 0), 64);
  EXPECT_EQ(f.int_or("llama.block_count", 0), 5);
  EXPECT_EQ(f.int_or("llama.context_length", 0), 128);
  const Value* tokens = f.find("tokenizer.ggml.tokens");
  ASSERT_NE(tokens, nullptr);
  ASSERT_NE(tokens->strings(), nullptr);
  EXPECT_EQ(tokens->size(), 512u);
  const TensorInfo* emb = f.find_tensor("token_embd.weight");
  ASSERT_NE(emb, nullptr);
  EXPECT_EQ(emb->type, DType::kF32);
  EXPECT_EQ(emb->ne[0], 64);
  EXPECT_EQ(emb->ne[1], 512);
  EXPECT_EQ(emb->nbytes, 64u * 512 * 4);
  // 5 layers x 9 tensors + token_embd + output_norm + output.
  EXPECT_EQ(f.tensors().size(), 5u * 9 + 3);
}

// The copy a loaded model reads: the same metadata and tensors, every tensor's bytes equal to
// the mapped file's, in memory of its own that starts on a 2 MiB (huge page) boundary, read-only.
TEST(GgufReader, ResidentCopyHoldsTheSameTensorBytes) {
  for (const char* rel : {"models/stories260K.gguf", "models/synthetic/syn-gemma3-q4_k_m.gguf"}) {
    SCOPED_TRACE(rel);
    auto r = GgufFile::open(test_data_path(rel));
    ASSERT_TRUE(r.is_ok()) << r.error();
    const GgufFile& f = **r;
    auto c = f.resident_copy();
    ASSERT_TRUE(c.is_ok()) << c.error();
    const GgufFile& copy = **c;
    EXPECT_TRUE(copy.is_resident());
    EXPECT_FALSE(f.is_resident());
    EXPECT_EQ(copy.path(), f.path());
    EXPECT_EQ(copy.metadata().size(), f.metadata().size());
    EXPECT_EQ(copy.string_or("general.architecture", ""), f.string_or("general.architecture", ""));
    ASSERT_EQ(copy.tensors().size(), f.tensors().size());
    uintptr_t lowest = UINTPTR_MAX;
    for (size_t i = 0; i < f.tensors().size(); ++i) {
      const TensorInfo& a = f.tensors()[i];
      const TensorInfo& b = copy.tensors()[i];
      EXPECT_EQ(b.name, a.name);
      EXPECT_NE(b.data, a.data);
      ASSERT_EQ(b.nbytes, a.nbytes);
      EXPECT_EQ(std::memcmp(a.data, b.data, a.nbytes), 0) << a.name;
      EXPECT_EQ(copy.find_tensor(a.name), &b);
      lowest = std::min(lowest, reinterpret_cast<uintptr_t>(b.data) - b.offset);
    }
    EXPECT_EQ(lowest % (2u << 20), 0u) << "the data section starts on a huge page";
  }
  // An in-memory image copies from its bytes (no file to read).
  std::string bytes;
  {
    std::ifstream in(test_data_path("models/stories260K.gguf"), std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), {});
  }
  auto m = GgufFile::from_bytes(bytes);
  ASSERT_TRUE(m.is_ok());
  auto mc = (*m)->resident_copy();
  ASSERT_TRUE(mc.is_ok()) << mc.error();
  const TensorInfo* emb = (*mc)->find_tensor("token_embd.weight");
  ASSERT_NE(emb, nullptr);
  EXPECT_EQ(std::memcmp(emb->data, (*m)->find_tensor("token_embd.weight")->data, emb->nbytes), 0);
}

TEST(GgufReader, ReadsEverySharedModel) {
  namespace fs = std::filesystem;
  int n = 0;
  for (const char* dir : {"models", "models/synthetic", "vocab"}) {
    for (const auto& e : fs::directory_iterator(test_data_path(dir))) {
      if (e.path().extension() != ".gguf") continue;
      auto r = GgufFile::open(e.path().string());
      EXPECT_TRUE(r.is_ok()) << e.path() << ": " << r.error();
      if (r) {
        // Every type is known and computable (MXFP4 included, for gpt-oss's experts).
        for (const TensorInfo& t : (*r)->tensors()) {
          EXPECT_NE(dtype_traits(t.type).name, nullptr) << t.name;
          EXPECT_TRUE(dtype_traits(t.type).supported) << t.name;
        }
      }
      ++n;
    }
  }
  EXPECT_GE(n, 30);
}

TEST(GgufReader, QuantTypesAsDocumented) {
  auto r = GgufFile::open(test_data_path("models/synthetic/syn-llama-q4_k_m.gguf"));
  ASSERT_TRUE(r.is_ok()) << r.error();
  const GgufFile& f = **r;
  EXPECT_EQ(f.find_tensor("output.weight")->type, DType::kQ6_K);
  EXPECT_EQ(f.find_tensor("blk.0.attn_q.weight")->type, DType::kQ4_K);
  EXPECT_EQ(f.find_tensor("blk.2.ffn_down.weight")->type, DType::kQ6_K);
  EXPECT_EQ(f.int_or("general.file_type", -1), 15);
}

TEST(GgufWriter, RoundTripsEveryValueType) {
  GgufWriter w;
  w.set("u8", Value::from_uint(ValueType::kUint8, 200));
  w.set("i8", Value::from_int(ValueType::kInt8, -100));
  w.set("u16", Value::from_uint(ValueType::kUint16, 60000));
  w.set("i16", Value::from_int(ValueType::kInt16, -30000));
  w.set_u32("u32", 4000000000u);
  w.set_i32("i32", -2000000000);
  w.set("u64", Value::from_uint(ValueType::kUint64, 1ull << 60));
  w.set("i64", Value::from_int(ValueType::kInt64, -(1ll << 60)));
  w.set_f32("f32", 0.5f);
  w.set("f64", Value::from_float(ValueType::kFloat64, 1e300));
  w.set_bool("bool", true);
  w.set_string("str", std::string("with\0nul", 8));
  w.set("arr.str", Value::string_array({"a", "", "ccc"}));
  w.set("arr.f32", Value::float_array(ValueType::kFloat32, {1.5, -2.25}));
  w.set("arr.i32", Value::int_array(ValueType::kInt32, {1, -2, 3}));
  w.set("arr.u8", Value::uint_array(ValueType::kUint8, {1, 255}));
  w.set("arr.bool", Value::bool_array({true, false}));
  w.set("arr.nested", Value::nested_array({Value::int_array(ValueType::kInt16, {7}), Value::string_array({"x", "y"})}));
  w.set_u32("general.alignment", 64);
  std::string data(4 * 6, '\0');
  w.add_tensor("t0", DType::kF32, {3, 2}, data);
  w.add_tensor("t1", DType::kQ8_0, {32}, std::string(34, '\x01'));

  auto r = GgufFile::from_bytes(w.to_bytes());
  ASSERT_TRUE(r.is_ok()) << r.error();
  const GgufFile& f = **r;
  EXPECT_EQ(f.metadata().size(), 19u);
  EXPECT_EQ(*f.find("u8")->as_uint(), 200u);
  EXPECT_EQ(f.find("u8")->type(), ValueType::kUint8);
  EXPECT_EQ(*f.find("i8")->as_int(), -100);
  EXPECT_EQ(*f.find("u16")->as_uint(), 60000u);
  EXPECT_EQ(*f.find("i16")->as_int(), -30000);
  EXPECT_EQ(*f.find("u32")->as_uint(), 4000000000u);
  EXPECT_EQ(*f.find("i32")->as_int(), -2000000000);
  EXPECT_EQ(*f.find("u64")->as_uint(), 1ull << 60);
  EXPECT_EQ(*f.find("i64")->as_int(), -(1ll << 60));
  EXPECT_EQ(*f.find("f32")->as_float(), 0.5);
  EXPECT_EQ(*f.find("f64")->as_float(), 1e300);
  EXPECT_EQ(*f.find("bool")->as_bool(), true);
  EXPECT_EQ(*f.find("str")->as_string(), std::string("with\0nul", 8));
  EXPECT_EQ(*f.find("arr.str")->strings(), (std::vector<std::string>{"a", "", "ccc"}));
  EXPECT_EQ(*f.find("arr.f32")->floats(), (std::vector<double>{1.5, -2.25}));
  EXPECT_EQ(f.find("arr.f32")->elem_type(), ValueType::kFloat32);
  EXPECT_EQ(*f.find("arr.i32")->ints(), (std::vector<int64_t>{1, -2, 3}));
  EXPECT_EQ(*f.find("arr.u8")->uints(), (std::vector<uint64_t>{1, 255}));
  EXPECT_EQ(*f.find("arr.bool")->ints(), (std::vector<int64_t>{1, 0}));
  const auto* nested = f.find("arr.nested")->values();
  ASSERT_NE(nested, nullptr);
  ASSERT_EQ(nested->size(), 2u);
  EXPECT_EQ(*(*nested)[1].strings(), (std::vector<std::string>{"x", "y"}));
  EXPECT_EQ(f.alignment(), 64u);
  EXPECT_EQ(f.data_offset() % 64, 0u);
  ASSERT_EQ(f.tensors().size(), 2u);
  EXPECT_EQ(f.find_tensor("t1")->offset % 64, 0u);
  EXPECT_EQ(f.find_tensor("t1")->data[0], 1);
  EXPECT_EQ(f.find_tensor("t0")->ne[1], 2);

  // Typed getters distinguish "absent" from "wrong type".
  EXPECT_FALSE(f.get_int("missing")->has_value());
  EXPECT_FALSE(f.get_int("str").is_ok());
  EXPECT_FALSE(f.get_string("u32").is_ok());
  EXPECT_EQ(f.int_or("str", 7), 7);
}

TEST(GgufWriter, WritesFilesTheReaderMaps) {
  GgufWriter w;
  w.set_string("general.architecture", "llama");
  w.add_tensor("x", DType::kF16, {4}, std::string(8, '\0'));
  const std::string path = ::testing::TempDir() + "/w.gguf";
  ASSERT_TRUE(w.write_file(path).is_ok());
  auto r = GgufFile::open(path);
  ASSERT_TRUE(r.is_ok()) << r.error();
  EXPECT_EQ((*r)->string_or("general.architecture", ""), "llama");
  EXPECT_EQ((*r)->file_size(), w.to_bytes().size());
}

}  // namespace
}  // namespace corral::gguf
