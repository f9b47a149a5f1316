// SPDX-License-Identifier: MIT
// The direct (no im2col) conv2d paths of the ops layer: vectors along output rows (stride 1, wide
// rows) or along output channels (many channels).
#pragma once
#include "dispatch.h"
#include "scratch.h"

namespace simdnet {
class ConvPackCache;
}

namespace simdnet {

// Rows [row0, row0 + rows) of planes src [c, h, w] (rows outside [0, h) are zeros), each row zero-padded by pw on the
// left and to ld floats (ld >= pw + w), into dst [c, rows, ld], then kDirectSlack zeros; every float written once.
void pad_rows_to(float* dst, const float* src, int64_t c, int64_t h, int64_t w, int64_t row0, int64_t rows, int64_t pw,
                 int64_t ld);
// The same into this thread's scratch.
float* pad_rows(ScratchSlot slot, const float* src, int64_t c, int64_t h, int64_t w, int64_t row0, int64_t rows,
                int64_t pw, int64_t ld);

// The input gradient of a stride-1 conv as a conv: dout [oc, oh, ow] padded by kernel-1-pad is the input, the c input
// channels are its outputs, the weights are flipped in both axes and transposed (conv2d_channel_op.cc).
Conv2dShape transposed_shape(const Conv2dShape& s);

// True when the current table has direct kernels and the shape suits them.
bool conv2d_direct_applies(const Conv2dShape& s, const KernelTable& t);
bool conv2d_direct_dinput_applies(const Conv2dShape& s, const KernelTable& t);

// The channel-vectorised kernels (conv2d_channel_op.cc): forward and weight/bias gradients.
bool conv2d_channel_applies(const Conv2dShape& s, const KernelTable& t);
// The channel path with its register-blocked tiles (two or more channel vectors, column stride 1 or 2,
// rows narrower than two vectors), which forward and the weight gradient prefer to the row-direct path.
bool conv2d_channel_blocked_applies(const Conv2dShape& s, const KernelTable& t);
// dinp += (or with add false, =) the input gradient of a stride-1 conv whose input channels suit the blocked tiles:
// their forward on the padded dout with flipped weights; strided convs by stride phases.
bool conv2d_channel_dinput_applies(const Conv2dShape& s, const KernelTable& t);
void conv2d_channel_dinput_op(const KernelTable& t, float* dinp, const float* dout, const float* w,
                              const Conv2dShape& s, bool add);
void conv2d_channel_forward_op(const KernelTable& t, float* out, const float* inp, const float* w, const float* b,
                               const Conv2dShape& s, bool fuse_relu, ConvPackCache* cache,
                               const ConvResidual& residual);
void conv2d_channel_dweight_op(const KernelTable& t, float* dw, float* db, const float* dout, const float* inp,
                               const Conv2dShape& s);

// The Winograd F(2x2, 3x3) forward (conv2d_winograd_op.cc): 3x3, stride 1, padding 1, 8-, 16- or 32-pixel rows,
// 32 or more channels in and out.
bool conv2d_winograd_applies(const Conv2dShape& s, const KernelTable& t);
void conv2d_winograd_forward_op(const KernelTable& t, float* out, const float* inp, const float* w, const float* b,
                                const Conv2dShape& s, bool fuse_relu, ConvPackCache* cache,
                                const ConvResidual& residual);
// dinp += (or with add false, =) the input gradient by the same kernel: the forward of dout with the flipped,
// transposed weights, when that conv (transposed_shape) meets the forward's condition.
bool conv2d_winograd_dinput_applies(const Conv2dShape& s, const KernelTable& t);
void conv2d_winograd_dinput_op(const KernelTable& t, float* dinp, const float* dout, const float* w,
                               const Conv2dShape& s, bool add);
// dw += the weight gradient by Winograd (the same shapes as the forward, where measured faster than the channel
// kernel), db += the bias gradient (either may be null).
bool conv2d_winograd_dweight_applies(const Conv2dShape& s, const KernelTable& t);
void conv2d_winograd_dweight_op(const KernelTable& t, float* dw, float* db, const float* dout, const float* inp,
                                const Conv2dShape& s);

void conv2d_direct_forward_op(const KernelTable& t, float* out, const float* inp, const float* w, const float* b,
                              const Conv2dShape& s, bool fuse_relu, ConvPackCache* cache, const ConvResidual& residual);
// Whether the weight and bias gradients take the direct path (else the channel kernel, then im2col + GEMM).
bool conv2d_direct_dweight_preferred(const Conv2dShape& s, const KernelTable& t);
void conv2d_direct_dweight_op(const KernelTable& t, float* dw, float* db, const float* dout, const float* inp,
                              const Conv2dShape& s);
// dinp += (or with add false, =) the input gradient, as a direct conv of the padded dout with flipped weights.
void conv2d_direct_dinput_op(const KernelTable& t, float* dinp, const float* dout, const float* w, const Conv2dShape& s,
                             bool add);

}  // namespace simdnet
