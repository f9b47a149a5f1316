// SPDX-License-Identifier: MIT
// Batch norm over a batch: channels are independent, so each thread takes a range of whole channels
// and a channel's sums never depend on the thread count.
#include "ops.h"
#include "parallel.h"

namespace simdnet {
namespace {

// Runs kernel(range) over channel ranges, one per thread when the work is worth it (`passes` reads of
// the N*C*S values). Each channel is computed whole by one call, so results do not depend on threads.
template <typename Kernel>
void over_channels(const BatchNormShape& s, double passes, Kernel&& kernel) {
  const double work = passes * static_cast<double>(s.n) * static_cast<double>(s.c) * static_cast<double>(s.s);
  parallel_columns(s.c, 1, work, [&](int64_t begin, int64_t end) { kernel(ChannelRange{begin, end}); });
}

}  // namespace

void batchnorm_forward_train_op(float* out, float* save_mean, float* save_invstd, float* running_mean,
                                float* running_var, const float* inp, const float* residual, const float* weight,
                                const float* bias, double eps, double momentum, bool relu, const BatchNormShape& s) {
  const KernelTable& t = kernels();
  over_channels(s, 3, [&](ChannelRange r) {
    t.batchnorm_forward_train(out, save_mean, save_invstd, running_mean, running_var, inp, residual, weight, bias, eps,
                              momentum, relu, s, r);
  });
}

void batchnorm_forward_eval_op(float* out, const float* inp, const float* running_mean, const float* running_var,
                               const float* weight, const float* bias, double eps, const BatchNormShape& s) {
  const KernelTable& t = kernels();
  over_channels(s, 1, [&](ChannelRange r) {
    t.batchnorm_forward_eval(out, inp, running_mean, running_var, weight, bias, eps, s, r);
  });
}

void batchnorm_backward_train_op(float* dinp, float* dweight, float* dbias, const float* dout, const float* inp,
                                 const float* save_mean, const float* save_invstd, const float* weight,
                                 const float* bias, bool relu, bool add_dinp, const BatchNormShape& s) {
  const KernelTable& t = kernels();
  over_channels(s, 3, [&](ChannelRange r) {
    t.batchnorm_backward_train(dinp, dweight, dbias, dout, inp, save_mean, save_invstd, weight, bias, relu, add_dinp, s,
                               r);
  });
}

void batchnorm_backward_eval_op(float* dinp, float* dweight, float* dbias, const float* dout, const float* inp,
                                const float* running_mean, const float* running_var, const float* weight, double eps,
                                const BatchNormShape& s) {
  const KernelTable& t = kernels();
  over_channels(s, 2, [&](ChannelRange r) {
    t.batchnorm_backward_eval(dinp, dweight, dbias, dout, inp, running_mean, running_var, weight, eps, s, r);
  });
}

}  // namespace simdnet
