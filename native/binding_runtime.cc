// SPDX-License-Identifier: MIT
// N-API surface of the runtime controls: which kernels run (kernelInfo, setIsa), how many threads
// (setNumThreads) and how much scratch memory the ops grew (scratchStats). Registered by binding.cc
// through register_runtime_exports.
#include <napi.h>

#include <string>

#include "binding.h"
#include "binding_checks.h"
#include "dispatch.h"
#include "ops/ops.h"
#include "ops/parallel.h"
#include "ops/scratch.h"

namespace simdnet {
namespace {

// kernelInfo() -> { isa, kernels: { conv2d: "avx512", ... }, supportedIsas, openmp, threads, threadsAuto,
// defaultThreads }: threads is the count in use now; threadsAuto says whether it adapts to the load.
// `kernels` lists every op of the current table with the variant it runs (dispatch.h, op_variants).
Napi::Value KernelInfo(const Napi::CallbackInfo& info) {
  return guarded(info, "kernelInfo", [&] {
    Napi::Env env = info.Env();
    const KernelTable& t = kernels();
    Napi::Object result = Napi::Object::New(env);
    result.Set("isa", t.isa);
    Napi::Object per_op = Napi::Object::New(env);
    for (const OpVariant& op : op_variants(t)) per_op.Set(op.op, op.variant);
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
    result.Set("threadsAuto", num_threads_adaptive());
    result.Set("defaultThreads", default_num_threads());
    return result;
  });
}

// scratchStats() -> { allocations, bytes }: growths of the native scratch buffers so far.
Napi::Value ScratchStatsExport(const Napi::CallbackInfo& info) {
  return guarded(info, "scratchStats", [&] {
    const ScratchStats s = scratch_stats();
    Napi::Object result = Napi::Object::New(info.Env());
    result.Set("allocations", static_cast<double>(s.allocations));
    result.Set("bytes", static_cast<double>(s.bytes));
    return result;
  });
}

// adviseHugePages(buffer: Float32Array) -> boolean: transparent huge pages for the buffer's whole 2 MiB stretches
// (ops/scratch.h advise_huge_pages), asked before the buffer is first written; false where nothing was advised.
Napi::Value AdviseHugePages(const Napi::CallbackInfo& info) {
  return guarded(info, "adviseHugePages", [&] {
    ArgReader a(info, "adviseHugePages", 1);
    const int64_t n = a.f32_length(0, "buffer");
    float* p = n > 0 ? a.f32(0, "buffer", n, "its length", false) : nullptr;
    return Napi::Boolean::New(info.Env(), p != nullptr && advise_huge_pages(p, n * 4));
  });
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

// setNumThreads(n): threads for the parallel ops, 1..1024, or "auto" (adapts to the load; see threads.cc).
Napi::Value SetNumThreads(const Napi::CallbackInfo& info) {
  return guarded(info, "setNumThreads", [&] {
    ArgReader a(info, "setNumThreads", 1);
    if (info[0].IsString() && info[0].As<Napi::String>().Utf8Value() == "auto") {
      set_num_threads(0);
      return info.Env().Undefined();
    }
    const int64_t n = a.size(0, "n");
    if (n > 1024) throw_range(a.env(), "setNumThreads: n must be at most 1024, got " + std::to_string(n));
    set_num_threads(static_cast<int>(n));
    return info.Env().Undefined();
  });
}

// markStep(): one training step ended (Optimizer.zeroGrad calls it); the 'auto' thread count's trials measure steps
// per second then (docs/threads.md).
Napi::Value MarkStep(const Napi::CallbackInfo& info) {
  return guarded(info, "markStep", [&] {
    mark_step();
    return info.Env().Undefined();
  });
}

}  // namespace

void register_runtime_exports(Napi::Env env, Napi::Object exports) {
  exports.Set("kernelInfo", Napi::Function::New(env, KernelInfo, "kernelInfo"));
  exports.Set("setIsa", Napi::Function::New(env, SetIsa, "setIsa"));
  exports.Set("scratchStats", Napi::Function::New(env, ScratchStatsExport, "scratchStats"));
  exports.Set("adviseHugePages", Napi::Function::New(env, AdviseHugePages, "adviseHugePages"));
  exports.Set("setNumThreads", Napi::Function::New(env, SetNumThreads, "setNumThreads"));
  exports.Set("markStep", Napi::Function::New(env, MarkStep, "markStep"));
}

}  // namespace simdnet
