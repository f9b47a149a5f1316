// SPDX-License-Identifier: MIT
// Portable reference batch normalisation: forward (train, eval) and backward (train, eval) over [N, C, S].
// Rounding follows ATen's CPU kernels (torch 1.13 batch_norm_kernel.cpp): float values and row sums, double totals,
// the normalisation applied as x * alpha + beta with alpha = invstd * gamma, beta = beta - mean * alpha.
#include "batchnorm.h"

#include <cmath>
#include <cstring>

namespace simdnet {
namespace {

// Calls fn(x, y) for the S-long rows of channel c in two [N, C, S] buffers (a row per sample).
template <typename T, typename U, typename Fn>
void for_rows(T* a, U* b, int64_t c, const BatchNormShape& s, Fn&& fn) {
  for (int64_t n = 0; n < s.n; ++n) {
    const int64_t offset = (n * s.c + c) * s.s;
    fn(a + offset, b + offset);
  }
}

// Sum of term(i) for i < len: 8 float lanes (the compiler keeps them in a vector register) over blocks
// of 1024 values, each block's lanes then added in double, so no float sum runs over more than 128
// terms (ATen also reduces rows in float vectors). The tail goes straight to double.
constexpr int kLanes = 8;
constexpr int64_t kBlock = 1024;

// Two such sums (of term_a and term_b) in one pass over the row, each exactly as if summed alone, added to
// *total_a and *total_b: a row summed in pieces of whole blocks (the tail in the last) gives the same totals.
template <typename TermA, typename TermB>
void row_sum2(int64_t len, TermA&& term_a, TermB&& term_b, double* total_a, double* total_b) {
  double ta = *total_a, tb = *total_b;
  int64_t i = 0;
  while (i + kLanes <= len) {
    float lane_a[kLanes] = {}, lane_b[kLanes] = {};
    const int64_t end = i + ((len - i < kBlock ? len - i : kBlock) / kLanes) * kLanes;
    for (; i < end; i += kLanes) {
      for (int l = 0; l < kLanes; ++l) {
        lane_a[l] += term_a(i + l);
        lane_b[l] += term_b(i + l);
      }
    }
    for (int l = 0; l < kLanes; ++l) {
      ta += lane_a[l];
      tb += lane_b[l];
    }
  }
  for (; i < len; ++i) {
    ta += term_a(i);
    tb += term_b(i);
  }
  *total_a = ta;
  *total_b = tb;
}

template <typename Term>
double row_sum(int64_t len, Term&& term) {
  double total = 0.0, unused = 0.0;
  row_sum2(
      len, term, [](int64_t) { return 0.0f; }, &total, &unused);  // the zero sum compiles away
  return total;
}

// out = inp * alpha + beta over channel c; with relu, max(that, 0) (NaN kept, as relu_forward).
void affine_channel(float* out, const float* inp, float alpha, float beta, bool relu, int64_t c,
                    const BatchNormShape& s) {
  for_rows(out, inp, c, s, [&](float* y, const float* x) {
    if (relu) {
      for (int64_t i = 0; i < s.s; ++i) {
        const float v = x[i] * alpha + beta;
        y[i] = v < 0.0f ? 0.0f : v;
      }
    } else {
      for (int64_t i = 0; i < s.s; ++i) y[i] = x[i] * alpha + beta;
    }
  });
}

// ReLU's backward: the gradient where the ReLU's output is > 0 or NaN (relu_mask's rule), else +0. With bit masks,
// not a branch: the signs of a layer's outputs are random, and a mispredicted branch per value cost 5x.
void mask_block(float* masked, const float* dy, const float* relu_out, int64_t len) {
  for (int64_t i = 0; i < len; ++i) {
    const uint32_t keep = 0u - static_cast<uint32_t>(!(relu_out[i] <= 0.0f));
    uint32_t bits;
    std::memcpy(&bits, dy + i, sizeof bits);
    bits &= keep;
    std::memcpy(masked + i, &bits, sizeof bits);
  }
}

// Sums of dy and of (x - mean) dy over channel c, in double; dy masked by relu_out when not null.
void grad_sums(const float* dout, const float* inp, const float* relu_out, float mean, int64_t c,
               const BatchNormShape& s, double* sum, double* dotp) {
  double sy = 0.0, sxy = 0.0;
  float masked[kBlock];  // one block of the ReLU-masked dy, so the sums run the plain (vectorised) loop
  for (int64_t n = 0; n < s.n; ++n) {
    const int64_t offset = (n * s.c + c) * s.s;
    const float *dy = dout + offset, *x = inp + offset;
    double row_y = 0.0, row_xy = 0.0;
    if (relu_out == nullptr) {
      row_sum2(
          s.s, [&](int64_t i) { return dy[i]; }, [&](int64_t i) { return (x[i] - mean) * dy[i]; }, &row_y, &row_xy);
    } else {
      for (int64_t b = 0; b < s.s; b += kBlock) {
        const int64_t len = s.s - b < kBlock ? s.s - b : kBlock;
        mask_block(masked, dy + b, relu_out + offset + b, len);
        const float* xb = x + b;
        row_sum2(
            len, [&](int64_t i) { return masked[i]; }, [&](int64_t i) { return (xb[i] - mean) * masked[i]; }, &row_y,
            &row_xy);
      }
    }
    sy += row_y;
    sxy += row_xy;
  }
  *sum = sy;
  *dotp = sxy;
}

}  // namespace

void batchnorm_forward_train_ref(float* out, float* save_mean, float* save_invstd, float* running_mean,
                                 float* running_var, const float* inp, const float* weight, const float* bias,
                                 double eps, double momentum, bool relu, const BatchNormShape& s, ChannelRange r) {
  const int64_t m = s.n * s.s;
  const float mom = static_cast<float>(momentum);
  for (int64_t c = r.begin; c < r.end; ++c) {
    // Two passes (mean, then squared deviations from the float mean), as ATen does.
    double sum = 0.0;
    for_rows(inp, inp, c, s,
             [&](const float* x, const float*) { sum += row_sum(s.s, [&](int64_t i) { return x[i]; }); });
    const float mean = static_cast<float>(sum / static_cast<double>(m));
    double sq = 0.0;
    for_rows(inp, inp, c, s, [&](const float* x, const float*) {
      sq += row_sum(s.s, [&](int64_t i) {
        const float d = x[i] - mean;
        return d * d;
      });
    });
    const float var_sum = static_cast<float>(sq);
    const double var = static_cast<double>(var_sum) / static_cast<double>(m);
    // ATen's InvStd: 0 (not infinity) for a zero variance with eps 0.
    const float invstd = (var != 0.0 || eps != 0.0) ? static_cast<float>(1.0 / std::sqrt(var + eps)) : 0.0f;
    save_mean[c] = mean;
    save_invstd[c] = invstd;
    if (running_mean != nullptr) running_mean[c] = mom * mean + (1.0f - mom) * running_mean[c];
    if (running_var != nullptr) {
      const double unbiased = static_cast<double>(var_sum) / static_cast<double>(m - 1);
      running_var[c] = static_cast<float>(mom * unbiased + (1.0f - mom) * running_var[c]);
    }
    const float alpha = invstd * (weight != nullptr ? weight[c] : 1.0f);
    const float beta = (bias != nullptr ? bias[c] : 0.0f) - mean * alpha;
    affine_channel(out, inp, alpha, beta, relu, c, s);
  }
}

void batchnorm_forward_eval_ref(float* out, const float* inp, const float* running_mean, const float* running_var,
                                const float* weight, const float* bias, double eps, const BatchNormShape& s,
                                ChannelRange r) {
  const float eps_f = static_cast<float>(eps);
  for (int64_t c = r.begin; c < r.end; ++c) {
    const float invstd = 1.0f / std::sqrt(running_var[c] + eps_f);
    const float alpha = invstd * (weight != nullptr ? weight[c] : 1.0f);
    const float beta = (bias != nullptr ? bias[c] : 0.0f) - running_mean[c] * alpha;
    affine_channel(out, inp, alpha, beta, false, c, s);
  }
}

void batchnorm_backward_train_ref(float* dinp, float* dweight, float* dbias, const float* dout, const float* inp,
                                  const float* save_mean, const float* save_invstd, const float* weight,
                                  const float* relu_out, bool add_dinp, const BatchNormShape& s, ChannelRange r) {
  const int64_t m = s.n * s.s;
  for (int64_t c = r.begin; c < r.end; ++c) {
    const float mean = save_mean[c], invstd = save_invstd[c];
    double sum = 0.0, dotp = 0.0;
    grad_sums(dout, inp, relu_out, mean, c, s, &sum, &dotp);
    float masked[kBlock];
    if (dinp != nullptr) {
      const float w = weight != nullptr ? weight[c] : 1.0f;
      const float k = static_cast<float>(dotp) * invstd * invstd / static_cast<float>(m);
      const float grad_mean = static_cast<float>(sum / static_cast<double>(m));
      const float scale = invstd * w;
      for (int64_t n = 0; n < s.n; ++n) {
        const int64_t offset = (n * s.c + c) * s.s;
        const float *x = inp + offset, *dy = dout + offset, *y = relu_out != nullptr ? relu_out + offset : nullptr;
        float* dx = dinp + offset;
        // One plain loop per case (vectorised); the ReLU-masked dy a block at a time.
        for (int64_t b = 0; b < s.s; b += kBlock) {
          const int64_t len = s.s - b < kBlock ? s.s - b : kBlock;
          const float* g = dy + b;
          if (y != nullptr) {
            mask_block(masked, g, y + b, len);
            g = masked;
          }
          const float* xb = x + b;
          float* d = dx + b;
          if (add_dinp) {
            for (int64_t i = 0; i < len; ++i) d[i] += (g[i] - grad_mean - (xb[i] - mean) * k) * scale;
          } else {
            for (int64_t i = 0; i < len; ++i) d[i] = (g[i] - grad_mean - (xb[i] - mean) * k) * scale;
          }
        }
      }
    }
    if (dweight != nullptr) dweight[c] += static_cast<float>(dotp * invstd);
    if (dbias != nullptr) dbias[c] += static_cast<float>(sum);
  }
}

void batchnorm_backward_eval_ref(float* dinp, float* dweight, float* dbias, const float* dout, const float* inp,
                                 const float* running_mean, const float* running_var, const float* weight, double eps,
                                 const BatchNormShape& s, ChannelRange r) {
  for (int64_t c = r.begin; c < r.end; ++c) {
    const float mean = running_mean[c];
    const float invstd = static_cast<float>(1.0 / std::sqrt(static_cast<double>(running_var[c]) + eps));
    if (dinp != nullptr) {
      const float a = invstd * (weight != nullptr ? weight[c] : 1.0f);
      for_rows(dinp, dout, c, s, [&](float* dx, const float* dy) {
        for (int64_t i = 0; i < s.s; ++i) dx[i] += dy[i] * a;
      });
    }
    if (dweight == nullptr && dbias == nullptr) continue;
    double sum = 0.0, dotp = 0.0;
    grad_sums(dout, inp, nullptr, mean, c, s, &sum, &dotp);
    if (dweight != nullptr) dweight[c] += static_cast<float>(dotp * invstd);
    if (dbias != nullptr) dbias[c] += static_cast<float>(sum);
  }
}

}  // namespace simdnet
