// SPDX-License-Identifier: MIT
// The Adam step over one parameter buffer: the current table's kernel on the calling thread (see ops.h).
#include "ops.h"

namespace simdnet {

void adam_step_op(float* param, float* m, float* v, const float* grad, const AdamHyper& h, int64_t count) {
  kernels().adam_step(param, m, v, grad, h, count);
}

}  // namespace simdnet
