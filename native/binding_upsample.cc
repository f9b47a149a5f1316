// SPDX-License-Identifier: MIT
// N-API surface of upsampling (nearest, bilinear with or without align_corners): sizes, mode and scale factors
// checked, then ops/upsample_op.cc. Registered by binding.cc through register_upsample_exports.
#include <napi.h>

#include <cmath>
#include <string>

#include "binding.h"
#include "binding_checks.h"
#include "ops/upsample_op.h"

namespace simdnet {
namespace {

// A 0/1 flag at position i.
bool read_flag(ArgReader& a, size_t i, const char* name) {
  const int64_t v = a.size(i, name, 0);
  if (v > 1) throw_range(a.env(), a.prefix(name) + " must be 0 or 1, got " + std::to_string(v));
  return v == 1;
}

// A scale factor at position i: 0 (the output size was given) or one that gives `out` = floor(in * scale).
double read_scale(ArgReader& a, size_t i, const char* name, int64_t in, int64_t out) {
  const double scale = a.number(i, name, 0.0);
  if (scale > 0 && std::floor(static_cast<double>(in) * scale) != static_cast<double>(out)) {
    throw_range(a.env(), a.prefix(name) + " " + format_number(scale) + " does not give the output size " +
                             std::to_string(out) + " from " + std::to_string(in) + " (floor(in * scale))");
  }
  return scale;
}

// Positions 2..10: planes, h, w, oh, ow, bilinear, alignCorners, scaleH, scaleW.
UpsampleShape read_upsample_shape(ArgReader& a, int64_t* planes) {
  UpsampleShape s{};
  *planes = a.size(2, "planes");
  s.h = a.size(3, "h");
  s.w = a.size(4, "w");
  s.oh = a.size(5, "outH");
  s.ow = a.size(6, "outW");
  s.bilinear = read_flag(a, 7, "bilinear");
  s.align_corners = read_flag(a, 8, "alignCorners");
  if (s.align_corners && !s.bilinear) throw_range(a.env(), a.prefix("alignCorners") + " 1 needs bilinear mode");
  s.scale_h = read_scale(a, 9, "scaleH", s.h, s.oh);
  s.scale_w = read_scale(a, 10, "scaleW", s.w, s.ow);
  return s;
}

// upsample2dForward(out, input, planes, h, w, outH, outW, bilinear, alignCorners, scaleH, scaleW):
// out [planes, outH, outW] from input [planes, h, w].
Napi::Value Upsample2dForward(const Napi::CallbackInfo& info) {
  return guarded(info, "upsample2dForward", [&] {
    ArgReader a(info, "upsample2dForward", 11);
    int64_t planes = 0;
    const UpsampleShape s = read_upsample_shape(a, &planes);
    float* out = a.f32(0, "out", a.mul(planes, a.mul(s.oh, s.ow, "output"), "output"), "planes*outH*outW", true);
    const float* inp = a.f32(1, "input", a.mul(planes, a.mul(s.h, s.w, "input"), "input"), "planes*h*w", false);
    a.check_no_aliasing();
    upsample2d_forward_op(out, inp, s, planes);
    return info.Env().Undefined();
  });
}

// upsample2dBackward(dinput, doutput, <the 9 sizes as forward>): dinput [planes, h, w] += the transpose of doutput.
Napi::Value Upsample2dBackward(const Napi::CallbackInfo& info) {
  return guarded(info, "upsample2dBackward", [&] {
    ArgReader a(info, "upsample2dBackward", 11);
    int64_t planes = 0;
    const UpsampleShape s = read_upsample_shape(a, &planes);
    float* dinp = a.f32(0, "dinput", a.mul(planes, a.mul(s.h, s.w, "input"), "input"), "planes*h*w", true);
    const float* dout =
        a.f32(1, "doutput", a.mul(planes, a.mul(s.oh, s.ow, "output"), "output"), "planes*outH*outW", false);
    a.check_no_aliasing();
    upsample2d_backward_op(dinp, dout, s, planes);
    return info.Env().Undefined();
  });
}

}  // namespace

void register_upsample_exports(Napi::Env env, Napi::Object exports) {
  exports.Set("upsample2dForward", Napi::Function::New(env, Upsample2dForward, "upsample2dForward"));
  exports.Set("upsample2dBackward", Napi::Function::New(env, Upsample2dBackward, "upsample2dBackward"));
}

}  // namespace simdnet
