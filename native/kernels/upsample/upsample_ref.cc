// SPDX-License-Identifier: MIT
// Reference upsample kernels (the only variant: see upsample.h). Indices and weights per output row and column are
// recomputed from the closed forms, so the kernels need no tables (and allocate nothing).
#include "kernels/upsample/upsample.h"

namespace simdnet {

void upsample2d_forward_ref(float* out, const float* inp, const UpsampleShape& s, PlaneRange r) {
  for (int64_t p = r.begin; p < r.end; ++p) {
    const float* src = inp + p * s.h * s.w;
    float* dst = out + p * s.oh * s.ow;
    for (int64_t y = 0; y < s.oh; ++y) {
      if (!s.bilinear) {
        const float* row = src + upsample_nearest_index(y, s.h, s.oh, s.scale_h) * s.w;
        for (int64_t x = 0; x < s.ow; ++x) dst[y * s.ow + x] = row[upsample_nearest_index(x, s.w, s.ow, s.scale_w)];
        continue;
      }
      const LinearTap ty = upsample_linear_tap(y, s.h, s.oh, s.align_corners, s.scale_h);
      const float* r0 = src + ty.i0 * s.w;
      const float* r1 = src + ty.i1 * s.w;
      for (int64_t x = 0; x < s.ow; ++x) {
        const LinearTap tx = upsample_linear_tap(x, s.w, s.ow, s.align_corners, s.scale_w);
        const float t0 = r0[tx.i0] * tx.l0 + r0[tx.i1] * tx.l1;
        const float t1 = r1[tx.i0] * tx.l0 + r1[tx.i1] * tx.l1;
        dst[y * s.ow + x] = t0 * ty.l0 + t1 * ty.l1;
      }
    }
  }
}

void upsample2d_backward_ref(float* dinp, const float* dout, const UpsampleShape& s, PlaneRange r) {
  for (int64_t p = r.begin; p < r.end; ++p) {
    float* dst = dinp + p * s.h * s.w;
    const float* src = dout + p * s.oh * s.ow;
    for (int64_t y = 0; y < s.oh; ++y) {
      if (!s.bilinear) {
        float* row = dst + upsample_nearest_index(y, s.h, s.oh, s.scale_h) * s.w;
        for (int64_t x = 0; x < s.ow; ++x) row[upsample_nearest_index(x, s.w, s.ow, s.scale_w)] += src[y * s.ow + x];
        continue;
      }
      const LinearTap ty = upsample_linear_tap(y, s.h, s.oh, s.align_corners, s.scale_h);
      float* r0 = dst + ty.i0 * s.w;
      float* r1 = dst + ty.i1 * s.w;
      for (int64_t x = 0; x < s.ow; ++x) {
        const LinearTap tx = upsample_linear_tap(x, s.w, s.ow, s.align_corners, s.scale_w);
        const float g = src[y * s.ow + x];
        r0[tx.i0] += ty.l0 * tx.l0 * g;
        r0[tx.i1] += ty.l0 * tx.l1 * g;
        r1[tx.i0] += ty.l1 * tx.l0 * g;
        r1[tx.i1] += ty.l1 * tx.l1 * g;
      }
    }
  }
}

}  // namespace simdnet
