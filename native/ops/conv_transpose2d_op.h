// SPDX-License-Identifier: MIT
// ConvTranspose2d's forward pass as the input gradient of a Conv2d (no kernels of its own): the binding
// (binding_conv_transpose.cc) and inference programs (program.cc) call it. Its backward is a Conv2d forward and a
// Conv2d weight gradient, which lib/modules/conv-transpose2d.ts runs through the conv2d exports.
#pragma once
#include "dispatch.h"

namespace simdnet {

// out [N, C, H, W] = conv^T(inp [N, OC, OH, OW], w [OC, C/groups, KH, KW]) + b [C] (b may be null), where `s` is the
// shape of the Conv2d whose input is `out` and whose output is `inp` (so s.c is the transposed conv's output channels
// and s.oc its input channels; conv_output_size(s.h) == s.oh). Overwrites out.
void conv_transpose2d_forward_op(float* out, const float* inp, const float* w, const float* b, const Conv2dShape& s);

}  // namespace simdnet
