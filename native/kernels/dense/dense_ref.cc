// SPDX-License-Identifier: MIT
// Portable reference linear layer, forward and backward (loops ordered for contiguous inner access).
#include "dense.h"

namespace simdnet {

void dense_forward_ref(float* out, const float* inp, const float* w, const float* b, const DenseShape& s) {
  for (int64_t i = 0; i < s.batch; ++i) {
    const float* x = inp + i * s.in;
    for (int64_t o = 0; o < s.out; ++o) {
      const float* wr = w + o * s.in;
      float acc = 0.0f;
      for (int64_t k = 0; k < s.in; ++k) acc += x[k] * wr[k];
      out[i * s.out + o] = acc + (b ? b[o] : 0.0f);
    }
  }
}

void dense_backward_ref(float* dinp, float* dw, float* db, const float* dout, const float* inp, const float* w,
                        const DenseShape& s) {
  for (int64_t i = 0; i < s.batch; ++i) {
    const float* g = dout + i * s.out;
    const float* x = inp + i * s.in;
    for (int64_t o = 0; o < s.out; ++o) {
      const float go = g[o];
      if (db) db[o] += go;
      if (dw) {
        float* dwr = dw + o * s.in;
        for (int64_t k = 0; k < s.in; ++k) dwr[k] += go * x[k];
      }
      if (dinp) {
        const float* wr = w + o * s.in;
        float* dx = dinp + i * s.in;
        for (int64_t k = 0; k < s.in; ++k) dx[k] += go * wr[k];
      }
    }
  }
}

}  // namespace simdnet
