// SPDX-License-Identifier: MIT
// Portable reference conv2d, forward and backward: direct loops, no intrinsics.
// Buffers: inp [N, C, H, W], w [OC, C/G, KH, KW], b [OC], out/dout [N, OC, OH, OW].
// The innermost loop runs along an output row so the compiler can vectorise it when stride is 1.
#include "conv2d.h"

#include <algorithm>

namespace simdnet {
namespace {

// Range of output columns ox in [0, ow) whose input column ox*stride + kx*dil - pad lies in [0, in).
struct ValidRange {
  int64_t begin, end;
};

inline ValidRange valid_outputs(int64_t out_len, int64_t in_len, int64_t offset, int64_t stride) {
  // need 0 <= o*stride + offset < in_len
  int64_t begin = offset >= 0 ? 0 : (-offset + stride - 1) / stride;
  int64_t end = in_len - offset <= 0 ? 0 : (in_len - offset - 1) / stride + 1;
  begin = std::min(begin, out_len);
  end = std::max(begin, std::min(end, out_len));
  return {begin, end};
}

}  // namespace

void conv2d_add_residual(float* out, const ConvResidual& r, int64_t oc, int64_t oh, int64_t ow, int64_t y0, int64_t y1,
                         bool relu) {
  // Whole bands of a plane per loop where they are contiguous (8-pixel rows barely start a vector loop).
  const int64_t band = (y1 - y0) * ow;
  const bool contiguous = r.col_step == 1 && r.row_stride == ow;
  for (int64_t o = 0; o < oc; ++o) {
    float* dst = out + o * oh * ow + y0 * ow;
    if (!r.covers(o)) {
      if (relu)
        for (int64_t i = 0; i < band; ++i) dst[i] = dst[i] < 0.0f ? 0.0f : dst[i];
      continue;
    }
    if (contiguous) {  // the compiler vectorises this loop
      const float* res = r.row(o, y0);
      for (int64_t i = 0; i < band; ++i) {
        const float v = dst[i] + res[i];
        dst[i] = relu && v < 0.0f ? 0.0f : v;
      }
      continue;
    }
    for (int64_t y = y0; y < y1; ++y, dst += ow) {
      const float* res = r.row(o, y);
      for (int64_t x = 0; x < ow; ++x) {
        const float v = dst[x] + res[x * r.col_step];
        dst[x] = relu && v < 0.0f ? 0.0f : v;
      }
    }
  }
}

void conv2d_forward_ref(float* out, const float* inp, const float* w, const float* b, const Conv2dShape& s) {
  const int64_t icg = s.c / s.groups, ocg = s.oc / s.groups;
  const int64_t out_plane = s.oh * s.ow, in_plane = s.h * s.w;
  for (int64_t n = 0; n < s.n; ++n) {
    for (int64_t o = 0; o < s.oc; ++o) {
      float* op = out + (n * s.oc + o) * out_plane;
      const float bias = b ? b[o] : 0.0f;
      std::fill(op, op + out_plane, bias);
      const int64_t g = o / ocg;
      for (int64_t ci = 0; ci < icg; ++ci) {
        const float* ip = inp + (n * s.c + g * icg + ci) * in_plane;
        const float* wp = w + (o * icg + ci) * s.kh * s.kw;
        for (int64_t ky = 0; ky < s.kh; ++ky) {
          const ValidRange ry = valid_outputs(s.oh, s.h, ky * s.dh - s.ph, s.sh);
          for (int64_t kx = 0; kx < s.kw; ++kx) {
            const float wv = wp[ky * s.kw + kx];
            const int64_t xoff = kx * s.dw - s.pw;
            const ValidRange rx = valid_outputs(s.ow, s.w, xoff, s.sw);
            for (int64_t oy = ry.begin; oy < ry.end; ++oy) {
              const float* irow = ip + (oy * s.sh + ky * s.dh - s.ph) * s.w + xoff;
              float* orow = op + oy * s.ow;
              if (s.sw == 1) {
                for (int64_t ox = rx.begin; ox < rx.end; ++ox) orow[ox] += wv * irow[ox];
              } else {
                for (int64_t ox = rx.begin; ox < rx.end; ++ox) orow[ox] += wv * irow[ox * s.sw];
              }
            }
          }
        }
      }
    }
  }
}

// Gradients of y[n,o,oy,ox] = b[o] + sum w[o,ci,ky,kx] x[n,g*icg+ci, oy*sh+ky*dh-ph, ox*sw+kx*dw-pw]:
// dx scatters dy through the same index map, dw correlates x with dy, db sums dy.
void conv2d_backward_ref(float* dinp, float* dw, float* db, const float* dout, const float* inp, const float* w,
                         const Conv2dShape& s) {
  const int64_t icg = s.c / s.groups, ocg = s.oc / s.groups;
  const int64_t out_plane = s.oh * s.ow, in_plane = s.h * s.w;
  for (int64_t n = 0; n < s.n; ++n) {
    for (int64_t o = 0; o < s.oc; ++o) {
      const float* gp = dout + (n * s.oc + o) * out_plane;
      if (db) {
        double acc = 0.0;
        for (int64_t i = 0; i < out_plane; ++i) acc += gp[i];
        db[o] += static_cast<float>(acc);
      }
      const int64_t g = o / ocg;
      for (int64_t ci = 0; ci < icg; ++ci) {
        const int64_t in_index = (n * s.c + g * icg + ci) * in_plane;
        const float* ip = inp + in_index;
        const int64_t w_index = (o * icg + ci) * s.kh * s.kw;
        for (int64_t ky = 0; ky < s.kh; ++ky) {
          const ValidRange ry = valid_outputs(s.oh, s.h, ky * s.dh - s.ph, s.sh);
          for (int64_t kx = 0; kx < s.kw; ++kx) {
            const int64_t xoff = kx * s.dw - s.pw;
            const ValidRange rx = valid_outputs(s.ow, s.w, xoff, s.sw);
            const float wv = w[w_index + ky * s.kw + kx];
            float wacc = 0.0f;
            for (int64_t oy = ry.begin; oy < ry.end; ++oy) {
              const int64_t row = (oy * s.sh + ky * s.dh - s.ph) * s.w + xoff;
              const float* grow = gp + oy * s.ow;
              if (dw) {
                const float* irow = ip + row;
                for (int64_t ox = rx.begin; ox < rx.end; ++ox) wacc += grow[ox] * irow[ox * s.sw];
              }
              if (dinp) {
                float* drow = dinp + in_index + row;
                for (int64_t ox = rx.begin; ox < rx.end; ++ox) drow[ox * s.sw] += wv * grow[ox];
              }
            }
            if (dw) dw[w_index + ky * s.kw + kx] += wacc;
          }
        }
      }
    }
  }
}

}  // namespace simdnet
