// SPDX-License-Identifier: MIT
// Window means over a batch of planes (AvgPool2d, AdaptiveAvgPool2d): each thread takes a range of
// whole planes, so a plane's values never depend on the thread count.
#include "ops.h"
#include "parallel.h"

namespace simdnet {
namespace {

// Runs kernel(range) over plane ranges, one per thread when the work is worth it.
template <typename Kernel>
void over_planes(const WindowMeanShape& s, int64_t planes, Kernel&& kernel) {
  double rows = 0, cols = 0;  // pixels summed per plane = (sum of window heights) * (sum of window widths)
  for (int64_t y = 0; y < s.oh; ++y) rows += s.row_end[y] - s.row_start[y];
  for (int64_t x = 0; x < s.ow; ++x) cols += s.col_end[x] - s.col_start[x];
  const double work = static_cast<double>(planes) * (rows * cols + static_cast<double>(s.oh * s.ow));
  parallel_columns(planes, 1, work, [&](int64_t begin, int64_t end) { kernel(PlaneRange{begin, end}); });
}

}  // namespace

void window_mean_forward_op(float* out, const float* inp, const WindowMeanShape& s, int64_t planes) {
  const KernelTable& t = kernels();
  over_planes(s, planes, [&](PlaneRange r) { t.window_mean_forward(out, inp, s, r); });
}

void window_mean_backward_op(float* dinp, const float* dout, const WindowMeanShape& s, int64_t planes) {
  const KernelTable& t = kernels();
  over_planes(s, planes, [&](PlaneRange r) { t.window_mean_backward(dinp, dout, s, r); });
}

}  // namespace simdnet
