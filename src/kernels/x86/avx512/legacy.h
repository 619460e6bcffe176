// Internal: the avx512 legacy-family source files, each filling its own entries; called by
// register_legacy.cc.
#pragma once

#include "kernels/api.h"

namespace corral::kernels::avx512 {

void register_quant_gemm(KernelTable& t);  // quant_gemm.cc: Q4_0 Q4_1 Q5_0 Q5_1 Q8_0 IQ4_NL MXFP4 gemm
void register_quant_rows(KernelTable& t);  // quant_rows.cc: Q8_0/Q8_1 quantize, dequantize
void register_float_gemm(KernelTable& t);  // float_gemm.cc: F32 F16 BF16 gemm and rows
void register_f32_ops(KernelTable& t);     // f32_ops.cc: rms_norm, swiglu, softmax, ...
void register_attention(KernelTable& t);   // attention.cc: blocked attention per KV type

}  // namespace corral::kernels::avx512
