// SPDX-License-Identifier: MIT
// The N-API surface: validates every argument, then calls the op or kernel. Only binding*.cc
// files include napi.h (binding_program.cc holds the inference-program exports). Argument order follows the kernels:
// outputs, saved buffers, inputs, then sizes.
#include <napi.h>

#include <new>
#include <string>

#include "binding_checks.h"
#include "dispatch.h"
#include "ops/ops.h"
#include "ops/parallel.h"
#include "ops/scratch.h"

namespace simdnet {

void register_program_exports(Napi::Env env, Napi::Object exports);  // binding_program.cc
void register_norm_exports(Napi::Env env, Napi::Object exports);     // binding_norm.cc
void register_pool_exports(Napi::Env env, Napi::Object exports);     // binding_pool.cc

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
    float* out = a.f32(0, "out", z.output, "N*OC*OH*OW", true);
    const float* inp = a.f32(1, "input", z.input, "N*C*H*W", false);
    const float* w = a.f32(2, "weight", z.weight, "OC*(C/groups)*KH*KW", false);
    const float* b = a.f32(3, "bias", s.oc, "OC", false, true);
    const bool fuse_relu = a.count() == 19 && a.size(18, "fuseRelu", 0) != 0;
    a.check_no_aliasing();
    conv2d_forward_op(out, inp, w, b, s, fuse_relu);
    return info.Env().Undefined();
  });
}

// conv2dBackward(dinp | null, dweight | null, dbias | null, dout, inp, weight, <14 sizes as forward>)
Napi::Value Conv2dBackward(const Napi::CallbackInfo& info) {
  return guarded(info, "conv2dBackward", [&] {
    ArgReader a(info, "conv2dBackward", 20);
    const Conv2dShape s = read_conv2d_shape(a, 6);
    const ConvSizes z = conv2d_sizes(a, s);
    float* dinp = a.f32(0, "dinput", z.input, "N*C*H*W", true, true);
    float* dw = a.f32(1, "dweight", z.weight, "OC*(C/groups)*KH*KW", true, true);
    float* db = a.f32(2, "dbias", s.oc, "OC", true, true);
    const float* dout = a.f32(3, "doutput", z.output, "N*OC*OH*OW", false);
    const float* inp = a.f32(4, "input", z.input, "N*C*H*W", false);
    const float* w = a.f32(5, "weight", z.weight, "OC*(C/groups)*KH*KW", false);
    a.check_no_aliasing();
    conv2d_backward_op(dinp, dw, db, dout, inp, w, s);
    return info.Env().Undefined();
  });
}

// Pool sizes: positions [first, first + 11) hold n, c, h, w, kh, kw, sh, sw, ph, pw, ceilMode, then the
// optional dilationH, dilationW (default 1).
Pool2dShape read_pool2d_shape(ArgReader& a, size_t first) {
  Pool2dShape s{};
  s.n = a.size(first + 0, "n");
  s.c = a.size(first + 1, "c");
  s.h = a.size(first + 2, "h");
  s.w = a.size(first + 3, "w");
  s.kh = a.size(first + 4, "kernelH");
  s.kw = a.size(first + 5, "kernelW");
  s.sh = a.size(first + 6, "strideH");
  s.sw = a.size(first + 7, "strideW");
  s.ph = a.size(first + 8, "padH", 0);
  s.pw = a.size(first + 9, "padW", 0);
  const bool ceil_mode = a.size(first + 10, "ceilMode", 0) != 0;
  s.dh = a.count() > first + 11 ? a.size(first + 11, "dilationH") : 1;
  s.dw = a.count() > first + 12 ? a.size(first + 12, "dilationW") : 1;
  // Products the output-size formula forms must not overflow (a wrapped size would be accepted).
  a.mul(s.dh, s.kh - 1, "dilated kernel height");
  a.mul(s.dw, s.kw - 1, "dilated kernel width");
  if (2 * s.ph > s.kh || 2 * s.pw > s.kw) {
    throw_range(a.env(), a.prefix("padding") + " " + std::to_string(s.ph) + "x" + std::to_string(s.pw) +
                             " must be at most half the kernel " + std::to_string(s.kh) + "x" + std::to_string(s.kw));
  }
  const std::string dilated =
      s.dh == 1 && s.dw == 1 ? "" : " (dilation " + std::to_string(s.dh) + "x" + std::to_string(s.dw) + ")";
  s.oh = pool_output_size(s.h, s.kh, s.sh, s.ph, s.dh, ceil_mode);
  s.ow = pool_output_size(s.w, s.kw, s.sw, s.pw, s.dw, ceil_mode);
  if (s.oh < 1 || s.ow < 1) {
    throw_range(a.env(), a.prefix("kernel") + " " + std::to_string(s.kh) + "x" + std::to_string(s.kw) + dilated +
                             " does not fit the input " + std::to_string(s.h) + "x" + std::to_string(s.w));
  }
  if (pool_window_in_padding(s.h, s.kh, s.ph, s.dh) || pool_window_in_padding(s.w, s.kw, s.pw, s.dw)) {
    throw_range(a.env(), a.prefix("kernel") + " " + std::to_string(s.kh) + "x" + std::to_string(s.kw) + dilated +
                             " has a window holding only padding on the input " + std::to_string(s.h) + "x" +
                             std::to_string(s.w));
  }
  return s;
}

