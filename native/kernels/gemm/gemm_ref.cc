// SPDX-License-Identifier: MIT
// Portable scalar sgemm: the reference the SIMD variants are tested against.
#include "gemm.h"

namespace simdnet {

void sgemm_ref(const GemmArgs& g, float* /*workspace*/) {
  for (int64_t i = 0; i < g.m; ++i) {
    float* crow = g.c + i * g.ldc;
    if (!g.accumulate) {
      for (int64_t j = 0; j < g.n; ++j) crow[j] = 0.0f;
    }
    for (int64_t p = 0; p < g.k; ++p) {
      const float aip = g.a[i * g.a_rs + p * g.a_cs];
      const float* brow = g.b + p * g.ldb;
      for (int64_t j = 0; j < g.n; ++j) crow[j] += aip * brow[j];
    }
  }
}

void sgemm_nt_ref(const GemmNTArgs& g) {
  for (int64_t i = 0; i < g.m; ++i) {
    const float* arow = g.a + i * g.lda;
    for (int64_t j = 0; j < g.n; ++j) {
      const float* brow = g.b + j * g.ldb;
      float acc = 0.0f;
      for (int64_t p = 0; p < g.k; ++p) acc += arow[p] * brow[p];
      float* cij = g.c + i * g.ldc + j;
      const float v = g.accumulate ? *cij + acc : g.bias != nullptr ? g.bias[j] + acc : acc;
      *cij = g.relu && v < 0.0f ? 0.0f : v;
    }
  }
}

}  // namespace simdnet
