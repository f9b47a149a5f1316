// SPDX-License-Identifier: MIT
// 2-D max pooling kernels (NCHW) with argmax kept for backward: declarations and the shape record.
#pragma once
#include <cstdint>

namespace simdnet {

struct Pool2dShape {
  int64_t n, c, h, w;  // input [N, C, H, W]
  int64_t kh, kw;      // window
  int64_t sh, sw;      // stride
  int64_t ph, pw;      // implicit -inf padding (PyTorch: pad <= kernel / 2)
  int64_t dh, dw;      // dilation
  int64_t oh, ow;      // output [N, C, OH, OW]
};

// PyTorch's pooling output size (pooling_output_shape_pad_lr): floor or ceil of
// (in + 2 pad - dilation (k - 1) - 1) / stride + 1, where in ceil mode the last window must start
// inside the input or the left padding. <= 0 when no window fits.
inline int64_t pool_output_size(int64_t in, int64_t k, int64_t stride, int64_t pad, int64_t dilation, bool ceil_mode) {
  const int64_t num = in + 2 * pad - dilation * (k - 1) - 1 + (ceil_mode ? stride - 1 : 0);
  if (num < 0) return 0;
  int64_t out = num / stride + 1;
  if (ceil_mode && (out - 1) * stride >= in + pad) --out;
  return out;
}

// Whether a window of an axis with pool_output_size(...) >= 1 holds only padding. That needs
// dilation > in, which leaves room for one window starting in the padding, the first (at -pad).
// PyTorch returns -inf with an index outside the input there (pytorch/pytorch#114216); we refuse it.
inline bool pool_window_in_padding(int64_t in, int64_t k, int64_t pad, int64_t dilation) {
  if (pad == 0 || dilation <= in) return false;
  const int64_t first = (pad + dilation - 1) / dilation;  // the first tap at or past 0
  return first >= k || first * dilation - pad >= in;
}

// out [N, C, OH, OW] = max over each window of inp [N, C, H, W];
// argmax [N, C, OH, OW] = index y*W + x of the maximum inside its (n, c) plane, as PyTorch returns it.
// Ties and NaN follow PyTorch: the first maximum wins, a NaN is the maximum (the last NaN wins).
// argmax may be null (inference programs, which never run backward): then only `out` is written.
void maxpool2d_forward_ref(float* out, int32_t* argmax, const float* inp, const Pool2dShape& s);

// dinp [N, C, H, W] += dout routed to each window's argmax.
void maxpool2d_backward_ref(float* dinp, const float* dout, const int32_t* argmax, const Pool2dShape& s);

// The same with the backward of a ReLU before the pool, whose output relu_out [N, C, H, W] is the pool's input:
// dout[i] goes to its argmax only where relu_out there is > 0 or NaN (relu_mask's rule). Into a zeroed dinp that is
// maxpool2d_backward then relu_mask, bit for bit.
void maxpool2d_relu_backward_ref(float* dinp, const float* dout, const int32_t* argmax, const float* relu_out,
                                 const Pool2dShape& s);

// The common 2x2 window, stride 2, no padding case (2 oh <= h, 2 ow <= w), with the reference's results; argmax may be
// null, as for the reference. Per ISA (pool2d_<isa>.cc, intrinsics: the deinterleaving shuffles and masks differ too
// much across ISAs for vec.inc) and once with baseline flags (pool2d_baseline.cc: the WebAssembly table's kernel).
#define SN_DECLARE_MAXPOOL_2X2(isa)                                                                \
  namespace isa {                                                                                  \
  void maxpool2d_2x2_forward(float* out, int32_t* argmax, const float* inp, const Pool2dShape& s); \
  }
SN_DECLARE_MAXPOOL_2X2(baseline)
SN_DECLARE_MAXPOOL_2X2(avx2)
SN_DECLARE_MAXPOOL_2X2(avx512)
SN_DECLARE_MAXPOOL_2X2(neon)
#undef SN_DECLARE_MAXPOOL_2X2

}  // namespace simdnet
