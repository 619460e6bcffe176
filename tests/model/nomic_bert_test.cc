// Loading nomic-bert files: an encoder (no KV bytes, no causal mask) with the file's pooling;
// what the engine cannot run yet is refused by name. Variants of syn-nomic-bert-f32 are built
// in memory with one metadata key changed.
#include <gtest/gtest.h>

#include <functional>

#include "common/test_data.h"
#include "gguf/gguf_file.h"
#include "gguf/gguf_writer.h"
#include "model/model.h"

namespace corral::model {
namespace {

Result<std::shared_ptr<Model>> load_variant(const std::function<void(gguf::GgufWriter&)>& edit) {
  auto f = gguf::GgufFile::open(testing::test_data_path("models/synthetic/syn-nomic-bert-f32.gguf"));
  EXPECT_TRUE(f.is_ok()) << f.error();
  if (!f) return f.status();
  gguf::GgufWriter w;
  for (const auto& [key, value] : (*f)->metadata()) w.set(key, value);
  for (const gguf::TensorInfo& t : (*f)->tensors())
    w.add_tensor(t.name, t.type, std::vector<int64_t>(t.ne, t.ne + t.n_dims),
                 std::string(reinterpret_cast<const char*>(t.data), t.nbytes));
  edit(w);
  auto copy = gguf::GgufFile::from_bytes(w.to_bytes());
  if (!copy) return copy.status();
  return load_model(std::shared_ptr<const gguf::GgufFile>(std::move(copy).value()));
}

TEST(NomicBert, LoadsAsAnEncoderThatCachesNothing) {
  auto m = load_variant([](gguf::GgufWriter&) {});
  ASSERT_TRUE(m.is_ok()) << m.error();
  const ModelConfig& c = (*m)->config();
  EXPECT_FALSE(c.causal);
  EXPECT_EQ(c.pooling, Pooling::kMean);
  EXPECT_EQ(c.n_embd, 128);
  EXPECT_EQ(c.n_ctx_train, 2048);
  EXPECT_EQ((*m)->kv_bytes_per_token(), 0u);
  auto kv = (*m)->make_kv_storage(std::vector<int64_t>(static_cast<size_t>((*m)->kv_layout().n_groups()), 64));
  EXPECT_TRUE(kv->ok());
  EXPECT_EQ(kv->block_bytes(0), 0u);
}

TEST(NomicBert, PoolingComesFromTheFile) {
  auto cls = load_variant([](gguf::GgufWriter& w) { w.set_u32("nomic-bert.pooling_type", 2); });
  ASSERT_TRUE(cls.is_ok()) << cls.error();
  EXPECT_EQ((*cls)->config().pooling, Pooling::kCls);
  for (uint32_t unsupported : {0u, 3u, 4u}) {
    auto m = load_variant([&](gguf::GgufWriter& w) { w.set_u32("nomic-bert.pooling_type", unsupported); });
    ASSERT_FALSE(m.is_ok());
    EXPECT_NE(m.error().find("pooling_type " + std::to_string(unsupported) + " is not supported yet"),
              std::string::npos)
        << m.error();
  }
}

TEST(NomicBert, ACausalEncoderIsNotSupportedYet) {
  auto m = load_variant([](gguf::GgufWriter& w) { w.set_bool("nomic-bert.attention.causal", true); });
  ASSERT_FALSE(m.is_ok());
  EXPECT_NE(m.error().find("not supported yet"), std::string::npos) << m.error();
}

}  // namespace
}  // namespace corral::model
