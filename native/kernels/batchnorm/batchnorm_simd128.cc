// SPDX-License-Identifier: MIT
// The simd128 batch norm kernels: batchnorm_impl.inc compiled with simd128 flags (see binding.gyp).
#include <cmath>
#include <cstring>

#include "batchnorm.h"

namespace simdnet {
namespace simd128 {

#define SN_BN_NAME(name) name
#include "batchnorm_impl.inc"
#undef SN_BN_NAME

}  // namespace simd128
}  // namespace simdnet
