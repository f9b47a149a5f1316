// SPDX-License-Identifier: MIT
// Softmax cross-entropy over a batch: the current table's kernel on the calling thread, so the
// mean's double sum runs in one fixed order (see ops.h).
#include "ops.h"

namespace simdnet {

double cross_entropy_forward_op(float* probs, const float* logits, const int32_t* targets, const CrossEntropyShape& s) {
  return kernels().cross_entropy_forward(probs, logits, targets, s);
}

void cross_entropy_backward_op(float* dlogits, const float* probs, const int32_t* targets, float scale,
                               const CrossEntropyShape& s) {
  kernels().cross_entropy_backward(dlogits, probs, targets, scale, s);
}

}  // namespace simdnet
