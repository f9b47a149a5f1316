// SPDX-License-Identifier: MIT
// N-API surface of 2-D convolution (ops/conv2d_op.cc picks the kernel path): the 14 sizes, the
// products they form, then the buffers. Registered by binding.cc through register_conv_exports.
#include <napi.h>

#include <string>

#include "binding.h"
#include "binding_checks.h"
#include "ops/ops.h"

namespace simdnet {
namespace {

// Conv sizes: positions [first, first + 14) hold n, c, h, w, oc, kh, kw, sh, sw, ph, pw, dh, dw, groups.
Conv2dShape read_conv2d_shape(ArgReader& a, size_t first) {
  Conv2dShape s{};
  s.n = a.size(first + 0, "n");
  s.c = a.size(first + 1, "c");
  s.h = a.size(first + 2, "h");
  s.w = a.size(first + 3, "w");
  s.oc = a.size(first + 4, "outChannels");
  s.kh = a.size(first + 5, "kernelH");
  s.kw = a.size(first + 6, "kernelW");
  s.sh = a.size(first + 7, "strideH");
  s.sw = a.size(first + 8, "strideW");
  s.ph = a.size(first + 9, "padH", 0);
  s.pw = a.size(first + 10, "padW", 0);
  s.dh = a.size(first + 11, "dilationH");
  s.dw = a.size(first + 12, "dilationW");
  s.groups = a.size(first + 13, "groups");
  // Products the output-size formula forms must not overflow (a wrapped size would be accepted).
  a.mul(s.dh, s.kh - 1, "dilated kernel height");
  a.mul(s.dw, s.kw - 1, "dilated kernel width");
  if (s.c % s.groups != 0 || s.oc % s.groups != 0) {
    throw_range(a.env(), a.prefix("groups") + " " + std::to_string(s.groups) + " must divide c " + std::to_string(s.c) +
                             " and outChannels " + std::to_string(s.oc));
  }
  s.oh = conv_output_size(s.h, s.kh, s.sh, s.ph, s.dh);
  s.ow = conv_output_size(s.w, s.kw, s.sw, s.pw, s.dw);
  if (s.oh < 1 || s.ow < 1) {
    throw_range(a.env(), a.prefix("kernel") + " " + std::to_string(s.kh) + "x" + std::to_string(s.kw) +
                             " (dilated, with padding) does not fit the input " + std::to_string(s.h) + "x" +
                             std::to_string(s.w));
  }
  return s;
}

struct ConvSizes {
  int64_t input, weight, output;
};

ConvSizes conv2d_sizes(ArgReader& a, const Conv2dShape& s) {
  return {a.mul(a.mul(s.n, s.c, "input"), a.mul(s.h, s.w, "input"), "input"),
          a.mul(a.mul(s.oc, s.c / s.groups, "weight"), a.mul(s.kh, s.kw, "weight"), "weight"),
          a.mul(a.mul(s.n, s.oc, "output"), a.mul(s.oh, s.ow, "output"), "output")};
}

// conv2dForward(out, inp, weight, bias | null, n, c, h, w, oc, kh, kw, sh, sw, ph, pw, dh, dw, groups
//               [, fuseRelu = 0])
Napi::Value Conv2dForward(const Napi::CallbackInfo& info) {
  return guarded(info, "conv2dForward", [&] {
    ArgReader a(info, "conv2dForward", 18, 19);
    const Conv2dShape s = read_conv2d_shape(a, 4);
    const ConvSizes z = conv2d_sizes(a, s);
    float* out = a.f32_overwritten(0, "out", z.output, "N*OC*OH*OW");
    const float* inp = a.f32(1, "input", z.input, "N*C*H*W", false);
    const float* w = a.f32(2, "weight", z.weight, "OC*(C/groups)*KH*KW", false);
    const float* b = a.f32(3, "bias", s.oc, "OC", false, true);
    const bool fuse_relu = a.count() == 19 && a.size(18, "fuseRelu", 0) != 0;
    a.check_no_aliasing();
    conv2d_forward_op(out, inp, w, b, s, fuse_relu);
    return info.Env().Undefined();
  });
}

// conv2dBackward(dinp | null, dweight | null, dbias | null, dout, inp, weight, <14 sizes as forward>
//                [, overwriteDinput = 0]): dinp += the input gradient, or = it with overwriteDinput.
Napi::Value Conv2dBackward(const Napi::CallbackInfo& info) {
  return guarded(info, "conv2dBackward", [&] {
    ArgReader a(info, "conv2dBackward", 20, 21);
    const Conv2dShape s = read_conv2d_shape(a, 6);
    const ConvSizes z = conv2d_sizes(a, s);
    const bool overwrite = a.count() == 21 && a.size(20, "overwriteDinput", 0) != 0;
    float* dinp = overwrite ? a.f32_overwritten(0, "dinput", z.input, "N*C*H*W", true)
                            : a.f32(0, "dinput", z.input, "N*C*H*W", true, true);
    float* dw = a.f32(1, "dweight", z.weight, "OC*(C/groups)*KH*KW", true, true);
    float* db = a.f32(2, "dbias", s.oc, "OC", true, true);
    const float* dout = a.f32(3, "doutput", z.output, "N*OC*OH*OW", false);
    const float* inp = a.f32(4, "input", z.input, "N*C*H*W", false);
    const float* w = a.f32(5, "weight", z.weight, "OC*(C/groups)*KH*KW", false);
    a.check_no_aliasing();
    conv2d_backward_op(dinp, dw, db, dout, inp, w, s, !overwrite);
    return info.Env().Undefined();
  });
}

}  // namespace

void register_conv_exports(Napi::Env env, Napi::Object exports) {
  exports.Set("conv2dForward", Napi::Function::New(env, Conv2dForward, "conv2dForward"));
  exports.Set("conv2dBackward", Napi::Function::New(env, Conv2dBackward, "conv2dBackward"));
}

}  // namespace simdnet
