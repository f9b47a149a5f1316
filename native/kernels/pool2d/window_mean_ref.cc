// SPDX-License-Identifier: MIT
// Reference window-mean kernels: the loops AvgPool2d and AdaptiveAvgPool2d ran in TypeScript, with the
// same operations in the same order, so results are bit-identical to them (no SIMD variant).
#include "kernels/pool2d/window_mean.h"

namespace simdnet {

void window_mean_forward_ref(float* out, const float* inp, const WindowMeanShape& s, PlaneRange r) {
  for (int64_t p = r.begin; p < r.end; ++p) {
    const float* src = inp + p * s.h * s.w;
    float* dst = out + p * s.oh * s.ow;
    for (int64_t y = 0; y < s.oh; ++y) {
      const int64_t i0 = s.row_start[y], i1 = s.row_end[y];
      for (int64_t x = 0; x < s.ow; ++x) {
        const int64_t j0 = s.col_start[x], j1 = s.col_end[x];
        if (i0 >= i1 || j0 >= j1) {
          dst[y * s.ow + x] = 0.0f;
          continue;
        }
        // double sums in row-major order, one division in double, one rounding to float (as JS did).
        double sum = 0.0;
        for (int64_t i = i0; i < i1; ++i) {
          const float* row = src + i * s.w;
          for (int64_t j = j0; j < j1; ++j) sum += static_cast<double>(row[j]);
        }
        dst[y * s.ow + x] = static_cast<float>(sum / s.divisor[y * s.ow + x]);
      }
    }
  }
}

void window_mean_backward_ref(float* dinp, const float* dout, const WindowMeanShape& s, PlaneRange r) {
  for (int64_t p = r.begin; p < r.end; ++p) {
    float* dst = dinp + p * s.h * s.w;
    const float* src = dout + p * s.oh * s.ow;
    for (int64_t y = 0; y < s.oh; ++y) {
      const int64_t i0 = s.row_start[y], i1 = s.row_end[y];
      for (int64_t x = 0; x < s.ow; ++x) {
        const int64_t j0 = s.col_start[x], j1 = s.col_end[x];
        if (i0 >= i1 || j0 >= j1) continue;  // the divisor of an empty window is not read (may be 0)
        // float += float is the correctly rounded sum, as JS's double sum rounded to float (53 >= 2*24 + 2).
        const float g = static_cast<float>(static_cast<double>(src[y * s.ow + x]) / s.divisor[y * s.ow + x]);
        for (int64_t i = i0; i < i1; ++i) {
          float* row = dst + i * s.w;
          for (int64_t j = j0; j < j1; ++j) row[j] += g;
        }
      }
    }
  }
}

}  // namespace simdnet
