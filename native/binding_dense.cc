// SPDX-License-Identifier: MIT
// N-API surface of the linear (fully connected) layer: argument checks, then ops/dense_op.cc.
// Registered by binding.cc through register_dense_exports.
#include <napi.h>

#include "binding.h"
#include "binding_checks.h"
#include "ops/ops.h"

namespace simdnet {
namespace {

// linearForward(out, inp, weight, bias | null, batch, inFeatures, outFeatures)
Napi::Value LinearForward(const Napi::CallbackInfo& info) {
  return guarded(info, "linearForward", [&] {
    ArgReader a(info, "linearForward", 7);
    const DenseShape s{a.size(4, "batch"), a.size(5, "inFeatures"), a.size(6, "outFeatures")};
    float* out = a.f32_overwritten(0, "out", a.mul(s.batch, s.out, "output"), "B*OUT");
    const float* inp = a.f32(1, "input", a.mul(s.batch, s.in, "input"), "B*IN", false);
    const float* w = a.f32(2, "weight", a.mul(s.out, s.in, "weight"), "OUT*IN", false);
    const float* b = a.f32(3, "bias", s.out, "OUT", false, true);
    a.check_no_aliasing();
    dense_forward_op(out, inp, w, b, s);
    return info.Env().Undefined();
  });
}

// linearBackward(dinp | null, dweight | null, dbias | null, dout, inp, weight, batch, inFeatures, outFeatures)
Napi::Value LinearBackward(const Napi::CallbackInfo& info) {
  return guarded(info, "linearBackward", [&] {
    ArgReader a(info, "linearBackward", 9);
    const DenseShape s{a.size(6, "batch"), a.size(7, "inFeatures"), a.size(8, "outFeatures")};
    float* dinp = a.f32(0, "dinput", a.mul(s.batch, s.in, "input"), "B*IN", true, true);
    float* dw = a.f32(1, "dweight", a.mul(s.out, s.in, "weight"), "OUT*IN", true, true);
    float* db = a.f32(2, "dbias", s.out, "OUT", true, true);
    const float* dout = a.f32(3, "doutput", a.mul(s.batch, s.out, "output"), "B*OUT", false);
    const float* inp = a.f32(4, "input", a.mul(s.batch, s.in, "input"), "B*IN", false);
    const float* w = a.f32(5, "weight", a.mul(s.out, s.in, "weight"), "OUT*IN", false);
    a.check_no_aliasing();
    dense_backward_op(dinp, dw, db, dout, inp, w, s);
    return info.Env().Undefined();
  });
}

}  // namespace

void register_dense_exports(Napi::Env env, Napi::Object exports) {
  exports.Set("linearForward", Napi::Function::New(env, LinearForward, "linearForward"));
  exports.Set("linearBackward", Napi::Function::New(env, LinearBackward, "linearBackward"));
}

}  // namespace simdnet
