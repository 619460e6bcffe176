// Compute kernels: quantized row formats, matrix products and the f32 vector ops of a
// transformer. Every entry has a scalar reference in generic/ (the fallback, and what the
// tests compare SIMD paths against); x86/avx2 and x86/avx512 override entries they speed up.
// The table in use is chosen once at run time from CPUID (CORRAL_CPU can force a lower one).
//
// Conventions: k = elements per row (the reduction dimension), m = weight rows (outputs),
// n = activation rows (tokens). Row-major everywhere. Kernels never fail: callers validate
// shapes (k a multiple of the block size) before calling.
#pragma once

#include <cstddef>
#include <cstdint>

#include "base/cpu_features.h"
#include "tensor/dtype.h"

namespace corral::kernels {

// The encoding a weight type's dot product takes its activations in (as llama.cpp does, so
// results stay close to the reference): F32/F16/BF16 -> F32; Q4_0, Q5_0, Q8_0, IQ4_NL,
// MXFP4 -> Q8_0; Q4_1, Q5_1 -> Q8_1; Q2_K..Q6_K, IQ4_XS -> Q8_K.
DType activation_type(DType weight);

// y[i] = x[i] as float, for n elements (n a multiple of the type's block size).
using DequantizeRowFn = void (*)(const void* src, float* dst, int64_t n);
// Encodes n floats (n a multiple of the block size) as type t.
using QuantizeRowFn = void (*)(const float* src, void* dst, int64_t n);
// y[j * ldy + i] = dot(w row i, x row j) for i in [0, m), j in [0, n).
// w: m rows of k elements of the weight type, w_stride bytes apart.
// x: n rows of k elements already in activation_type(weight), x_stride bytes apart.
// Each y element must depend only on its two rows, never on m, n or where the rows sit in the
// call: matmul splits work across threads and tiles freely and promises identical bits.
using GemmFn = void (*)(int64_t k, const void* w, size_t w_stride, int64_t m, const void* x, size_t x_stride, int64_t n,
                        float* y, int64_t ldy);

// Positions per KV block that the attention kernels walk: the paged KV cache's block
// (model::kKvBlockTokens). 16 f32 scores are one AVX-512 vector.
constexpr int64_t kAttnBlockTokens = 16;

// Interleaved weights (gemm_interleaved, kernels::interleave_rows): a matrix's rows in groups of
// kInterleaveRows (the last group holds what is left), and within a group its g rows' blocks
// stored block by block: block b of the group's row r at group start + (b * g + r) * block
// bytes. A group spans the same bytes as before, so a matrix still splits at any multiple of
// kInterleaveRows rows. One-row decode then reads one sequential stream per thread instead of
// 16 strided ones: the AVX-512 Q4_K one-row kernel ran 1.5-1.6x faster on it (AMD EPYC).
constexpr int64_t kInterleaveRows = 16;

// Q4_K, Q6_K, Q4_0 and Q8_0 go one step further in every full group (kInterleaveRows rows):
// a block step (block b of the 16 rows) holds first the rows' bytes that precede the block's
// dwords (interleaved_head_bytes: the f16 d of Q4_0 and Q8_0), row r's at r * head; then the
// block's whole dwords, dword j of row r at 16 * head + 64 * interleaved_dword_slot(t, j) +
// 4 r; then what is left (Q6_K's d), row r's at r * (bytes left) after the dwords. Each
// 64-byte piece then holds the same dword of the 16 rows, which is how the AVX-512 kernels
// use them (16 rows in the lanes): they read a step from start to end with no transposes,
// where the block-by-block order cost the one-row Q4_K kernel 4 permutes and 16-lane sums
// per row and block, and the Q8_0 one a transposition. A matrix's last, partial group keeps
// the block-by-block order.
constexpr bool interleaves_dwords(DType t) {
  return t == DType::kQ4_K || t == DType::kQ6_K || t == DType::kQ4_0 || t == DType::kQ8_0;
}
constexpr int64_t interleaved_head_bytes(DType t) { return t == DType::kQ4_0 || t == DType::kQ8_0 ? 2 : 0; }
// Where dword j of a block goes among the step's 64-byte pieces: j, except for Q6_K, whose
// pieces follow the order its kernel reads them in: scales (dwords 48-51), then per half h
// its qh (32 + 8h ..) and its ql (16h ..).
constexpr int64_t interleaved_dword_slot(DType t, int64_t j) {
  if (t != DType::kQ6_K) return j;
  if (j >= 48) return j - 48;                                  // scales
  if (j >= 32) return 4 + 24 * ((j - 32) / 8) + (j - 32) % 8;  // qh of half (j - 32) / 8
  return 12 + 24 * (j / 16) + j % 16;                          // ql of half j / 16
}

// Attention of one query position for the `group` query heads that share one KV head, over its
// KV blocks, flash-attention style: one block at a time, scores of the whole group against the
// block, an online softmax (running max and sum per head), the block's V accumulated with the
// probabilities. Attended positions: block 0 from `skip` on, every position of the blocks in
// between, the last block's first `last_len` (n_blocks == 1: positions [skip, last_len)).
// The result depends only on q, these positions' K/V and the arguments, never on what else is
// in a batch or which thread runs it (batch invariance).
// Over a Q8_0 / Q4_0 K the scores are q.k with q rounded to q8 first, per head and 32-element
// block (round_query_block_q8 in kernels/generic/attention_query.h, as llama.cpp's flash
// attention does), so SIMD levels multiply the integer codes; every level, the scalar
// reference too, scores that rounded q. F32 / F16 K take q as it is.
struct AttentionArgs {
  int64_t group = 1;               // query heads sharing the KV head
  int64_t head_dim = 0;            // a multiple of the KV type's block size
  float scale = 1.0f;              // applied to every q.k
  const float* q = nullptr;        // [group][head_dim]
  const float* sinks = nullptr;    // [group] or nullptr: per head one more logit (unscaled, never
                                   // masked) whose probability mass is dropped (gpt-oss)
  const void* const* k = nullptr;  // [n_blocks] -> [kAttnBlockTokens][head_dim] of the KV type
  const void* const* v = nullptr;  // [n_blocks] -> [kAttnBlockTokens][head_dim] of the KV type
  int64_t n_blocks = 0;            // >= 1
  int64_t skip = 0;                // positions of block 0 before the first attended one
  int64_t last_len = 0;            // positions of the last block that are attended (its first ones)
  float* out = nullptr;            // [group][head_dim] softmax(q k^T * scale) v
  float* scratch = nullptr;        // attention_scratch_floats(group, head_dim) floats (any alignment)
};
using AttentionFn = void (*)(const AttentionArgs& a);

// Places an encoded K row (head_dim elements of the KV type as quantize_row writes them) at
// position `slot` (< kAttnBlockTokens) of a K block, in the layout the same level's attention
// kernel reads: rows in order, except at AVX-512 for Q4_0, where a block holds its 16 rows'
// scales side by side ([head_dim / 32][16] f16) and then their packed codes as the kernel's
// transposed 4-byte groups ([group][16 rows][4 bytes], group = bytes 4k..4k+3 of a
// 32-element block, whose low and high nibbles the kernel splits). The same bytes as rows in
// order: every copy of whole blocks stays valid. V rows are always stored in order.
using StoreKRowFn = void (*)(const void* row, void* block, int64_t slot, int64_t head_dim);

// Scratch floats an attention call needs: a block of K and one of V widened to f32, the
// group's accumulators, probabilities of up to two blocks and running max/sum (each run
// rounded up to 16 floats); for quantized caches also the rounded query (group x head_dim
// floats: the reference's rounded values, or SIMD levels' codes, and per 32-element block a
// scale and a code sum), per block of V the probabilities times V's scales (group x blocks x
// kAttnBlockTokens) and the K and V scales (2 x blocks x kAttnBlockTokens). The AVX-512
// kernel, which keeps no widened blocks, carves its own layout of two-block steps from the
// same floats (its Scratch::floats is never more).
inline int64_t attention_scratch_floats(int64_t group, int64_t head_dim) {
  const int64_t hd16 = (head_dim + 15) / 16 * 16, nb = (head_dim + 31) / 32;
  return 2 * kAttnBlockTokens * hd16 + group * hd16 + 2 * group * kAttnBlockTokens + 2 * ((group + 15) / 16 * 16) +
         group * hd16 + 2 * group * nb + group * nb * kAttnBlockTokens + 2 * nb * kAttnBlockTokens;
}

struct KernelTable {
  IsaLevel isa = IsaLevel::kGeneric;
  DequantizeRowFn dequantize_row[kDTypeIdLimit] = {};  // every supported storage type
  QuantizeRowFn quantize_row[kDTypeIdLimit] = {};      // F32 F16 BF16 Q8_0 Q8_1 Q8_K Q4_0 Q4_K Q6_K (+more)
  GemmFn gemm[kDTypeIdLimit] = {};                     // every supported weight type
  // The same products with w interleaved (kInterleaveRows above); w starts at a group, and
  // m reaches the matrix's end or is a multiple of kInterleaveRows. AVX-512 Q4_K and Q6_K.
  GemmFn gemm_interleaved[kDTypeIdLimit] = {};
  AttentionFn attention[kDTypeIdLimit] = {};    // KV cache types: F32 F16 Q8_0 Q4_0
  StoreKRowFn store_k_row[kDTypeIdLimit] = {};  // the same types: K rows as `attention` reads them

