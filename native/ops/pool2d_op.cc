// SPDX-License-Identifier: MIT
// Max pooling over a batch: planes (n, c) spread across threads; 2x2/stride-2 windows take the fast kernel.
#include <cstring>

#include "ops.h"
#include "parallel.h"

namespace simdnet {
namespace {

// Runs fn on a shape covering planes [p0, p1) (as n = p1 - p0, c = 1), in parallel blocks.
template <typename Fn>
void over_planes(const Pool2dShape& s, int64_t in_plane, int64_t out_plane, Fn&& fn) {
  const int64_t planes = s.n * s.c;
  // Memory-bound: count each input value as several flops so mid-sized pools use every thread.
  const double work = 8.0 * static_cast<double>(planes) * static_cast<double>(in_plane);
  parallel_columns(planes, 1, work, [&](int64_t p0, int64_t p1) {
    Pool2dShape part = s;
    part.n = p1 - p0;
    part.c = 1;
    fn(part, p0 * in_plane, p0 * out_plane);
  });
}

}  // namespace

void maxpool2d_forward_op(float* out, int32_t* argmax, const float* inp, const Pool2dShape& s) {
  const KernelTable& t = kernels();
  const bool two_by_two = s.kh == 2 && s.kw == 2 && s.sh == 2 && s.sw == 2 && s.ph == 0 && s.pw == 0 && s.dh == 1 &&
                          s.dw == 1 && 2 * s.oh <= s.h && 2 * s.ow <= s.w;
  const auto kernel = two_by_two && t.maxpool2d_2x2_forward ? t.maxpool2d_2x2_forward : t.maxpool2d_forward;
  over_planes(s, s.h * s.w, s.oh * s.ow, [&](const Pool2dShape& part, int64_t in_off, int64_t out_off) {
    kernel(out + out_off, argmax != nullptr ? argmax + out_off : nullptr, inp + in_off, part);
  });
}

void maxpool2d_backward_op(float* dinp, const float* dout, const int32_t* argmax, const Pool2dShape& s, bool add_dinp,
                           const float* relu_out) {
  const KernelTable& t = kernels();
  over_planes(s, s.h * s.w, s.oh * s.ow, [&](const Pool2dShape& part, int64_t in_off, int64_t out_off) {
    // Zeroed by the thread that scatters into these planes, while they are in its cache; 0 + g as before.
    if (!add_dinp) std::memset(dinp + in_off, 0, sizeof(float) * static_cast<size_t>(part.n * s.h * s.w));
    if (relu_out != nullptr)
      t.maxpool2d_relu_backward(dinp + in_off, dout + out_off, argmax + out_off, relu_out + in_off, part);
    else
      t.maxpool2d_backward(dinp + in_off, dout + out_off, argmax + out_off, part);
  });
}

}  // namespace simdnet
