// SPDX-License-Identifier: MIT
// Portable reference batch normalisation: forward (train, eval) and backward (train, eval) over [N, C, S]
// (batchnorm_impl.inc) with baseline flags.
#include <cmath>
#include <cstring>

#include "batchnorm.h"

namespace simdnet {

#define SN_BN_NAME(name) name##_ref
#include "batchnorm_impl.inc"
#undef SN_BN_NAME

}  // namespace simdnet
