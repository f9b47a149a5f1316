// SPDX-License-Identifier: MIT
// Upsample kernels (NCHW planes): nearest and bilinear interpolation as torch.nn.Upsample / F.interpolate compute them
// on the CPU (indices and weights in float, PyTorch's UpSample.h formulas), forward and backward. No allocation or
// N-API here; native/binding_upsample.cc validates every argument, ops/upsample_op.cc gives plane ranges to threads.
// Reference only: each output value reads 1 (nearest) or 4 (bilinear) inputs, so the loops are memory-bound and a
// SIMD variant would gain little; every ISA's table runs these.
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdint>

#include "kernels/pool2d/window_mean.h"  // PlaneRange

namespace simdnet {

struct UpsampleShape {
  int64_t h, w;    // input plane [H, W]
  int64_t oh, ow;  // output plane [OH, OW]
  bool bilinear;   // false: 'nearest'
  bool align_corners;
  // The scale factor given per axis (> 0; then oh == floor(h * scale_h)), or 0 when the output size was given: as
  // PyTorch's `scales` argument, it sets the source-index ratio (1 / scale) where align_corners does not.
  double scale_h, scale_w;
};

// The input index output index `dst` of an axis reads in 'nearest' mode (PyTorch's nearest_idx: a copy when out == in,
// dst / 2 when out == 2 in, else min(floor(dst * ratio), in - 1) in float).
inline int64_t upsample_nearest_index(int64_t dst, int64_t in, int64_t out, double scale) {
  if (out == in) return dst;
  if (out == 2 * in) return dst >> 1;
  const float ratio = scale > 0 ? static_cast<float>(1.0 / scale) : static_cast<float>(in) / static_cast<float>(out);
  return std::min(static_cast<int64_t>(std::floor(static_cast<float>(dst) * ratio)), in - 1);
}

// The two input indices and weights of output index `dst` of an axis in 'bilinear' mode (PyTorch's
// compute_source_index_and_lambda with area_pixel_compute_scale / area_pixel_compute_source_index, in float).
struct LinearTap {
  int64_t i0, i1;
  float l0, l1;
};
inline LinearTap upsample_linear_tap(int64_t dst, int64_t in, int64_t out, bool align_corners, double scale) {
  if (out == in) return {dst, dst, 1.0f, 0.0f};
  float real;
  if (align_corners) {
    const float ratio = out > 1 ? static_cast<float>(in - 1) / static_cast<float>(out - 1) : 0.0f;
    real = ratio * static_cast<float>(dst);
  } else {
    const float ratio = scale > 0 ? static_cast<float>(1.0 / scale) : static_cast<float>(in) / static_cast<float>(out);
    real = ratio * (static_cast<float>(dst) + 0.5f) - 0.5f;
    if (real < 0.0f) real = 0.0f;
  }
  const int64_t i0 = std::min(static_cast<int64_t>(std::floor(real)), in - 1);
  const float l1 = std::min(std::max(real - static_cast<float>(i0), 0.0f), 1.0f);
  return {i0, i0 + (i0 < in - 1 ? 1 : 0), 1.0f - l1, l1};
}

// out [P, OH, OW] = inp [P, H, W] interpolated; bilinear: (x[i0][j0] l0 + x[i0][j1] l1) h0 + (x[i1][j0] l0 +
// x[i1][j1] l1) h1 in float, as PyTorch's Interpolate<2>. Overwrites out.
void upsample2d_forward_ref(float* out, const float* inp, const UpsampleShape& s, PlaneRange r);

// dinp [P, H, W] += the transpose: each dout value added to the input(s) it read, times their weights (bilinear:
// h * w * g for the four taps in PyTorch's order), outputs in row-major order. Accumulates.
void upsample2d_backward_ref(float* dinp, const float* dout, const UpsampleShape& s, PlaneRange r);

}  // namespace simdnet
