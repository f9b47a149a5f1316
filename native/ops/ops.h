// SPDX-License-Identifier: MIT
// Whole-batch operations the binding calls: they pick the kernels from the current table, split
// the batch across threads and own the scratch memory. Same buffer conventions as the kernels
// (forward overwrites, backward accumulates); results do not depend on the thread count.
#pragma once
#include "dispatch.h"

namespace simdnet {

// out = conv(inp, w) + b, then max(out, 0) when fuse_relu.
void conv2d_forward_op(float* out, const float* inp, const float* w, const float* b, const Conv2dShape& s,
                       bool fuse_relu);
void conv2d_backward_op(float* dinp, float* dw, float* db, const float* dout, const float* inp, const float* w,
                        const Conv2dShape& s);

void maxpool2d_forward_op(float* out, int32_t* argmax, const float* inp, const Pool2dShape& s);
void maxpool2d_backward_op(float* dinp, const float* dout, const int32_t* argmax, const Pool2dShape& s);

void dense_forward_op(float* out, const float* inp, const float* w, const float* b, const DenseShape& s);
void dense_backward_op(float* dinp, float* dw, float* db, const float* dout, const float* inp, const float* w,
                       const DenseShape& s);

// Thread count for the parallel ops (>= 1; num_threads() is in parallel.h); the default is one per physical core.
void set_num_threads(int n);
int default_num_threads();

}  // namespace simdnet
