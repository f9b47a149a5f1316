// SPDX-License-Identifier: MIT
// ConvTranspose2d forward through conv2d_backward_op's input gradient (every conv path: direct, channel, GEMM),
// then the bias.
#include "conv_transpose2d_op.h"

#include <cstring>

#include "ops.h"
#include "parallel.h"

namespace simdnet {

void conv_transpose2d_forward_op(float* out, const float* inp, const float* w, const float* b, const Conv2dShape& s) {
  const int64_t plane = s.h * s.w;
  std::memset(out, 0, sizeof(float) * static_cast<size_t>(s.n * s.c * plane));
  // The backward op accumulates into dinp; with dw and db null it reads no conv input, but the reference kernel forms
  // pointers into it, so it gets `out` (the same size) rather than null.
  conv2d_backward_op(out, nullptr, nullptr, inp, out, w, s);
  if (b == nullptr) return;
  parallel_for(s.n * s.c, [&](int64_t i) {
    float* p = out + i * plane;
    const float v = b[i % s.c];
    for (int64_t k = 0; k < plane; ++k) p[k] += v;
  });
}

}  // namespace simdnet
