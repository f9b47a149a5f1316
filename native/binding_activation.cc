// SPDX-License-Identifier: MIT
// N-API surface of ReLU (element-wise: sizes come from the buffers): argument checks, then ops/activation_op.cc.
// Registered by binding.cc through register_activation_exports.
#include <napi.h>

#include "binding.h"
#include "binding_checks.h"
#include "ops/ops.h"

namespace simdnet {
namespace {

// reluForward(out, inp): equal lengths; out may be inp itself.
Napi::Value ReluForward(const Napi::CallbackInfo& info) {
  return guarded(info, "reluForward", [&] {
    ArgReader a(info, "reluForward", 2);
    const int64_t n = a.f32_length(1, "input");
    if (n < 1) throw_range(a.env(), a.prefix("input") + " must not be empty");
    float* out = a.f32_overwritten(0, "out", n, "input length");
    const float* inp = a.f32(1, "input", n, "input length", false);
    a.allow_in_place("out", "input");
    a.check_no_aliasing();
    relu_forward_op(out, inp, n);
    return info.Env().Undefined();
  });
}

// add(out, a, b): out = a + b; addRelu(out, a, b): out = max(a + b, 0). Equal lengths; out may be a itself.
template <void (*op)(float*, const float*, const float*, int64_t)>
Napi::Value AddOp(const Napi::CallbackInfo& info, const char* name) {
  return guarded(info, name, [&] {
    ArgReader a(info, name, 3);
    const int64_t n = a.f32_length(1, "a");
    if (n < 1) throw_range(a.env(), a.prefix("a") + " must not be empty");
    float* out = a.f32_overwritten(0, "out", n, "a's length");
    const float* x = a.f32(1, "a", n, "a's length", false);
    const float* y = a.f32(2, "b", n, "a's length", false);
    a.allow_in_place("out", "a");
    a.check_no_aliasing();
    op(out, x, y, n);
    return info.Env().Undefined();
  });
}

Napi::Value Add(const Napi::CallbackInfo& info) { return AddOp<add_op>(info, "add"); }
Napi::Value AddRelu(const Napi::CallbackInfo& info) { return AddOp<add_relu_op>(info, "addRelu"); }

// reluBackward(dinp, dout, out): equal lengths.
Napi::Value ReluBackward(const Napi::CallbackInfo& info) {
  return guarded(info, "reluBackward", [&] {
    ArgReader a(info, "reluBackward", 3);
    const int64_t n = a.f32_length(1, "doutput");
    if (n < 1) throw_range(a.env(), a.prefix("doutput") + " must not be empty");
    float* dinp = a.f32(0, "dinput", n, "doutput length", true);
    const float* dout = a.f32(1, "doutput", n, "doutput length", false);
    const float* out = a.f32(2, "output", n, "doutput length", false);
    a.check_no_aliasing();
    relu_backward_op(dinp, dout, out, n);
    return info.Env().Undefined();
  });
}

// reluMask(grad, out): grad = out > 0 ? grad : 0 in place; equal lengths.
Napi::Value ReluMask(const Napi::CallbackInfo& info) {
  return guarded(info, "reluMask", [&] {
    ArgReader a(info, "reluMask", 2);
    const int64_t n = a.f32_length(0, "grad");
    if (n < 1) throw_range(a.env(), a.prefix("grad") + " must not be empty");
    float* grad = a.f32(0, "grad", n, "grad length", true);
    const float* out = a.f32(1, "output", n, "grad length", false);
    a.check_no_aliasing();
    relu_mask_op(grad, out, n);
    return info.Env().Undefined();
  });
}

}  // namespace

void register_activation_exports(Napi::Env env, Napi::Object exports) {
  exports.Set("add", Napi::Function::New(env, Add, "add"));
  exports.Set("addRelu", Napi::Function::New(env, AddRelu, "addRelu"));
  exports.Set("reluForward", Napi::Function::New(env, ReluForward, "reluForward"));
  exports.Set("reluBackward", Napi::Function::New(env, ReluBackward, "reluBackward"));
  exports.Set("reluMask", Napi::Function::New(env, ReluMask, "reluMask"));
}

}  // namespace simdnet
