// SPDX-License-Identifier: MIT
// N-API surface of softmax cross-entropy: argument checks (every target a class index), then
// ops/loss_op.cc. Registered by binding.cc through register_loss_exports.
#include <napi.h>

#include <string>

#include "binding.h"
#include "binding_checks.h"
#include "ops/ops.h"

namespace simdnet {
namespace {

// targets [B], each a class index in [0, classes).
const int32_t* read_targets(ArgReader& a, size_t i, const CrossEntropyShape& s) {
  const int32_t* t = a.i32(i, "targets", s.batch, "B", false);
  for (int64_t k = 0; k < s.batch; ++k) {
    if (t[k] < 0 || t[k] >= s.classes) {
      throw_range(a.env(), a.prefix("targets") + "[" + std::to_string(k) + "] = " + std::to_string(t[k]) +
                               " is not a class index in [0, " + std::to_string(s.classes) + ")");
    }
  }
  return t;
}

// crossEntropyForward(probs, logits, targets, batch, classes) -> mean loss
Napi::Value CrossEntropyForward(const Napi::CallbackInfo& info) {
  return guarded(info, "crossEntropyForward", [&] {
    ArgReader a(info, "crossEntropyForward", 5);
    const CrossEntropyShape s{a.size(3, "batch"), a.size(4, "classes")};
    const int64_t count = a.mul(s.batch, s.classes, "logits");
    float* probs = a.f32_overwritten(0, "probs", count, "B*K");
    const float* logits = a.f32(1, "logits", count, "B*K", false);
    const int32_t* targets = read_targets(a, 2, s);
    a.check_no_aliasing();
    return Napi::Number::New(info.Env(), cross_entropy_forward_op(probs, logits, targets, s));
  });
}

// crossEntropyBackward(dlogits, probs, targets, scale, batch, classes)
Napi::Value CrossEntropyBackward(const Napi::CallbackInfo& info) {
  return guarded(info, "crossEntropyBackward", [&] {
    ArgReader a(info, "crossEntropyBackward", 6);
    const CrossEntropyShape s{a.size(4, "batch"), a.size(5, "classes")};
    const int64_t count = a.mul(s.batch, s.classes, "logits");
    float* dlogits = a.f32(0, "dlogits", count, "B*K", true);
    const float* probs = a.f32(1, "probs", count, "B*K", false);
    const int32_t* targets = read_targets(a, 2, s);
    const double scale = a.number(3, "scale");
    a.check_no_aliasing();
    cross_entropy_backward_op(dlogits, probs, targets, static_cast<float>(scale), s);
    return info.Env().Undefined();
  });
}

}  // namespace

void register_loss_exports(Napi::Env env, Napi::Object exports) {
  exports.Set("crossEntropyForward", Napi::Function::New(env, CrossEntropyForward, "crossEntropyForward"));
  exports.Set("crossEntropyBackward", Napi::Function::New(env, CrossEntropyBackward, "crossEntropyBackward"));
}

}  // namespace simdnet
