// SPDX-License-Identifier: MIT
// Element-wise activation kernels over flat buffers of `count` floats.
#pragma once
#include <cstdint>

namespace simdnet {

// out = max(inp, 0); NaN stays NaN (as torch.relu). out may equal inp (in place).
void relu_forward_ref(float* out, const float* inp, int64_t count);

// dinp += (out <= 0 ? 0 : dout): PyTorch's threshold_backward on the result, so a NaN output passes the gradient.
void relu_backward_ref(float* dinp, const float* dout, const float* out, int64_t count);

// grad = out <= 0 ? 0 : grad, in place: ReLU backward when the incoming gradient may be overwritten.
void relu_mask_ref(float* grad, const float* out, int64_t count);

// The same kernels compiled per ISA (<op>_<isa>.cc).
#define SN_DECLARE_RELU(isa)                                                           \
  namespace isa {                                                                      \
  void relu_forward(float* out, const float* inp, int64_t count);                      \
  void relu_backward(float* dinp, const float* dout, const float* out, int64_t count); \
  void relu_mask(float* grad, const float* out, int64_t count);                        \
  }
SN_DECLARE_RELU(avx2)
SN_DECLARE_RELU(avx512)
SN_DECLARE_RELU(neon)
SN_DECLARE_RELU(simd128)
#undef SN_DECLARE_RELU

}  // namespace simdnet
