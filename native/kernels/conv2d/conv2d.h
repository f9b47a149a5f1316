// SPDX-License-Identifier: MIT
// 2-D convolution kernels (NCHW, weights [OC, IC/groups, KH, KW]): declarations and the shape record.
#pragma once
#include <cstdint>

namespace simdnet {

// Sizes of one conv2d call. The binding validates them; kernels trust them.
struct Conv2dShape {
  int64_t n, c, h, w;  // input  [N, C, H, W]
  int64_t oc, kh, kw;  // weight [OC, C/groups, KH, KW]
  int64_t sh, sw;      // stride
  int64_t ph, pw;      // zero padding on each side
  int64_t dh, dw;      // dilation
  int64_t groups;
  int64_t oh, ow;  // output [N, OC, OH, OW], derived by conv_output_size
};

// floor((in + 2 pad - dilation (k - 1) - 1) / stride) + 1, or <= 0 if the window does not fit.
inline int64_t conv_output_size(int64_t in, int64_t k, int64_t stride, int64_t pad, int64_t dilation) {
  const int64_t span = in + 2 * pad - dilation * (k - 1) - 1;
  return span < 0 ? 0 : span / stride + 1;
}

// out [N, OC, OH, OW] = conv(inp [N, C, H, W], w [OC, C/g, KH, KW]) + b [OC] (b may be null).
void conv2d_forward_ref(float* out, const float* inp, const float* w, const float* b, const Conv2dShape& s);

// dinp [N, C, H, W] += conv^T(dout); dw [OC, C/g, KH, KW] += corr(inp, dout); db [OC] += sum(dout).
// Any of dinp, dw, db may be null (not wanted).
void conv2d_backward_ref(float* dinp, float* dw, float* db, const float* dout, const float* inp, const float* w,
                         const Conv2dShape& s);

}  // namespace simdnet
