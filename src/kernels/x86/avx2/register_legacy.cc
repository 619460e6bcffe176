// Entries of the avx2 level for the legacy family: the float types, the 32-element quants
// and the f32 vector ops (every entry not set here falls back to the level below).
#include "kernels/registry.h"
#include "kernels/x86/avx2/legacy.h"

namespace corral::kernels {

void register_avx2_legacy(KernelTable& t) {
  avx2::register_quant_gemm(t);
  avx2::register_quant_rows(t);
  avx2::register_float_gemm(t);
  avx2::register_f32_ops(t);
  avx2::register_attention(t);
}

}  // namespace corral::kernels
