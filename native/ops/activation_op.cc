// SPDX-License-Identifier: MIT
// ReLU and the element-wise add over a whole buffer, on the calling thread (see ops.h).
#include "ops.h"

namespace simdnet {

// Memory-bound: the baseline build's vectorised loop reads and writes as fast as any ISA's would.
void add_op(float* out, const float* a, const float* b, int64_t count) {
  for (int64_t i = 0; i < count; ++i) out[i] = a[i] + b[i];
}

void add_relu_op(float* out, const float* a, const float* b, int64_t count) {
  for (int64_t i = 0; i < count; ++i) {
    const float v = a[i] + b[i];
    out[i] = v < 0.0f ? 0.0f : v;  // relu_forward's rule: NaN stays NaN
  }
}

void relu_forward_op(float* out, const float* inp, int64_t count) { kernels().relu_forward(out, inp, count); }

void relu_backward_op(float* dinp, const float* dout, const float* out, int64_t count) {
  kernels().relu_backward(dinp, dout, out, count);
}

void relu_mask_op(float* grad, const float* out, int64_t count) { kernels().relu_mask(grad, out, count); }

}  // namespace simdnet