// maxPool2dForward(out, argmax, inp, n, c, h, w, kh, kw, sh, sw, ph, pw, ceilMode
//                 [, dilationH = 1, dilationW = 1])
Napi::Value MaxPool2dForward(const Napi::CallbackInfo& info) {
  return guarded(info, "maxPool2dForward", [&] {
    ArgReader a(info, "maxPool2dForward", 14, 16);
    const Pool2dShape s = read_pool2d_shape(a, 3);
    const int64_t planes = a.mul(s.n, s.c, "input");
    const int64_t in_count = a.mul(planes, a.mul(s.h, s.w, "input"), "input");
    const int64_t out_count = a.mul(planes, a.mul(s.oh, s.ow, "output"), "output");
    if (s.h * s.w > INT32_MAX) throw_range(a.env(), a.prefix("input") + " plane is too large for int32 argmax");
    float* out = a.f32(0, "out", out_count, "N*C*OH*OW", true);
    int32_t* argmax = a.i32(1, "argmax", out_count, "N*C*OH*OW", true);
    const float* inp = a.f32(2, "input", in_count, "N*C*H*W", false);
    a.check_no_aliasing();
    maxpool2d_forward_op(out, argmax, inp, s);
    return info.Env().Undefined();
  });
}

// maxPool2dBackward(dinp, dout, argmax, n, c, h, w, kh, kw, sh, sw, ph, pw, ceilMode
//                  [, dilationH = 1, dilationW = 1])
Napi::Value MaxPool2dBackward(const Napi::CallbackInfo& info) {
  return guarded(info, "maxPool2dBackward", [&] {
    ArgReader a(info, "maxPool2dBackward", 14, 16);
    const Pool2dShape s = read_pool2d_shape(a, 3);
    const int64_t planes = a.mul(s.n, s.c, "input");
    const int64_t in_count = a.mul(planes, a.mul(s.h, s.w, "input"), "input");
    const int64_t out_count = a.mul(planes, a.mul(s.oh, s.ow, "output"), "output");
    float* dinp = a.f32(0, "dinput", in_count, "N*C*H*W", true);
    const float* dout = a.f32(1, "doutput", out_count, "N*C*OH*OW", false);
    const int32_t* argmax = a.i32(2, "argmax", out_count, "N*C*OH*OW", false);
    a.check_no_aliasing();
    const int64_t plane = s.h * s.w;
    for (int64_t i = 0; i < out_count; ++i) {
      if (argmax[i] < 0 || argmax[i] >= plane) {
        throw_range(a.env(), a.prefix("argmax") + "[" + std::to_string(i) + "] = " + std::to_string(argmax[i]) +
                                 " is outside the H*W plane of " + std::to_string(plane));
      }
    }
    maxpool2d_backward_op(dinp, dout, argmax, s);
    return info.Env().Undefined();
  });
}

