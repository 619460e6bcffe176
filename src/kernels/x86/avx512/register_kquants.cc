// Entries of the avx512 level for the K-quant family: Q2_K..Q6_K gemm with Q8_K activations
// and dequantize, and the Q8_K activation quantizer (every entry not set here falls back to
// the level below).
#include "kernels/registry.h"
#include "kernels/x86/kquant_common.h"

namespace corral::kernels {

void register_avx512_kquants(KernelTable& t) {
  register_avx512_q2_k_q3_k(t);
  register_avx512_q2_k_q3_k_gemm(t);
  register_avx512_q4_k_q5_k(t);
  register_avx512_q4_k_q5_k_gemm(t);
  register_avx512_q6_k(t);
  register_avx512_q6_k_gemm(t);
  register_avx512_quantize_q8_k(t);
}

}  // namespace corral::kernels
