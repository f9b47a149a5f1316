// SPDX-License-Identifier: MIT
// The avx2 batch norm kernels: batchnorm_impl.inc compiled with avx2 flags (see binding.gyp).
#include <cmath>
#include <cstring>

#include "batchnorm.h"

namespace simdnet {
namespace avx2 {

#define SN_BN_NAME(name) name
#include "batchnorm_impl.inc"
#undef SN_BN_NAME

}  // namespace avx2
}  // namespace simdnet
