// The x86 levels: each level's entries are split by type family into separate files
// (x86/<level>/*.cc), so that they can be written and reviewed independently.
#include "kernels/registry.h"

namespace corral::kernels {

// Floats (F32/F16/BF16 gemm, f32 vector ops) and the 32-element quants (Q4_0, Q4_1, Q5_0,
// Q5_1, Q8_0, IQ4_NL, MXFP4 gemm; Q8_0/Q8_1 activation quantizers).
void register_avx2_legacy(KernelTable& t);
void register_avx512_legacy(KernelTable& t);
// K-quants (Q2_K..Q6_K gemm; Q8_K activation quantizer).
void register_avx2_kquants(KernelTable& t);
void register_avx512_kquants(KernelTable& t);
// IQ4_XS gemm, x86/<level>/iq4_xs_gemm.cc (IQ4_NL and MXFP4 are 32-element quants: legacy).
void register_avx2_iq4_xs(KernelTable& t);
void register_avx512_iq4_xs(KernelTable& t);

void register_avx2(KernelTable& t) {
  register_avx2_legacy(t);
  register_avx2_kquants(t);
  register_avx2_iq4_xs(t);
}

void register_avx512(KernelTable& t) {
  register_avx512_legacy(t);
  register_avx512_kquants(t);
  register_avx512_iq4_xs(t);
}

}  // namespace corral::kernels
