// SPDX-License-Identifier: MIT
// ReLU over a whole buffer: the current table's kernel on the calling thread (see ops.h).
#include "ops.h"

namespace simdnet {

void relu_forward_op(float* out, const float* inp, int64_t count) { kernels().relu_forward(out, inp, count); }

void relu_backward_op(float* dinp, const float* dout, const float* out, int64_t count) {
  kernels().relu_backward(dinp, dout, out, count);
}

void relu_mask_op(float* grad, const float* out, int64_t count) { kernels().relu_mask(grad, out, count); }

}  // namespace simdnet
