// SPDX-License-Identifier: MIT
// Upsample over plane ranges (see upsample_op.h).
#include "upsample_op.h"

#include "parallel.h"

namespace simdnet {
namespace {

template <typename Kernel>
void over_planes(const UpsampleShape& s, int64_t planes, Kernel&& kernel) {
  // Work per plane: one (nearest) or four (bilinear) reads per output value.
  const double work = static_cast<double>(planes) * static_cast<double>(s.oh * s.ow) * (s.bilinear ? 4.0 : 1.0);
  parallel_columns(planes, 1, work, [&](int64_t begin, int64_t end) { kernel(PlaneRange{begin, end}); });
}

}  // namespace

void upsample2d_forward_op(float* out, const float* inp, const UpsampleShape& s, int64_t planes) {
  const KernelTable& t = kernels();
  over_planes(s, planes, [&](PlaneRange r) { t.upsample2d_forward(out, inp, s, r); });
}

void upsample2d_backward_op(float* dinp, const float* dout, const UpsampleShape& s, int64_t planes) {
  const KernelTable& t = kernels();
  over_planes(s, planes, [&](PlaneRange r) { t.upsample2d_backward(dinp, dout, s, r); });
}

}  // namespace simdnet
