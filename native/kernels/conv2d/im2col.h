// SPDX-License-Identifier: MIT
// im2col / col2im for one image and one group of a conv2d: the bridge from convolution to GEMM.
#pragma once
#include <cstdint>

#include "conv2d.h"

namespace simdnet {

// col [K x P] with row stride ldcol (>= P), K = channels*KH*KW rows ordered (c, ky, kx),
// P = OH*OW columns ordered (oy, ox), from inp [channels, H, W]; out-of-image taps are 0.
// A row stride above P lets several images sit side by side in one matrix.
void im2col(float* col, int64_t ldcol, const float* inp, int64_t channels, const Conv2dShape& s);

// dinp [channels, H, W] += the sum of col [K x P] (row stride ldcol) entries that read each input position.
void col2im_add(float* dinp, const float* col, int64_t ldcol, int64_t channels, const Conv2dShape& s);

// True when the convolution reads its input as-is (1x1, stride 1, no padding): col == input.
inline bool conv_is_pointwise(const Conv2dShape& s) {
  return s.kh == 1 && s.kw == 1 && s.sh == 1 && s.sw == 1 && s.ph == 0 && s.pw == 0;
}

}  // namespace simdnet
