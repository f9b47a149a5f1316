// SPDX-License-Identifier: MIT
// Fully connected (linear) layer kernels: y = x W^T + b, with PyTorch's weight layout [OUT, IN].
#pragma once
#include <cstdint>

namespace simdnet {

struct DenseShape {
  int64_t batch, in, out;
};

// out [B, OUT] = inp [B, IN] * w[OUT, IN]^T + b [OUT] (b may be null).
void dense_forward_ref(float* out, const float* inp, const float* w, const float* b, const DenseShape& s);

// dinp [B, IN] += dout w; dw [OUT, IN] += dout^T inp; db [OUT] += column sums of dout. Any d* may be null.
void dense_backward_ref(float* dinp, float* dw, float* db, const float* dout, const float* inp, const float* w,
                        const DenseShape& s);

}  // namespace simdnet
