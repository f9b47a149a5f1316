// SPDX-License-Identifier: MIT
// The avx512 batch norm kernels: batchnorm_impl.inc compiled with avx512 flags (see binding.gyp).
#include <cmath>
#include <cstring>

#include "batchnorm.h"

namespace simdnet {
namespace avx512 {

#define SN_BN_NAME(name) name
#include "batchnorm_impl.inc"
#undef SN_BN_NAME

}  // namespace avx512
}  // namespace simdnet
