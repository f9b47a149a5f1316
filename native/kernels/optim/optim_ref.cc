// SPDX-License-Identifier: MIT
// Portable reference Adam step, following torch/optim/adam.py (_single_tensor_adam) operation for operation.
#include "optim.h"

#include <cmath>

namespace simdnet {

void adam_step_ref(float* param, float* m, float* v, const float* grad, const AdamHyper& h, int64_t count) {
  // Scalars in double, as PyTorch computes them in Python floats before the tensor ops.
  const double bias_correction1 = 1.0 - std::pow(h.beta1, static_cast<double>(h.step));
  const double bias_correction2 = 1.0 - std::pow(h.beta2, static_cast<double>(h.step));
  const float step_size = static_cast<float>(h.lr / bias_correction1);
  const float bc2_sqrt = static_cast<float>(std::sqrt(bias_correction2));
  const float b1 = static_cast<float>(h.beta1), b2 = static_cast<float>(h.beta2);
  const float one_minus_b1 = static_cast<float>(1.0 - h.beta1), one_minus_b2 = static_cast<float>(1.0 - h.beta2);
  const float wd = static_cast<float>(h.weight_decay), eps = static_cast<float>(h.eps);
  for (int64_t i = 0; i < count; ++i) {
    float g = grad[i];
    if (wd != 0.0f) g += wd * param[i];
    m[i] = m[i] * b1 + one_minus_b1 * g;
    v[i] = v[i] * b2 + one_minus_b2 * g * g;
    const float denom = std::sqrt(v[i]) / bc2_sqrt + eps;
    param[i] -= step_size * (m[i] / denom);
  }
}

}  // namespace simdnet
