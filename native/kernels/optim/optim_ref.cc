// SPDX-License-Identifier: MIT
// Portable reference Adam step: optim_impl.inc with baseline compiler flags, in namespace ref,
// behind the *_ref name the table and tests use.
#include <cmath>
#include <cstdint>

#include "optim.h"

namespace simdnet {
namespace ref {
#include "optim_impl.inc"
}  // namespace ref

void adam_step_ref(float* param, float* m, float* v, const float* grad, const AdamHyper& h, int64_t count) {
  ref::adam_step(param, m, v, grad, h, count);
}

}  // namespace simdnet
