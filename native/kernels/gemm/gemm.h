// SPDX-License-Identifier: MIT
// Single-precision matrix multiply C = A B (+ C): the engine behind conv2d and linear.
// One single-threaded implementation per ISA; the ops layer (native/ops) splits work across threads.
#pragma once
#include <cstdint>

namespace simdnet {

// Row-major C[m x n] = (accumulate ? C : 0) + A[m x k] * B[k x n].
// A is read through strides (element (i, p) at a[i * a_rs + p * a_cs]), so a transposed A is free;
// B is row-major with row stride ldb and unit column stride; C has row stride ldc.
struct GemmArgs {
  int64_t m, n, k;
  const float* a;
  int64_t a_rs, a_cs;
  const float* b;
  int64_t ldb;
  float* c;
  int64_t ldc;
  bool accumulate;
};

// Floats of scratch memory any sgemm variant needs for these sizes (packed A, one padded B
// panel and one C tile for the right edge). The caller provides it; kernels never allocate.
inline int64_t sgemm_workspace_floats(int64_t m, int64_t n, int64_t k) {
  (void)n;
  constexpr int64_t kMaxMr = 8, kMaxNr = 64;
  return (m + kMaxMr) * k + k * kMaxNr + kMaxMr * kMaxNr + 64;
}

// Row-major C[m x n] = (accumulate ? C : bias) + A[m x k] * B[n x k]^T, then max(0, .) if relu: dot products
// along k, both operands read in place with unit stride along k (no packing, no workspace). Serves x W^T
// with PyTorch's [out, in] weights (bias [n] and the ReLU fused: a linear layer's forward in one pass) and
// the weight gradient of a convolution. Without accumulate and bias, C = A B^T.
struct GemmNTArgs {
  int64_t m, n, k;
  const float* a;
  int64_t lda;
  const float* b;
  int64_t ldb;
  float* c;
  int64_t ldc;
  bool accumulate;
  const float* bias = nullptr;  // used without accumulate only
  bool relu = false;
};

// The scalar references: plain loops, no packing (workspace unused).
void sgemm_ref(const GemmArgs& g, float* workspace);
void sgemm_nt_ref(const GemmNTArgs& g);

// Register-tiled variants (gemm_impl.inc compiled once per ISA).
#define SN_DECLARE_GEMM(isa)                       \
  namespace isa {                                  \
  void sgemm(const GemmArgs& g, float* workspace); \
  void sgemm_nt(const GemmNTArgs& g);              \
  }
SN_DECLARE_GEMM(avx2)
SN_DECLARE_GEMM(avx512)
SN_DECLARE_GEMM(neon)
SN_DECLARE_GEMM(simd128)
#undef SN_DECLARE_GEMM

}  // namespace simdnet
