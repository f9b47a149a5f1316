// SPDX-License-Identifier: MIT
// Portable reference softmax cross-entropy (log-sum-exp with max subtraction, sums in double).
#include "loss.h"

#include <cmath>

namespace simdnet {

double cross_entropy_forward_ref(float* probs, const float* logits, const int32_t* targets,
                                 const CrossEntropyShape& s) {
  double total = 0.0;
  for (int64_t i = 0; i < s.batch; ++i) {
    const float* z = logits + i * s.classes;
    float* p = probs + i * s.classes;
    float zmax = z[0];
    for (int64_t k = 1; k < s.classes; ++k) zmax = z[k] > zmax ? z[k] : zmax;
    double sum = 0.0;
    for (int64_t k = 0; k < s.classes; ++k) sum += std::exp(static_cast<double>(z[k]) - zmax);
    const double log_sum = std::log(sum);
    for (int64_t k = 0; k < s.classes; ++k) p[k] = static_cast<float>(std::exp(z[k] - zmax - log_sum));
    total += log_sum + zmax - z[targets[i]];
  }
  return total / static_cast<double>(s.batch);
}

void cross_entropy_backward_ref(float* dlogits, const float* probs, const int32_t* targets, float scale,
                                const CrossEntropyShape& s) {
  const float f = scale / static_cast<float>(s.batch);
  for (int64_t i = 0; i < s.batch; ++i) {
    const float* p = probs + i * s.classes;
    float* d = dlogits + i * s.classes;
    for (int64_t k = 0; k < s.classes; ++k) d[k] += f * (p[k] - (k == targets[i] ? 1.0f : 0.0f));
  }
}

}  // namespace simdnet
