#include "kernels/registry.h"

namespace corral::kernels {

void register_generic_f32_ops(KernelTable& t);

void register_generic(KernelTable& t) { register_generic_f32_ops(t); }

}  // namespace corral::kernels
