// SPDX-License-Identifier: MIT
// Portable reference softmax cross-entropy: loss_impl.inc with baseline compiler flags, in namespace
// ref, behind the *_ref names the table and tests use.
#include <cmath>
#include <cstdint>

#include "loss.h"

namespace simdnet {
namespace ref {
#include "loss_impl.inc"
}  // namespace ref

double cross_entropy_forward_ref(float* probs, const float* logits, const int32_t* targets,
                                 const CrossEntropyShape& s) {
  return ref::cross_entropy_forward(probs, logits, targets, s);
}

void cross_entropy_backward_ref(float* dlogits, const float* probs, const int32_t* targets, float scale,
                                const CrossEntropyShape& s) {
  ref::cross_entropy_backward(dlogits, probs, targets, scale, s);
}

}  // namespace simdnet