// linearForward(out, inp, weight, bias | null, batch, inFeatures, outFeatures)
Napi::Value LinearForward(const Napi::CallbackInfo& info) {
  return guarded(info, "linearForward", [&] {
    ArgReader a(info, "linearForward", 7);
    const DenseShape s{a.size(4, "batch"), a.size(5, "inFeatures"), a.size(6, "outFeatures")};
    float* out = a.f32(0, "out", a.mul(s.batch, s.out, "output"), "B*OUT", true);
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

int64_t typed_length(const Napi::CallbackInfo& info, size_t i, const char* op, const char* name) {
  const Napi::Value v = info[i];
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_float32_array) {
    throw_type(info.Env(), std::string(op) + ": " + name + " must be a Float32Array, got " + kind_of(v));
  }
  return static_cast<int64_t>(v.As<Napi::TypedArray>().ElementLength());
}

// reluForward(out, inp): equal lengths; out may be inp itself.
Napi::Value ReluForward(const Napi::CallbackInfo& info) {
  return guarded(info, "reluForward", [&] {
    ArgReader a(info, "reluForward", 2);
    const int64_t n = typed_length(info, 1, "reluForward", "input");
    if (n < 1) throw_range(a.env(), a.prefix("input") + " must not be empty");
    float* out = a.f32(0, "out", n, "input length", true);
    const float* inp = a.f32(1, "input", n, "input length", false);
    a.allow_in_place("out", "input");
    a.check_no_aliasing();
    kernels().relu_forward(out, inp, n);
    return info.Env().Undefined();
  });
}

// reluBackward(dinp, dout, out): equal lengths.
Napi::Value ReluBackward(const Napi::CallbackInfo& info) {
  return guarded(info, "reluBackward", [&] {
    ArgReader a(info, "reluBackward", 3);
    const int64_t n = typed_length(info, 1, "reluBackward", "doutput");
    if (n < 1) throw_range(a.env(), a.prefix("doutput") + " must not be empty");
    float* dinp = a.f32(0, "dinput", n, "doutput length", true);
    const float* dout = a.f32(1, "doutput", n, "doutput length", false);
    const float* out = a.f32(2, "output", n, "doutput length", false);
    a.check_no_aliasing();
    kernels().relu_backward(dinp, dout, out, n);
    return info.Env().Undefined();
  });
}

// reluMask(grad, out): grad = out > 0 ? grad : 0 in place; equal lengths.
Napi::Value ReluMask(const Napi::CallbackInfo& info) {
  return guarded(info, "reluMask", [&] {
    ArgReader a(info, "reluMask", 2);
    const int64_t n = typed_length(info, 0, "reluMask", "grad");
    if (n < 1) throw_range(a.env(), a.prefix("grad") + " must not be empty");
    float* grad = a.f32(0, "grad", n, "grad length", true);
    const float* out = a.f32(1, "output", n, "grad length", false);
    a.check_no_aliasing();
    kernels().relu_mask(grad, out, n);
    return info.Env().Undefined();
  });
}

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
    float* probs = a.f32(0, "probs", count, "B*K", true);
    const float* logits = a.f32(1, "logits", count, "B*K", false);
    const int32_t* targets = read_targets(a, 2, s);
    a.check_no_aliasing();
    return Napi::Number::New(info.Env(), kernels().cross_entropy_forward(probs, logits, targets, s));
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
    kernels().cross_entropy_backward(dlogits, probs, targets, static_cast<float>(scale), s);
    return info.Env().Undefined();
  });
}

// adamStep(param, m, v, grad, lr, beta1, beta2, eps, weightDecay, step): all buffers the same length.
Napi::Value AdamStep(const Napi::CallbackInfo& info) {
  return guarded(info, "adamStep", [&] {
    ArgReader a(info, "adamStep", 10);
    const int64_t n = typed_length(info, 0, "adamStep", "param");
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
    kernels().adam_step(param, m, v, grad, h, n);
    return info.Env().Undefined();
  });
}

// kernelInfo() -> { isa, kernels: { conv2d: "avx512", ... }, supportedIsas, openmp, threads, defaultThreads }
Napi::Value KernelInfo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const KernelTable& t = kernels();
  Napi::Object result = Napi::Object::New(env);
  result.Set("isa", t.isa);
  Napi::Object per_op = Napi::Object::New(env);
  // Every op but pooling has a variant per ISA. Pooling: a 2x2/stride-2 kernel built with baseline
  // flags (4-wide vectors suit its short rows) for the SIMD tables, the reference otherwise.
  for (const char* op : {"conv2d", "linear", "relu", "crossEntropy", "adam"}) per_op.Set(op, t.isa);
  per_op.Set("maxpool2d", t.maxpool2d_2x2_forward ? "baseline" : "ref");
  result.Set("kernels", per_op);
  Napi::Array isas = Napi::Array::New(env);
  const auto names = supported_isas();
  for (size_t i = 0; i < names.size(); ++i) isas.Set(static_cast<uint32_t>(i), names[i]);
  result.Set("supportedIsas", isas);
