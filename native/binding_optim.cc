// SPDX-License-Identifier: MIT
// N-API surface of the optimizer steps (Adam): argument checks, then ops/optim_op.cc.
// Registered by binding.cc through register_optim_exports.
#include <napi.h>

#include "binding.h"
#include "binding_checks.h"
#include "ops/ops.h"

namespace simdnet {
namespace {

// adamStep(param, m, v, grad, lr, beta1, beta2, eps, weightDecay, step): all buffers the same length.
Napi::Value AdamStep(const Napi::CallbackInfo& info) {
  return guarded(info, "adamStep", [&] {
    ArgReader a(info, "adamStep", 10);
    const int64_t n = a.f32_length(0, "param");
    if (n < 1) throw_range(a.env(), a.prefix("param") + " must not be empty");
    float* param = a.f32(0, "param", n, "param length", true);
    float* m = a.f32(1, "expAvg", n, "param length", true);
    float* v = a.f32(2, "expAvgSq", n, "param length", true);
    const float* grad = a.f32(3, "grad", n, "param length", false);
    AdamHyper h{};
    h.lr = a.number(4, "lr", 0.0);
    h.beta1 = a.number(5, "beta1", 0.0, 1.0);
    h.beta2 = a.number(6, "beta2", 0.0, 1.0);
    h.eps = a.number(7, "eps", 0.0);
    h.weight_decay = a.number(8, "weightDecay", 0.0);
    h.step = a.size(9, "step");
    if (h.beta1 >= 1.0 || h.beta2 >= 1.0) throw_range(a.env(), a.prefix("betas") + " must be < 1");
    a.check_no_aliasing();
    adam_step_op(param, m, v, grad, h, n);
    return info.Env().Undefined();
  });
}

}  // namespace

void register_optim_exports(Napi::Env env, Napi::Object exports) {
  exports.Set("adamStep", Napi::Function::New(env, AdamStep, "adamStep"));
}

}  // namespace simdnet
