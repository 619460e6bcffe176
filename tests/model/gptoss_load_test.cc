// Loading gpt-oss files: a small hand-made file loads with the gpt-oss blocks switched on, and
// a file missing or mis-shaping one of its extra tensors (sinks, biases), or with a bad YaRN
// setting, is refused with an error that names the problem.
#include <gtest/gtest.h>

#include <functional>
#include <string>

#include "gguf/gguf_file.h"
#include "gguf/gguf_writer.h"
#include "model/model.h"
#include "model/registry.h"

namespace corral::model {
namespace {

using gguf::GgufWriter;

// 1 layer, n_embd 32, 2 heads x 16 over 1 KV head, 2 experts (1 used) of width 32, vocab 64.
constexpr int64_t kE = 32, kHd = 16, kH = 2, kKv = 1, kF = 32, kNe = 2, kV = 64;

std::string zeros(int64_t n) { return std::string(static_cast<size_t>(n) * sizeof(float), '\0'); }

// Writes the file, letting `edit` change the metadata and `skip` drop one tensor.
Result<std::shared_ptr<Model>> load(const std::function<void(GgufWriter&)>& edit = {}, const std::string& skip = "",
                                    const std::string& reshape = "") {
  GgufWriter w;
  w.set_string("general.architecture", "gpt-oss");
  const std::string p = "gpt-oss.";
  w.set_u32(p + "embedding_length", kE);
  w.set_u32(p + "block_count", 1);
  w.set_u32(p + "feed_forward_length", kF);
  w.set_u32(p + "attention.head_count", kH);
  w.set_u32(p + "attention.head_count_kv", kKv);
  w.set_u32(p + "expert_count", kNe);
  w.set_u32(p + "expert_used_count", 1);
  w.set_u32(p + "expert_feed_forward_length", kF);
  w.set_u32(p + "attention.sliding_window", 8);
  w.set_f32(p + "rope.freq_base", 150000.0f);
  w.set_string(p + "rope.scaling.type", "yarn");
  w.set_f32(p + "rope.scaling.factor", 4.0f);
  w.set_u32(p + "rope.scaling.original_context_length", 64);
  if (edit) edit(w);
  auto add = [&](const std::string& name, std::vector<int64_t> ne) {
    if (name == skip) return;
    if (name == reshape) ne[0] += 1;
    int64_t n = 1;
    for (int64_t d : ne) n *= d;
    w.add_tensor(name, DType::kF32, ne, zeros(n));
  };
  add("token_embd.weight", {kE, kV});
  const std::string b = "blk.0.";
  add(b + "attn_norm.weight", {kE});
  add(b + "attn_q.weight", {kE, kH * kHd});
  add(b + "attn_k.weight", {kE, kKv * kHd});
  add(b + "attn_v.weight", {kE, kKv * kHd});
  add(b + "attn_q.bias", {kH * kHd});
  add(b + "attn_k.bias", {kKv * kHd});
  add(b + "attn_v.bias", {kKv * kHd});
  add(b + "attn_output.weight", {kH * kHd, kE});
  add(b + "attn_output.bias", {kE});
  add(b + "attn_sinks.weight", {kH});
  add(b + "post_attention_norm.weight", {kE});
  add(b + "ffn_gate_inp.weight", {kE, kNe});
  add(b + "ffn_gate_inp.bias", {kNe});
  add(b + "ffn_gate_exps.weight", {kE, kF, kNe});
  add(b + "ffn_up_exps.weight", {kE, kF, kNe});
  add(b + "ffn_down_exps.weight", {kF, kE, kNe});
  add(b + "ffn_gate_exps.bias", {kF, kNe});
  add(b + "ffn_up_exps.bias", {kF, kNe});
  add(b + "ffn_down_exps.bias", {kE, kNe});
  add("output_norm.weight", {kE});
  add("output.weight", {kE, kV});
  auto f = gguf::GgufFile::from_bytes(w.to_bytes());
  if (!f) return f.status();
  return load_model(std::shared_ptr<const gguf::GgufFile>(std::move(f).value()));
}

TEST(GptOssLoad, HandMadeFileLoadsWithItsBlocks) {
  auto m = load();
  ASSERT_TRUE(m.is_ok()) << m.error();
  const ModelConfig& c = m.value()->config();
  EXPECT_EQ(c.arch, "gpt-oss");
  EXPECT_TRUE(c.has_qkv_bias && c.has_attn_out_bias && c.attn_sinks && c.moe_biases);
  EXPECT_EQ(c.ffn_norm_name, "post_attention_norm");
  EXPECT_EQ(c.ffn_act, FfnActivation::kSwigluClamped);
  EXPECT_EQ(c.moe_gating, MoeGating::kTopKSoftmax);
  EXPECT_FLOAT_EQ(c.rope_freq_scale, 0.25f);
  EXPECT_EQ(c.rope_yarn.ext_factor, 1.0f);
  EXPECT_EQ(c.window_of_layer(0), 8);
  EXPECT_FALSE(c.tied_embeddings);
}

TEST(GptOssLoad, MissingOrMisshapenTensorsAreNamed) {
  for (const char* name : {"blk.0.attn_sinks.weight", "blk.0.attn_output.bias", "blk.0.ffn_gate_inp.bias",
                           "blk.0.ffn_down_exps.bias", "blk.0.post_attention_norm.weight"}) {
    auto missing = load({}, name);
    ASSERT_FALSE(missing.is_ok()) << name;
    EXPECT_NE(missing.error().find(name), std::string::npos) << missing.error();
    auto misshapen = load({}, "", name);
    ASSERT_FALSE(misshapen.is_ok()) << name;
    EXPECT_NE(misshapen.error().find(name), std::string::npos) << misshapen.error();
    EXPECT_NE(misshapen.error().find("shape"), std::string::npos) << misshapen.error();
  }
}

TEST(GptOssLoad, BadRopeScalingIsRefused) {
  auto zero = load([](GgufWriter& w) { w.set_f32("gpt-oss.rope.scaling.factor", 0.0f); });
  ASSERT_FALSE(zero.is_ok());
  EXPECT_NE(zero.error().find("rope.scaling.factor"), std::string::npos) << zero.error();
  auto ctx = load([](GgufWriter& w) { w.set_i32("gpt-oss.rope.scaling.original_context_length", -5); });
  ASSERT_FALSE(ctx.is_ok());
  EXPECT_NE(ctx.error().find("original_context_length"), std::string::npos) << ctx.error();
  auto window = load([](GgufWriter& w) { w.set_i32("gpt-oss.attention.sliding_window", -1); });
  ASSERT_FALSE(window.is_ok());
  EXPECT_NE(window.error().find("sliding_window"), std::string::npos) << window.error();
}

}  // namespace
}  // namespace corral::model
