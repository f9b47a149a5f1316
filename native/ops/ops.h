// SPDX-License-Identifier: MIT
// Whole-batch operations the binding calls, one per op the binding validates: they pick the kernels
// from the current table, decide how work is split across threads and own the scratch memory. Same
// buffer conventions as the kernels (forward overwrites, backward accumulates); results do not
// depend on the thread count.
#pragma once
#include "dispatch.h"

namespace simdnet {

class ConvPackCache;

// out = conv(inp, w) + b (+ residual, when it has data), then max(out, 0) when fuse_relu. With a cache (w must not
// change while it lives), packed weights are made once per layout instead of per call.
void conv2d_forward_op(float* out, const float* inp, const float* w, const float* b, const Conv2dShape& s,
                       bool fuse_relu, ConvPackCache* cache = nullptr, const ConvResidual& residual = ConvResidual{});
// dinp += the input gradient, or with add_dinp false dinp = it (overwritten, so the caller need not zero it).
void conv2d_backward_op(float* dinp, float* dw, float* db, const float* dout, const float* inp, const float* w,
                        const Conv2dShape& s, bool add_dinp = true);

// argmax null: the values alone (inference programs), which skips the index work.
void maxpool2d_forward_op(float* out, int32_t* argmax, const float* inp, const Pool2dShape& s);
// dinp += the gradient scattered through argmax, or with add_dinp false dinp = it (zeroed first, plane by plane).
// With relu_out (the pool's input, when it is a ReLU's output) only where relu_out > 0 or NaN: the ReLU's backward
// in the same pass (maxpool2d_relu_backward_ref).
void maxpool2d_backward_op(float* dinp, const float* dout, const int32_t* argmax, const Pool2dShape& s,
                           bool add_dinp = true, const float* relu_out = nullptr);

// Window means (AvgPool2d, AdaptiveAvgPool2d) over `planes` planes of s's windows: planes across threads.
void window_mean_forward_op(float* out, const float* inp, const WindowMeanShape& s, int64_t planes);
void window_mean_backward_op(float* dinp, const float* dout, const WindowMeanShape& s, int64_t planes);

// A strided slice of each of `images` images (in_size values each, out_size out): dims as strided_rows.h's
// for_each_slice_row, already checked. The backward overwrites dinp (0 where no output came from).
void slice_forward_op(float* out, const float* inp, int64_t images, int64_t rank, const int64_t* dims, int64_t in_size,
                      int64_t out_size);
void slice_backward_op(float* dinp, const float* dout, int64_t images, int64_t rank, const int64_t* dims,
                       int64_t in_size, int64_t out_size);

// out = inp w^T + b, then max(out, 0) when relu.
void dense_forward_op(float* out, const float* inp, const float* w, const float* b, const DenseShape& s,
                      bool relu = false);
void dense_backward_op(float* dinp, float* dw, float* db, const float* dout, const float* inp, const float* w,
                       const DenseShape& s);

// Batch norm (kernels/batchnorm/batchnorm.h has the maths): channels across threads.
void batchnorm_forward_train_op(float* out, float* save_mean, float* save_invstd, float* running_mean,
                                float* running_var, const float* inp, const float* residual, const float* weight,
                                const float* bias, double eps, double momentum, bool relu, const BatchNormShape& s);
void batchnorm_forward_eval_op(float* out, const float* inp, const float* running_mean, const float* running_var,
                               const float* weight, const float* bias, double eps, const BatchNormShape& s);
void batchnorm_backward_train_op(float* dinp, float* dweight, float* dbias, const float* dout, const float* inp,
                                 const float* save_mean, const float* save_invstd, const float* weight,
                                 const float* bias, bool relu, bool add_dinp, const BatchNormShape& s);
void batchnorm_backward_eval_op(float* dinp, float* dweight, float* dbias, const float* dout, const float* inp,
                                const float* running_mean, const float* running_var, const float* weight, double eps,
                                const BatchNormShape& s);

// ReLU, cross-entropy and the Adam step run on the calling thread: each is one memory-bound pass
// over a layer's values (not split across threads today; ReLU and Adam could be, element by element).
// out = a + b, element by element (the residual add and the sum of a fanned-out value's gradients); out may be a.
void add_op(float* out, const float* a, const float* b, int64_t count);
// out = max(a + b, 0) (NaN kept, as relu_forward): the residual add and the ReLU after it in one pass, the same bits
// as add_op then relu_forward_op; out may be a.
void add_relu_op(float* out, const float* a, const float* b, int64_t count);
void relu_forward_op(float* out, const float* inp, int64_t count);
void relu_backward_op(float* dinp, const float* dout, const float* out, int64_t count);
void relu_mask_op(float* grad, const float* out, int64_t count);
double cross_entropy_forward_op(float* probs, const float* logits, const int32_t* targets, const CrossEntropyShape& s);
void cross_entropy_backward_op(float* dlogits, const float* probs, const int32_t* targets, float scale,
                               const CrossEntropyShape& s);
void adam_step_op(float* param, float* m, float* v, const float* grad, const AdamHyper& h, int64_t count);

// Thread count for the parallel ops (num_threads() is in parallel.h): n >= 1 fixes it, 0 makes it
// adaptive (the default unless SIMDNET_NUM_THREADS is set): at most one per physical core, fewer
// while other processes keep CPUs busy.
void set_num_threads(int n);
bool num_threads_adaptive();
int default_num_threads();
// One training step (or any repeated unit of work) ended: with 'auto', trials under contention then compare the
// counts in steps per second over whole steps (thread_trials.h). Cheap: a counter, and a sample when one is due.
void mark_step();

}  // namespace simdnet