  // y = x / sqrt(mean(x^2) + eps) * w  (w may be nullptr: no weight). y may alias x.
  void (*rms_norm)(const float* x, const float* w, float* y, int64_t n, float eps) = nullptr;
  // out[i] = silu(gate[i]) * up[i]; out may alias gate or up.
  void (*swiglu)(const float* gate, const float* up, float* out, int64_t n) = nullptr;
  // out[i] = gelu_tanh(gate[i]) * up[i] with GELU's tanh approximation
  // 0.5 g (1 + tanh(sqrt(2/pi) g (1 + 0.044715 g^2))); out may alias gate or up.
  void (*geglu_tanh)(const float* gate, const float* up, float* out, int64_t n) = nullptr;
  // x[i] = exp(x[i] - max) / sum, in place; returns nothing.
  void (*softmax)(float* x, int64_t n) = nullptr;
  // Returns sum(a[i] * b[i]).
  float (*dot_f32)(const float* a, const float* b, int64_t n) = nullptr;
  // y[i] += a * x[i].
  void (*axpy_f32)(float a, const float* x, float* y, int64_t n) = nullptr;
  // y[i] = x[i] * s.
  void (*scale_f32)(const float* x, float s, float* y, int64_t n) = nullptr;
  // y[i] = a[i] + b[i]; y may alias a or b.
  void (*add_f32)(const float* a, const float* b, float* y, int64_t n) = nullptr;
};

// The table for a level: generic entries, overridden by each level up to `level` that the
// build has. Asking for a level the CPU lacks is a programming error (CHECK).
const KernelTable& kernel_table(IsaLevel level);
// The table for selected_isa(): what production code calls.
const KernelTable& active();

// Convenience wrappers on active().
inline void dequantize_row(DType t, const void* src, float* dst, int64_t n) {
  active().dequantize_row[static_cast<uint32_t>(t)](src, dst, n);
}
inline void quantize_row(DType t, const float* src, void* dst, int64_t n) {
  active().quantize_row[static_cast<uint32_t>(t)](src, dst, n);
}

}  // namespace corral::kernels
