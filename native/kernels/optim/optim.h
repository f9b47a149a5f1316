// SPDX-License-Identifier: MIT
// Optimizer update kernels over flat parameter buffers.
#pragma once
#include <cstdint>

namespace simdnet {

struct AdamHyper {
  double lr, beta1, beta2, eps, weight_decay;
  int64_t step;  // 1 for the first update (after incrementing), as torch.optim.Adam counts
};

// torch.optim.Adam (amsgrad=False, maximize=False): g = grad + wd * param; m = b1 m + (1-b1) g;
// v = b2 v + (1-b2) g^2; param -= lr / (1-b1^t) * m / (sqrt(v) / sqrt(1-b2^t) + eps).
void adam_step_ref(float* param, float* m, float* v, const float* grad, const AdamHyper& h, int64_t count);

// The same kernels compiled per ISA (<op>_<isa>.cc).
#define SN_DECLARE_ADAM(isa)                                                                              \
  namespace isa {                                                                                         \
  void adam_step(float* param, float* m, float* v, const float* grad, const AdamHyper& h, int64_t count); \
  }
SN_DECLARE_ADAM(avx2)
SN_DECLARE_ADAM(avx512)
SN_DECLARE_ADAM(neon)
SN_DECLARE_ADAM(simd128)
#undef SN_DECLARE_ADAM

}  // namespace simdnet
