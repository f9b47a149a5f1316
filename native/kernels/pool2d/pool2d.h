// SPDX-License-Identifier: MIT
// 2-D max pooling kernels (NCHW) with argmax kept for backward: declarations and the shape record.
#pragma once
#include <cstdint>

namespace simdnet {

struct Pool2dShape {
  int64_t n, c, h, w;   // input [N, C, H, W]
  int64_t kh, kw;       // window
  int64_t sh, sw;       // stride
  int64_t ph, pw;       // implicit -inf padding (PyTorch: pad <= kernel / 2)
  int64_t dh, dw;       // dilation
  int64_t oh, ow;       // output [N, C, OH, OW]
};

// out [N, C, OH, OW] = max over each window of inp [N, C, H, W];
// argmax [N, C, OH, OW] = index y*W + x of the maximum inside its (n, c) plane, as PyTorch returns it.
// Ties and NaN follow PyTorch: the first maximum wins, a NaN is the maximum (the last NaN wins).
void maxpool2d_forward_ref(float* out, int32_t* argmax, const float* inp, const Pool2dShape& s);

// The common 2x2 window, stride 2, no padding case with the same results, written so the
// compiler vectorises it.
void maxpool2d_2x2_forward(float* out, int32_t* argmax, const float* inp, const Pool2dShape& s);

// dinp [N, C, H, W] += dout routed to each window's argmax.
void maxpool2d_backward_ref(float* dinp, const float* dout, const int32_t* argmax, const Pool2dShape& s);

}  // namespace simdnet
