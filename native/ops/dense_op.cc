// SPDX-License-Identifier: MIT
// Linear layer over a batch as GEMMs: y = x W^T (dot products), dx = dy W, dW = dy^T x.
// Threads split output columns, so each value is computed by one thread in a fixed order.
#include "ops.h"
#include "parallel.h"
#include "scratch.h"

namespace simdnet {

void dense_forward_op(float* out, const float* inp, const float* w, const float* b, const DenseShape& s, bool relu) {
  const KernelTable& t = kernels();
  if (!t.use_gemm) {
    run_once([&] {  // once inside a program's parallel region too
      t.dense_forward(out, inp, w, b, s);
      if (relu) t.relu_forward(out, out, s.batch * s.out);
    });
    return;
  }
  // Each part writes its own columns, bias and ReLU included (sgemm_nt adds them as it stores): parts write nothing
  // else, so every member of a program's parallel region can run this (they share the parts).
  const double flops = 2.0 * s.batch * s.out * s.in;
  parallel_columns(s.out, 4, flops, [&](int64_t o0, int64_t o1) {
    t.sgemm_nt({s.batch, o1 - o0, s.in, inp, s.in, w + o0 * s.in, s.in, out + o0, s.out, false,
                b != nullptr ? b + o0 : nullptr, relu});
  });
}

void dense_backward_op(float* dinp, float* dw, float* db, const float* dout, const float* inp, const float* w,
                       const DenseShape& s) {
  const KernelTable& t = kernels();
  if (!t.use_gemm) {
    t.dense_backward(dinp, dw, db, dout, inp, w, s);
    return;
  }
  const double flops = 2.0 * s.batch * s.out * s.in;
  if (dinp != nullptr) {
    // dx [B x IN] += dy [B x OUT] * W [OUT x IN]
    parallel_columns(s.in, 64, flops, [&](int64_t k0, int64_t k1) {
      float* ws = thread_scratch(ScratchSlot::kGemm, sgemm_workspace_floats(s.batch, k1 - k0, s.out));
      t.sgemm({s.batch, k1 - k0, s.out, dout, s.out, 1, w + k0, s.in, dinp + k0, s.in, true}, ws);
    });
  }
  if (dw != nullptr) {
    // dW [OUT x IN] += dy^T [OUT x B] * x [B x IN]
    parallel_columns(s.in, 64, flops, [&](int64_t k0, int64_t k1) {
      float* ws = thread_scratch(ScratchSlot::kGemm, sgemm_workspace_floats(s.out, k1 - k0, s.batch));
      t.sgemm({s.out, k1 - k0, s.batch, dout, 1, s.out, inp + k0, s.in, dw + k0, s.in, true}, ws);
    });
  }
  if (db != nullptr) {
    for (int64_t i = 0; i < s.batch; ++i)
      for (int64_t o = 0; o < s.out; ++o) db[o] += dout[i * s.out + o];
  }
}

}  // namespace simdnet
