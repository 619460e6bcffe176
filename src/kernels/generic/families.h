// Internal: the generic registration functions, one per source file of generic/. register.cc
// calls them all to fill the scalar reference table.
#pragma once

#include "kernels/api.h"

namespace corral::kernels {

void register_generic_f32_ops(KernelTable& t);    // f32_ops.cc
void register_generic_floats(KernelTable& t);     // floats.cc: F32, F16, BF16
void register_generic_q4(KernelTable& t);         // q4.cc: Q4_0, Q4_1
void register_generic_q5(KernelTable& t);         // q5.cc: Q5_0, Q5_1
void register_generic_q8(KernelTable& t);         // q8.cc: Q8_0, Q8_1, Q8_K
void register_generic_q2_k(KernelTable& t);       // q2_k.cc
void register_generic_q3_k(KernelTable& t);       // q3_k.cc
void register_generic_q4_k_q5_k(KernelTable& t);  // q4_k_q5_k.cc
void register_generic_q6_k(KernelTable& t);       // q6_k.cc
void register_generic_iq4(KernelTable& t);        // iq4.cc: IQ4_NL, IQ4_XS
void register_generic_mxfp4(KernelTable& t);      // mxfp4.cc
void register_generic_attention(KernelTable& t);  // attention.cc: blocked attention per KV type

}  // namespace corral::kernels
