// SPDX-License-Identifier: MIT
// N-API surface of inference programs (ops/program.h): a synchronous run on caller memory and an
// asynchronous run on the libuv thread pool that works on copies, so JS may do anything meanwhile.
#include <napi.h>

#include <memory>
#include <string>
#include <vector>

#include "binding_checks.h"
#include "ops/program.h"

namespace simdnet {
namespace {

// Reads runProgram's (code, params) arguments and parses the program; throws on any problem.
struct ProgramArgs {
  Program program;
  std::vector<const float*> params;
  std::vector<int64_t> lengths;
};

void read_program(ArgReader& a, const Napi::CallbackInfo& info, const char* op, ProgramArgs* out) {
  const Napi::Value code_value = info[0];
  if (!code_value.IsTypedArray() || code_value.As<Napi::TypedArray>().TypedArrayType() != napi_int32_array) {
    throw_type(a.env(), std::string(op) + ": code must be an Int32Array, got " + kind_of(code_value));
  }
  const Napi::Int32Array code = code_value.As<Napi::Int32Array>();
  if (!info[1].IsArray()) throw_type(a.env(), std::string(op) + ": params must be an Array, got " + kind_of(info[1]));
  const Napi::Array params = info[1].As<Napi::Array>();
  for (uint32_t i = 0; i < params.Length(); ++i) {
    const Napi::Value p = params.Get(i);
    if (!p.IsTypedArray() || p.As<Napi::TypedArray>().TypedArrayType() != napi_float32_array) {
      throw_type(a.env(),
                 std::string(op) + ": params[" + std::to_string(i) + "] must be a Float32Array, got " + kind_of(p));
    }
    const Napi::Float32Array arr = p.As<Napi::Float32Array>();
    out->params.push_back(arr.Data());
    out->lengths.push_back(static_cast<int64_t>(arr.ElementLength()));
  }
  const std::string error =
      parse_program(code.Data(), static_cast<int64_t>(code.ElementLength()), out->lengths, &out->program);
  if (!error.empty()) throw_range(a.env(), std::string(op) + ": code: " + error);
}

// runProgram(code, params, input, output, n): output [n, outSize] from input [n, inSize].
Napi::Value RunProgram(const Napi::CallbackInfo& info) {
  return guarded(info, "runProgram", [&] {
    ArgReader a(info, "runProgram", 5);
    ProgramArgs p;
    read_program(a, info, "runProgram", &p);
    const int64_t n = a.size(4, "n");
    const float* input = a.f32(2, "input", a.mul(n, p.program.in_size, "input"), "n*inSize", false);
    float* output = a.f32(3, "output", a.mul(n, p.program.out_size, "output"), "n*outSize", true);
    a.check_no_aliasing();
    run_program(p.program, n, input, output, p.params);
    return info.Env().Undefined();
  });
}

// Owns copies of everything it reads, so the JS side can change or drop its arrays meanwhile.
class ProgramWorker : public Napi::AsyncWorker {
 public:
  ProgramWorker(Napi::Env env, Program program, std::vector<std::vector<float>> params, std::vector<float> input,
                int64_t n)
      : Napi::AsyncWorker(env, "simdnet.runProgramAsync"),
        deferred_(Napi::Promise::Deferred::New(env)),
        program_(std::move(program)),
        params_(std::move(params)),
        input_(std::move(input)),
        n_(n) {}

  Napi::Promise promise() { return deferred_.Promise(); }

  void Execute() override {
    try {
      std::vector<const float*> ptrs;
      for (const auto& p : params_) ptrs.push_back(p.data());
      output_.resize(static_cast<size_t>(n_ * program_.out_size));
      run_program(program_, n_, input_.data(), output_.data(), ptrs);
    } catch (const std::exception& e) {
      SetError(std::string("runProgramAsync: ") + e.what());
    }
  }

  void OnOK() override {
    Napi::Float32Array out = Napi::Float32Array::New(Env(), output_.size());
    std::copy(output_.begin(), output_.end(), out.Data());
    deferred_.Resolve(out);
  }

  void OnError(const Napi::Error& e) override { deferred_.Reject(e.Value()); }

 private:
  Napi::Promise::Deferred deferred_;
  Program program_;
  std::vector<std::vector<float>> params_;
  std::vector<float> input_;
  std::vector<float> output_;
  int64_t n_;
};

// runProgramAsync(code, params, input, n) -> Promise<Float32Array [n * outSize]>
Napi::Value RunProgramAsync(const Napi::CallbackInfo& info) {
  return guarded(info, "runProgramAsync", [&]() -> Napi::Value {
    ArgReader a(info, "runProgramAsync", 4);
    ProgramArgs p;
    read_program(a, info, "runProgramAsync", &p);
    const int64_t n = a.size(3, "n");
    const float* input = a.f32(2, "input", a.mul(n, p.program.in_size, "input"), "n*inSize", false);
    std::vector<std::vector<float>> params;
    for (size_t i = 0; i < p.params.size(); ++i) params.emplace_back(p.params[i], p.params[i] + p.lengths[i]);
    std::vector<float> in(input, input + n * p.program.in_size);
    auto* worker = new ProgramWorker(info.Env(), std::move(p.program), std::move(params), std::move(in), n);
    Napi::Promise promise = worker->promise();
    worker->Queue();  // the worker deletes itself when done
    return promise;
  });
}

}  // namespace

void register_program_exports(Napi::Env env, Napi::Object exports) {
  exports.Set("runProgram", Napi::Function::New(env, RunProgram, "runProgram"));
  exports.Set("runProgramAsync", Napi::Function::New(env, RunProgramAsync, "runProgramAsync"));
}

}  // namespace simdnet
