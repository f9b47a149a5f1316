// SPDX-License-Identifier: MIT
// Window-mean kernels (NCHW): the forward and backward of average pooling over any per-axis windows
// (AvgPool2d, AdaptiveAvgPool2d). No allocation or N-API here; native/binding_pool.cc validates every argument,
// ops/window_mean_op.cc gives plane ranges to threads.
#pragma once
#include <cstdint>

namespace simdnet {

// The windows of one call: output row y averages input rows [row_start[y], row_end[y]) and output
// column x input columns [col_start[x], col_end[x]), divided by divisor[y * ow + x]. Windows may
// overlap or be empty (start == end); every index lies in [0, h] / [0, w].
struct WindowMeanShape {
  int64_t h, w;              // input plane [H, W]
  int64_t oh, ow;            // output plane [OH, OW]
  const int32_t* row_start;  // [OH]
  const int32_t* row_end;    // [OH]
  const int32_t* col_start;  // [OW]
  const int32_t* col_end;    // [OW]
  const double* divisor;     // [OH, OW]; finite and non-zero where the window is not empty
};

// The planes (N*C images of one channel) [begin, end) a call computes: planes are independent, so
// the ops layer gives ranges to threads; a plane's values never depend on the split.
struct PlaneRange {
  int64_t begin, end;
};

// out [P, OH, OW] = (sum of inp [P, H, W] over the window, in double, rows then columns) / divisor,
// rounded once to float; an empty window gives 0 (PyTorch). Overwrites out.
void window_mean_forward_ref(float* out, const float* inp, const WindowMeanShape& s, PlaneRange r);

// The backward of window_mean_forward_ref: g = float(dout / divisor), then dinp += g (float adds) at
// every pixel of the window, windows in output order. dinp [P, H, W], dout [P, OH, OW]. Accumulates.
void window_mean_backward_ref(float* dinp, const float* dout, const WindowMeanShape& s, PlaneRange r);

}  // namespace simdnet
