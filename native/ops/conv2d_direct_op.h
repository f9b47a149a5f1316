// SPDX-License-Identifier: MIT
// The direct (no im2col) conv2d path of the ops layer, for stride-1 convolutions with wide rows.
#pragma once
#include "dispatch.h"

namespace simdnet {

// True when the current table has direct kernels and the shape suits them.
bool conv2d_direct_applies(const Conv2dShape& s, const KernelTable& t);
bool conv2d_direct_backward_applies(const Conv2dShape& s, const KernelTable& t, bool want_dinput);

void conv2d_direct_forward_op(const KernelTable& t, float* out, const float* inp, const float* w, const float* b,
                              const Conv2dShape& s, bool fuse_relu);
void conv2d_direct_backward_op(const KernelTable& t, float* dinp, float* dw, float* db, const float* dout,
                               const float* inp, const float* w, const Conv2dShape& s);

}  // namespace simdnet
