// SPDX-License-Identifier: MIT
// Portable reference max pooling: forward with argmax, backward by scattering through argmax.
#include "pool2d.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace simdnet {

void maxpool2d_forward_ref(float* out, int32_t* argmax, const float* inp, const Pool2dShape& s) {
  const int64_t planes = s.n * s.c, in_plane = s.h * s.w, out_plane = s.oh * s.ow;
  for (int64_t p = 0; p < planes; ++p) {
    const float* ip = inp + p * in_plane;
    float* op = out + p * out_plane;
    int32_t* ap = argmax != nullptr ? argmax + p * out_plane : nullptr;
    for (int64_t oy = 0; oy < s.oh; ++oy) {
      for (int64_t ox = 0; ox < s.ow; ++ox) {
        float best = -std::numeric_limits<float>::infinity();
        int64_t best_index = -1;
        // Only the taps inside the input: a huge padded window costs no more than the image.
        const int64_t y0 = oy * s.sh - s.ph, x0 = ox * s.sw - s.pw;
        const int64_t ky0 = y0 < 0 ? (-y0 + s.dh - 1) / s.dh : 0, ky1 = std::min(s.kh, (s.h - 1 - y0) / s.dh + 1);
        const int64_t kx0 = x0 < 0 ? (-x0 + s.dw - 1) / s.dw : 0, kx1 = std::min(s.kw, (s.w - 1 - x0) / s.dw + 1);
        for (int64_t ky = ky0; ky < ky1; ++ky) {
          const int64_t y = y0 + ky * s.dh;
          for (int64_t kx = kx0; kx < kx1; ++kx) {
            const int64_t x = x0 + kx * s.dw;
            const float v = ip[y * s.w + x];
            // PyTorch's rule (MaxPoolKernel.cpp): strictly greater or NaN replaces, so the first
            // maximum wins a tie and the last NaN wins among NaNs.
            if (best_index < 0 || v > best || std::isnan(v)) {
              best = v;
              best_index = y * s.w + x;
            }
          }
        }
        op[oy * s.ow + ox] = best;
        if (ap != nullptr) ap[oy * s.ow + ox] = static_cast<int32_t>(best_index);
      }
    }
  }
}

void maxpool2d_backward_ref(float* dinp, const float* dout, const int32_t* argmax, const Pool2dShape& s) {
  const int64_t planes = s.n * s.c, in_plane = s.h * s.w, out_plane = s.oh * s.ow;
  for (int64_t p = 0; p < planes; ++p) {
    float* dp = dinp + p * in_plane;
    const float* gp = dout + p * out_plane;
    const int32_t* ap = argmax + p * out_plane;
    for (int64_t i = 0; i < out_plane; ++i) {
      // argmax comes back from JS: ignore an index outside the plane instead of writing out of bounds.
      if (ap[i] >= 0 && ap[i] < in_plane) dp[ap[i]] += gp[i];
    }
  }
}

void maxpool2d_relu_backward_ref(float* dinp, const float* dout, const int32_t* argmax, const float* relu_out,
                                 const Pool2dShape& s) {
  const int64_t planes = s.n * s.c, in_plane = s.h * s.w, out_plane = s.oh * s.ow;
  for (int64_t p = 0; p < planes; ++p) {
    float* dp = dinp + p * in_plane;
    const float* rp = relu_out + p * in_plane;
    const float* gp = dout + p * out_plane;
    const int32_t* ap = argmax + p * out_plane;
    for (int64_t i = 0; i < out_plane; ++i)
      if (ap[i] >= 0 && ap[i] < in_plane) dp[ap[i]] += rp[ap[i]] <= 0.0f ? 0.0f : gp[i];
  }
}

}  // namespace simdnet
