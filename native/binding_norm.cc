// SPDX-License-Identifier: MIT
// N-API surface of batch normalisation: argument checks, then ops/batchnorm_op.cc.
// Registered by binding.cc through register_norm_exports. Argument order: outputs, saved buffers, inputs, sizes.
#include <napi.h>

#include <string>

#include "binding.h"
#include "binding_checks.h"
#include "ops/ops.h"

namespace simdnet {
namespace {

// Sizes n, c, s at positions [first, first + 3); returns the shape and sets *count = N*C*S.
BatchNormShape read_shape(ArgReader& a, size_t first, int64_t* count) {
  BatchNormShape s{a.size(first, "n"), a.size(first + 1, "c"), a.size(first + 2, "s")};
  *count = a.mul(a.mul(s.n, s.c, "input"), s.s, "input");
  return s;
}

// eps >= 0: PyTorch accepts 0 (a zero variance then gives invstd 0 in training, NaN/inf in eval).
double read_eps(ArgReader& a, size_t i) { return a.number(i, "eps", 0.0); }

// runningMean and runningVar: both Float32Arrays [C] or both null.
void read_running(ArgReader& a, const Napi::CallbackInfo& info, size_t i, int64_t c, bool output, bool optional,
                  float** mean, float** var) {
  *mean = a.f32(i, "runningMean", c, "C", output, optional);
  *var = a.f32(i + 1, "runningVar", c, "C", output, optional);
  // Both or neither: name the missing one.
  if (*mean == nullptr && *var != nullptr) {
    throw_type(a.env(), a.prefix("runningMean") + " must be a Float32Array, got " + kind_of(info[i]) +
                            " (runningMean and runningVar: both or neither)");
  }
  if (*var == nullptr && *mean != nullptr) {
    throw_type(a.env(), a.prefix("runningVar") + " must be a Float32Array, got " + kind_of(info[i + 1]) +
                            " (runningMean and runningVar: both or neither)");
  }
}

// batchNormForwardTrain(out, saveMean, saveInvstd, runningMean | null, runningVar | null, input,
//                       weight | null, bias | null, n, c, s, eps, momentum[, fuseRelu 0 | 1[, residual | null]]):
// fuseRelu 1 writes max(out, 0) (BatchNorm + ReLU in one pass); residual [N, C, S] is added first (a residual block's
// BatchNorm, add and ReLU in one pass).
Napi::Value BatchNormForwardTrain(const Napi::CallbackInfo& info) {
  return guarded(info, "batchNormForwardTrain", [&] {
    ArgReader a(info, "batchNormForwardTrain", 13, 15);
    const bool relu = a.count() >= 14 && a.size(13, "fuseRelu", 0) != 0;
    int64_t count = 0;
    const BatchNormShape s = read_shape(a, 8, &count);
    const double eps = read_eps(a, 11);
    const double momentum = a.number(12, "momentum", 0.0, 1.0);
    if (s.n * s.s < 2) {
      throw_range(a.env(), a.prefix("input") + ": expected more than 1 value per channel when training, got n*s = " +
                               std::to_string(s.n * s.s));
    }
    float* out = a.f32_overwritten(0, "out", count, "N*C*S");
    float* save_mean = a.f32_overwritten(1, "saveMean", s.c, "C");
    float* save_invstd = a.f32_overwritten(2, "saveInvstd", s.c, "C");
    float *running_mean = nullptr, *running_var = nullptr;
    read_running(a, info, 3, s.c, true, true, &running_mean, &running_var);
    const float* inp = a.f32(5, "input", count, "N*C*S", false);
    const float* w = a.f32(6, "weight", s.c, "C", false, true);
    const float* b = a.f32(7, "bias", s.c, "C", false, true);
    const float* residual = a.count() == 15 ? a.f32(14, "residual", count, "N*C*S", false, true) : nullptr;
    a.check_no_aliasing();
    batchnorm_forward_train_op(out, save_mean, save_invstd, running_mean, running_var, inp, residual, w, b, eps,
                               momentum, relu, s);
    return info.Env().Undefined();
  });
}

// batchNormForwardEval(out, input, runningMean, runningVar, weight | null, bias | null, n, c, s, eps)
Napi::Value BatchNormForwardEval(const Napi::CallbackInfo& info) {
  return guarded(info, "batchNormForwardEval", [&] {
    ArgReader a(info, "batchNormForwardEval", 10);
    int64_t count = 0;
    const BatchNormShape s = read_shape(a, 6, &count);
    const double eps = read_eps(a, 9);
    float* out = a.f32_overwritten(0, "out", count, "N*C*S");
    const float* inp = a.f32(1, "input", count, "N*C*S", false);
    float *running_mean = nullptr, *running_var = nullptr;
    read_running(a, info, 2, s.c, false, false, &running_mean, &running_var);
    const float* w = a.f32(4, "weight", s.c, "C", false, true);
    const float* b = a.f32(5, "bias", s.c, "C", false, true);
    a.check_no_aliasing();
    batchnorm_forward_eval_op(out, inp, running_mean, running_var, w, b, eps, s);
    return info.Env().Undefined();
  });
}

// batchNormBackwardTrain(dinput | null, dweight | null, dbias | null, doutput, input, saveMean, saveInvstd,
//                        weight | null, n, c, s[, bias | null[, overwriteDinput 0 | 1[, fuseRelu 0 | 1]]]): accumulates
// into the d* buffers (dinput is overwritten with overwriteDinput 1). fuseRelu 1: the forward ran with fuseRelu (and
// no residual), and that ReLU's backward runs in the same passes (doutput is the ReLU's output gradient), its mask
// recomputed from input, the saved statistics, weight and bias, which must be the forward's.
Napi::Value BatchNormBackwardTrain(const Napi::CallbackInfo& info) {
  return guarded(info, "batchNormBackwardTrain", [&] {
    ArgReader a(info, "batchNormBackwardTrain", 11, 14);
    int64_t count = 0;
    const BatchNormShape s = read_shape(a, 8, &count);
    const bool add_dinp = !(a.count() >= 13 && a.size(12, "overwriteDinput", 0) != 0);
    float* dinp = add_dinp ? a.f32(0, "dinput", count, "N*C*S", true, true)
                           : a.f32_overwritten(0, "dinput", count, "N*C*S", true);
    float* dw = a.f32(1, "dweight", s.c, "C", true, true);
    float* db = a.f32(2, "dbias", s.c, "C", true, true);
    const float* dout = a.f32(3, "doutput", count, "N*C*S", false);
    const float* inp = a.f32(4, "input", count, "N*C*S", false);
    const float* save_mean = a.f32(5, "saveMean", s.c, "C", false);
    const float* save_invstd = a.f32(6, "saveInvstd", s.c, "C", false);
    const float* w = a.f32(7, "weight", s.c, "C", false, true);
    const float* b = a.count() >= 12 ? a.f32(11, "bias", s.c, "C", false, true) : nullptr;
    const bool relu = a.count() == 14 && a.size(13, "fuseRelu", 0) != 0;
    a.check_no_aliasing();
    batchnorm_backward_train_op(dinp, dw, db, dout, inp, save_mean, save_invstd, w, b, relu, add_dinp, s);
    return info.Env().Undefined();
  });
}

// batchNormBackwardEval(dinput | null, dweight | null, dbias | null, doutput, input, runningMean, runningVar,
//                       weight | null, n, c, s, eps): accumulates into the d* buffers.
Napi::Value BatchNormBackwardEval(const Napi::CallbackInfo& info) {
  return guarded(info, "batchNormBackwardEval", [&] {
    ArgReader a(info, "batchNormBackwardEval", 12);
    int64_t count = 0;
    const BatchNormShape s = read_shape(a, 8, &count);
    const double eps = read_eps(a, 11);
    float* dinp = a.f32(0, "dinput", count, "N*C*S", true, true);
    float* dw = a.f32(1, "dweight", s.c, "C", true, true);
    float* db = a.f32(2, "dbias", s.c, "C", true, true);
    const float* dout = a.f32(3, "doutput", count, "N*C*S", false);
    const float* inp = a.f32(4, "input", count, "N*C*S", false);
    float *running_mean = nullptr, *running_var = nullptr;
    read_running(a, info, 5, s.c, false, false, &running_mean, &running_var);
    const float* w = a.f32(7, "weight", s.c, "C", false, true);
    a.check_no_aliasing();
    batchnorm_backward_eval_op(dinp, dw, db, dout, inp, running_mean, running_var, w, eps, s);
    return info.Env().Undefined();
  });
}

}  // namespace

void register_norm_exports(Napi::Env env, Napi::Object exports) {
  exports.Set("batchNormForwardTrain", Napi::Function::New(env, BatchNormForwardTrain, "batchNormForwardTrain"));
  exports.Set("batchNormForwardEval", Napi::Function::New(env, BatchNormForwardEval, "batchNormForwardEval"));
  exports.Set("batchNormBackwardTrain", Napi::Function::New(env, BatchNormBackwardTrain, "batchNormBackwardTrain"));
  exports.Set("batchNormBackwardEval", Napi::Function::New(env, BatchNormBackwardEval, "batchNormBackwardEval"));
}

}  // namespace simdnet
