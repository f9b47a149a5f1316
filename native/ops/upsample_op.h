// SPDX-License-Identifier: MIT
// Upsample over a batch of planes (kernels/upsample/upsample.h has the maths): each thread takes a range of whole
// planes, so a plane's values never depend on the thread count.
#pragma once
#include "dispatch.h"

namespace simdnet {

void upsample2d_forward_op(float* out, const float* inp, const UpsampleShape& s, int64_t planes);
void upsample2d_backward_op(float* dinp, const float* dout, const UpsampleShape& s, int64_t planes);

}  // namespace simdnet