#ifdef _OPENMP
  result.Set("openmp", true);
#else
  result.Set("openmp", false);
#endif
  result.Set("threads", num_threads());
  result.Set("defaultThreads", default_num_threads());
  return result;
}

// scratchStats() -> { allocations, bytes }: growths of the native scratch buffers so far.
Napi::Value ScratchStatsExport(const Napi::CallbackInfo& info) {
  const ScratchStats s = scratch_stats();
  Napi::Object result = Napi::Object::New(info.Env());
  result.Set("allocations", static_cast<double>(s.allocations));
  result.Set("bytes", static_cast<double>(s.bytes));
  return result;
}

// setIsa(name): "auto" or one of kernelInfo().supportedIsas; RangeError otherwise.
Napi::Value SetIsa(const Napi::CallbackInfo& info) {
  return guarded(info, "setIsa", [&] {
    ArgReader a(info, "setIsa", 1);
    if (!info[0].IsString()) throw_type(a.env(), "setIsa: name must be a string, got " + kind_of(info[0]));
    const std::string name = info[0].As<Napi::String>().Utf8Value();
    if (!set_isa(name)) {
      std::string list = "auto";
      for (const auto& n : supported_isas()) list += ", " + n;
      throw_range(a.env(), "setIsa: '" + name + "' is not supported on this CPU/build (choose one of: " + list + ")");
    }
    return Napi::String::New(info.Env(), kernels().isa);
  });
}

// setNumThreads(n): threads for the parallel ops, 1..1024.
Napi::Value SetNumThreads(const Napi::CallbackInfo& info) {
  return guarded(info, "setNumThreads", [&] {
    ArgReader a(info, "setNumThreads", 1);
    const int64_t n = a.size(0, "n");
    if (n > 1024) throw_range(a.env(), "setNumThreads: n must be at most 1024, got " + std::to_string(n));
    set_num_threads(static_cast<int>(n));
    return info.Env().Undefined();
  });
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("conv2dForward", Napi::Function::New(env, Conv2dForward, "conv2dForward"));
  exports.Set("conv2dBackward", Napi::Function::New(env, Conv2dBackward, "conv2dBackward"));
  exports.Set("maxPool2dForward", Napi::Function::New(env, MaxPool2dForward, "maxPool2dForward"));
  exports.Set("maxPool2dBackward", Napi::Function::New(env, MaxPool2dBackward, "maxPool2dBackward"));
  exports.Set("linearForward", Napi::Function::New(env, LinearForward, "linearForward"));
  exports.Set("linearBackward", Napi::Function::New(env, LinearBackward, "linearBackward"));
  exports.Set("reluForward", Napi::Function::New(env, ReluForward, "reluForward"));
  exports.Set("reluBackward", Napi::Function::New(env, ReluBackward, "reluBackward"));
  exports.Set("reluMask", Napi::Function::New(env, ReluMask, "reluMask"));
  exports.Set("crossEntropyForward", Napi::Function::New(env, CrossEntropyForward, "crossEntropyForward"));
  exports.Set("crossEntropyBackward", Napi::Function::New(env, CrossEntropyBackward, "crossEntropyBackward"));
  exports.Set("adamStep", Napi::Function::New(env, AdamStep, "adamStep"));
  exports.Set("kernelInfo", Napi::Function::New(env, KernelInfo, "kernelInfo"));
  exports.Set("setIsa", Napi::Function::New(env, SetIsa, "setIsa"));
  exports.Set("scratchStats", Napi::Function::New(env, ScratchStatsExport, "scratchStats"));
  exports.Set("setNumThreads", Napi::Function::New(env, SetNumThreads, "setNumThreads"));
  register_program_exports(env, exports);
  register_norm_exports(env, exports);
  register_pool_exports(env, exports);
  return exports;
}

}  // namespace
}  // namespace simdnet

static Napi::Object InitSimdnet(Napi::Env env, Napi::Object exports) { return simdnet::Init(env, exports); }

NODE_API_MODULE(simdnet, InitSimdnet)
