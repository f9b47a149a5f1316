// SPDX-License-Identifier: MIT
// im2col / col2im loops (portable; the stride-1 inner loops are plain copies the compiler vectorises).
#include "im2col.h"

#include <algorithm>
#include <cstring>

namespace simdnet {
namespace {

// Output columns ox whose input column ox*stride + offset lies in [0, in).
inline void valid_range(int64_t out_len, int64_t in_len, int64_t offset, int64_t stride, int64_t* begin, int64_t* end) {
  int64_t b = offset >= 0 ? 0 : (-offset + stride - 1) / stride;
  int64_t e = in_len - offset <= 0 ? 0 : (in_len - offset - 1) / stride + 1;
  b = std::min(b, out_len);
  *begin = b;
  *end = std::max(b, std::min(e, out_len));
}

}  // namespace

void im2col(float* col, int64_t ldcol, const float* inp, int64_t channels, const Conv2dShape& s) {
  for (int64_t c = 0; c < channels; ++c) {
    const float* plane = inp + c * s.h * s.w;
    for (int64_t ky = 0; ky < s.kh; ++ky) {
      const int64_t yoff = ky * s.dh - s.ph;
      int64_t y0, y1;
      valid_range(s.oh, s.h, yoff, s.sh, &y0, &y1);
      for (int64_t kx = 0; kx < s.kw; ++kx) {
        float* row = col + ((c * s.kh + ky) * s.kw + kx) * ldcol;
        const int64_t xoff = kx * s.dw - s.pw;
        int64_t x0, x1;
        valid_range(s.ow, s.w, xoff, s.sw, &x0, &x1);
        std::memset(row, 0, sizeof(float) * static_cast<size_t>(y0 * s.ow));
        for (int64_t oy = y0; oy < y1; ++oy) {
          float* dst = row + oy * s.ow;
          const float* src = plane + (oy * s.sh + yoff) * s.w + xoff;
          for (int64_t ox = 0; ox < x0; ++ox) dst[ox] = 0.0f;
          if (s.sw == 1) {
            for (int64_t ox = x0; ox < x1; ++ox) dst[ox] = src[ox];  // rows are short: no memcpy call
          } else {
            for (int64_t ox = x0; ox < x1; ++ox) dst[ox] = src[ox * s.sw];
          }
          for (int64_t ox = x1; ox < s.ow; ++ox) dst[ox] = 0.0f;
        }
        std::memset(row + y1 * s.ow, 0, sizeof(float) * static_cast<size_t>((s.oh - y1) * s.ow));
      }
    }
  }
}

void col2im_add(float* dinp, const float* col, int64_t ldcol, int64_t channels, const Conv2dShape& s) {
  for (int64_t c = 0; c < channels; ++c) {
    float* plane = dinp + c * s.h * s.w;
    for (int64_t ky = 0; ky < s.kh; ++ky) {
      const int64_t yoff = ky * s.dh - s.ph;
      int64_t y0, y1;
      valid_range(s.oh, s.h, yoff, s.sh, &y0, &y1);
      for (int64_t kx = 0; kx < s.kw; ++kx) {
        const float* row = col + ((c * s.kh + ky) * s.kw + kx) * ldcol;
        const int64_t xoff = kx * s.dw - s.pw;
        int64_t x0, x1;
        valid_range(s.ow, s.w, xoff, s.sw, &x0, &x1);
        for (int64_t oy = y0; oy < y1; ++oy) {
          const float* src = row + oy * s.ow;
          float* dst = plane + (oy * s.sh + yoff) * s.w + xoff;
          if (s.sw == 1) {
            for (int64_t ox = x0; ox < x1; ++ox) dst[ox] += src[ox];
          } else {
            for (int64_t ox = x0; ox < x1; ++ox) dst[ox * s.sw] += src[ox];
          }
        }
      }
    }
  }
}

}  // namespace simdnet
