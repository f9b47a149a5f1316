// SPDX-License-Identifier: MIT
// Softmax cross-entropy on logits with integer class targets, mean over the batch.
#pragma once
#include <cstdint>

namespace simdnet {

struct CrossEntropyShape {
  int64_t batch, classes;
};

// probs [B, K] = softmax(logits [B, K]) (saved for backward); returns mean_b -log softmax(logits_b)[t_b].
// targets [B] must be in [0, K) (the binding checks).
double cross_entropy_forward_ref(float* probs, const float* logits, const int32_t* targets, const CrossEntropyShape& s);

// dlogits [B, K] += scale * (probs - onehot(targets)) / B; scale is the upstream gradient of the loss.
void cross_entropy_backward_ref(float* dlogits, const float* probs, const int32_t* targets, float scale,
                                const CrossEntropyShape& s);

// The same kernels compiled per ISA (<op>_<isa>.cc).
#define SN_DECLARE_LOSS(isa)                                                                                           \
  namespace isa {                                                                                                      \
  double cross_entropy_forward(float* probs, const float* logits, const int32_t* targets, const CrossEntropyShape& s); \
  void cross_entropy_backward(float* dlogits, const float* probs, const int32_t* targets, float scale,                 \
                              const CrossEntropyShape& s);                                                             \
  }
SN_DECLARE_LOSS(avx2)
SN_DECLARE_LOSS(avx512)
SN_DECLARE_LOSS(neon)
SN_DECLARE_LOSS(simd128)
#undef SN_DECLARE_LOSS

}  // namespace simdnet
