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

// A value added to a conv's output before its ReLU (a fused residual connection, as ResNet's): output channel o in
// [c0, c1) of output image n adds data[n * image_stride + (o - c0) * channel_stride + oy * row_stride + ox * col_step],
// the other channels add nothing (ResNet option A's zero channels). data == nullptr: no residual. The ops add it to
// each image's block of output channels right after the conv kernel wrote it (conv2d_add_residual), with c0, c1
// relative to the block's first channel.
struct ConvResidual {
  const float* data = nullptr;
  int64_t c0 = 0, c1 = 0;
  int64_t image_stride = 0, channel_stride = 0, row_stride = 0, col_step = 1;
  // Where output channel o of row oy starts (o in [c0, c1)), for one image.
  const float* row(int64_t o, int64_t oy) const { return data + (o - c0) * channel_stride + oy * row_stride; }
  bool covers(int64_t o) const { return data != nullptr && o >= c0 && o < c1; }
  // Image n's residual for the output channels from o0 on (a kernel call's first channel).
  ConvResidual at(int64_t n, int64_t o0) const {
    ConvResidual r = *this;
    if (data != nullptr) r.data = data + n * image_stride;
    r.c0 = c0 - o0;
    r.c1 = c1 - o0;
    return r;
  }
};

// floor((in + 2 pad - dilation (k - 1) - 1) / stride) + 1, or <= 0 if the window does not fit.
inline int64_t conv_output_size(int64_t in, int64_t k, int64_t stride, int64_t pad, int64_t dilation) {
  const int64_t span = in + 2 * pad - dilation * (k - 1) - 1;
  return span < 0 ? 0 : span / stride + 1;
}

// out [N, OC, OH, OW] = conv(inp [N, C, H, W], w [OC, C/g, KH, KW]) + b [OC] (b may be null).
void conv2d_forward_ref(float* out, const float* inp, const float* w, const float* b, const Conv2dShape& s);

// Rows [y0, y1) of one image's out [oc, oh, ow] = out + residual (r for this image, channels relative to out's first),
// then max(., 0) when relu: the same float add as a separate add op, so fused and unfused programs agree bit for bit.
void conv2d_add_residual(float* out, const ConvResidual& r, int64_t oc, int64_t oh, int64_t ow, int64_t y0, int64_t y1,
                         bool relu);

// dinp [N, C, H, W] += conv^T(dout); dw [OC, C/g, KH, KW] += corr(inp, dout); db [OC] += sum(dout).
// Any of dinp, dw, db may be null (not wanted).
void conv2d_backward_ref(float* dinp, float* dw, float* db, const float* dout, const float* inp, const float* w,
                         const Conv2dShape& s);

}  // namespace simdnet
