// SPDX-License-Identifier: MIT
// Batch normalisation kernels over [N, C, S] (S = H*W for 2-d input, 1 or L for 1-d), PyTorch's maths.
// No allocation or N-API here; native/binding_norm.cc validates every argument, ops/batchnorm_op.cc
// gives channel ranges to threads.
#pragma once
#include <cstdint>

namespace simdnet {

struct BatchNormShape {
  int64_t n, c, s;  // batch, channels, values per channel and sample; M = n * s values per channel
};

// The channels [begin, end) a call computes: channels are independent, so ops/batchnorm_op.cc gives
// ranges to threads; a channel's sums never depend on the split.
struct ChannelRange {
  int64_t begin, end;
};

// Training forward. out, inp [N, C, S]; save_mean, save_invstd [C] (overwritten: the batch mean and
// 1/sqrt(biased var + eps), for backward); running_mean, running_var [C] updated in place when not
// null: r = (1 - momentum) r + momentum x, with the UNBIASED variance var * M / (M - 1) (needs M > 1);
// weight, bias [C] or null (gamma 1, beta 0). Sums in double (over float blocks of <= 128 terms per
// lane). As PyTorch, a zero variance with eps 0 gives invstd 0 (the output is beta), not infinity.
// residual [N, C, S] or null: out = normalised + residual, the add rounded on its own (a residual block's add).
// relu: out = max(that, 0) in the same pass (BatchNorm (+ add) + ReLU in training; NaN stays NaN, as torch.relu).
void batchnorm_forward_train_ref(float* out, float* save_mean, float* save_invstd, float* running_mean,
                                 float* running_var, const float* inp, const float* residual, const float* weight,
                                 const float* bias, double eps, double momentum, bool relu, const BatchNormShape& s,
                                 ChannelRange r);

// Eval forward: out = (inp - running_mean) / sqrt(running_var + eps) * weight + bias, computed as
// PyTorch does (inp * alpha + beta), so running_var + eps == 0 gives NaN/inf like PyTorch.
void batchnorm_forward_eval_ref(float* out, const float* inp, const float* running_mean, const float* running_var,
                                const float* weight, const float* bias, double eps, const BatchNormShape& s,
                                ChannelRange r);

// Training backward (PyTorch's batch_norm_backward_cpu, train branch), with dy = dout, xhat = (x - mean) invstd:
//   dbias += sum dy;  dweight += sum dy xhat;
//   dinp  += (dy - sum(dy) / M - (x - mean) invstd^2 sum(dy (x - mean)) / M) invstd weight.
// dinp [N, C, S], dweight, dbias [C] may each be null; save_mean, save_invstd from the training forward.
// relu: a ReLU after this BatchNorm (the forward's relu), whose backward runs here: dy is dout where the ReLU's output
// was > 0 (or NaN) and 0 elsewhere, exactly relu_mask's gradient; that output is recomputed from inp, the saved
// statistics, weight and bias [C] or null, which must be the forward's. add_dinp false: dinp = ... (overwritten, so
// the caller need not zero it) instead of +=.
void batchnorm_backward_train_ref(float* dinp, float* dweight, float* dbias, const float* dout, const float* inp,
                                  const float* save_mean, const float* save_invstd, const float* weight,
                                  const float* bias, bool relu, bool add_dinp, const BatchNormShape& s, ChannelRange r);

// Eval backward: the forward is an affine map per channel, so dinp += dout * invstd * weight, with
// invstd = 1/sqrt(running_var + eps); dweight and dbias as in training but with the running statistics.
void batchnorm_backward_eval_ref(float* dinp, float* dweight, float* dbias, const float* dout, const float* inp,
                                 const float* running_mean, const float* running_var, const float* weight, double eps,
                                 const BatchNormShape& s, ChannelRange r);

// The same kernels compiled per ISA (batchnorm_impl.inc): the reference's bits, in vector registers of that width.
#define SN_DECLARE_BATCHNORM(isa)                                                                                      \
  namespace isa {                                                                                                      \
  void batchnorm_forward_train(float* out, float* save_mean, float* save_invstd, float* running_mean,                  \
                               float* running_var, const float* inp, const float* residual, const float* weight,       \
                               const float* bias, double eps, double momentum, bool relu, const BatchNormShape& s,     \
                               ChannelRange r);                                                                        \
  void batchnorm_forward_eval(float* out, const float* inp, const float* running_mean, const float* running_var,       \
                              const float* weight, const float* bias, double eps, const BatchNormShape& s,             \
                              ChannelRange r);                                                                         \
  void batchnorm_backward_train(float* dinp, float* dweight, float* dbias, const float* dout, const float* inp,        \
                                const float* save_mean, const float* save_invstd, const float* weight,                 \
                                const float* bias, bool relu, bool add_dinp, const BatchNormShape& s, ChannelRange r); \
  void batchnorm_backward_eval(float* dinp, float* dweight, float* dbias, const float* dout, const float* inp,         \
                               const float* running_mean, const float* running_var, const float* weight, double eps,   \
                               const BatchNormShape& s, ChannelRange r);                                               \
  }
SN_DECLARE_BATCHNORM(avx2)
SN_DECLARE_BATCHNORM(avx512)
SN_DECLARE_BATCHNORM(neon)
SN_DECLARE_BATCHNORM(simd128)
#undef SN_DECLARE_BATCHNORM

}  // namespace simdnet
