#include "kernels/generic/families.h"
#include "kernels/registry.h"

namespace corral::kernels {

void register_generic(KernelTable& t) {
  register_generic_f32_ops(t);
  register_generic_floats(t);
  register_generic_q4(t);
  register_generic_q5(t);
  register_generic_q8(t);
  register_generic_q2_k(t);
  register_generic_q3_k(t);
  register_generic_q4_k_q5_k(t);
  register_generic_q6_k(t);
  register_generic_iq4(t);
  register_generic_mxfp4(t);
  register_generic_attention(t);
}

}  // namespace corral::kernels
