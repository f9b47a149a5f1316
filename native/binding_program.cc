// SPDX-License-Identifier: MIT
// N-API surface of inference programs (ops/program.h): a synchronous run on caller memory, and an
// asynchronous run on the libuv thread pool that reads an immutable weight snapshot (one per weight
// version, shared by every run in flight) and a copy of its input, so JS may do anything meanwhile.
#include <napi.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "binding_checks.h"
#include "ops/conv2d_pack_cache.h"
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
    float* output = a.f32_overwritten(3, "output", a.mul(n, p.program.out_size, "output"), "n*outSize");
    a.check_no_aliasing();
    run_program(p.program, n, input, output, p.params);
    return info.Env().Undefined();
  });
}

// One weight version of a program: copies of its parameter arrays and of the arrays they derive from
// (the sources, compared by programSnapshotMatches), each distinct array stored once. Immutable once
// made, so every run that holds it reads the same values while JS changes or drops the originals;
// the conv weights packed from them are made once and kept alongside.
struct Snapshot {
  mutable ConvPackCache packed;
  std::vector<float> storage;
  std::vector<int64_t> param_offset, param_length;
  std::vector<int64_t> source_offset, source_length;
  std::vector<const float*> params() const {
    std::vector<const float*> out;
    for (const int64_t off : param_offset) out.push_back(storage.data() + off);
    return out;
  }
};

// What the JS handle (an External) holds: a share of the snapshot until released or collected.
struct SnapshotHolder {
  std::shared_ptr<const Snapshot> snapshot;
  int64_t bytes = 0;
};

constexpr napi_type_tag kSnapshotTag = {0x73696d646e657420ULL, 0x736e617073686f74ULL};

// Float32Arrays of a JS Array argument: data pointers and lengths.
void read_arrays(ArgReader& a, const Napi::Value& value, const char* op, const char* name,
                 std::vector<const float*>* data, std::vector<int64_t>* lengths) {
  if (!value.IsArray()) throw_type(a.env(), std::string(op) + ": " + name + " must be an Array, got " + kind_of(value));
  const Napi::Array list = value.As<Napi::Array>();
  for (uint32_t i = 0; i < list.Length(); ++i) {
    const Napi::Value v = list.Get(i);
    if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_float32_array) {
      throw_type(a.env(), std::string(op) + ": " + name + "[" + std::to_string(i) + "] must be a Float32Array, got " +
                              kind_of(v));
    }
    const Napi::Float32Array arr = v.As<Napi::Float32Array>();
    if (arr.ElementLength() > 0 && arr.Data() == nullptr) {
      throw_range(a.env(), std::string(op) + ": " + name + "[" + std::to_string(i) + "] has no memory (detached?)");
    }
    data->push_back(arr.Data());
    lengths->push_back(static_cast<int64_t>(arr.ElementLength()));
  }
}

SnapshotHolder& holder_of(ArgReader& a, const Napi::Value& value, const char* op) {
  if (!value.IsExternal() || !value.As<Napi::External<SnapshotHolder>>().CheckTypeTag(&kSnapshotTag)) {
    throw_type(a.env(), std::string(op) + ": snapshot must come from createProgramSnapshot, got " + kind_of(value));
  }
  return *value.As<Napi::External<SnapshotHolder>>().Data();
}

const Snapshot& live_snapshot(ArgReader& a, const SnapshotHolder& holder, const char* op) {
  if (!holder.snapshot) throw_range(a.env(), std::string(op) + ": the snapshot was released");
  return *holder.snapshot;
}

// createProgramSnapshot(params, sources) -> snapshot: copies both lists; a param that is one of the
// sources (same memory) is stored once.
Napi::Value CreateProgramSnapshot(const Napi::CallbackInfo& info) {
  return guarded(info, "createProgramSnapshot", [&]() -> Napi::Value {
    ArgReader a(info, "createProgramSnapshot", 2);
    std::vector<const float*> params, sources;
    std::vector<int64_t> param_lengths, source_lengths;
    read_arrays(a, info[0], "createProgramSnapshot", "params", &params, &param_lengths);
    read_arrays(a, info[1], "createProgramSnapshot", "sources", &sources, &source_lengths);
    auto snapshot = std::make_shared<Snapshot>();
    int64_t total = 0;
    auto place = [&](int64_t length) {
      const int64_t offset = total;
      total += length;  // lengths are below 2^53 and checked one by one: no overflow before the check
      if (total > kMaxElements) throw_range(a.env(), "createProgramSnapshot: the arrays are too large");
      return offset;
    };
    for (const int64_t length : source_lengths) {
      snapshot->source_offset.push_back(place(length));
      snapshot->source_length.push_back(length);
    }
    std::vector<int64_t> copy_from;  // param i's storage offset, or -1: copy it from params[i]
    for (size_t i = 0; i < params.size(); ++i) {
      int64_t offset = -1;
      for (size_t j = 0; j < sources.size() && offset < 0; ++j) {
        if (sources[j] == params[i] && source_lengths[j] == param_lengths[i]) offset = snapshot->source_offset[j];
      }
      copy_from.push_back(offset);
      snapshot->param_offset.push_back(offset >= 0 ? offset : place(param_lengths[i]));
      snapshot->param_length.push_back(param_lengths[i]);
    }
    snapshot->storage.resize(static_cast<size_t>(total));
    float* dst = snapshot->storage.data();
    for (size_t j = 0; j < sources.size(); ++j) {
      std::copy(sources[j], sources[j] + source_lengths[j], dst + snapshot->source_offset[j]);
    }
    for (size_t i = 0; i < params.size(); ++i) {
      if (copy_from[i] < 0) std::copy(params[i], params[i] + param_lengths[i], dst + snapshot->param_offset[i]);
    }
    auto* holder = new SnapshotHolder{std::move(snapshot), total * static_cast<int64_t>(sizeof(float))};
    Napi::MemoryManagement::AdjustExternalMemory(info.Env(), holder->bytes);
    auto handle = Napi::External<SnapshotHolder>::New(info.Env(), holder, [](Napi::Env env, SnapshotHolder* h) {
      if (h->snapshot) Napi::MemoryManagement::AdjustExternalMemory(env, -h->bytes);
      delete h;
    });
    handle.TypeTag(&kSnapshotTag);
    return handle;
  });
}

// The live sources against a snapshot's copies, in pieces of at most kFloats floats (the pieces a run's threads share
// when the check runs inside it). Empty with `matches` false when the lists differ in count or lengths.
struct SourcePieces {
  static constexpr int64_t kFloats = 16384;
  struct Piece {
    const float* live;
    const float* copy;
    int64_t length;
  };
  std::vector<Piece> pieces;
  bool lengths_match = true;

  SourcePieces(const Snapshot& s, const std::vector<const float*>& sources, const std::vector<int64_t>& lengths) {
    lengths_match = sources.size() == s.source_offset.size();
    for (size_t j = 0; lengths_match && j < sources.size(); ++j) {
      lengths_match = lengths[j] == s.source_length[j];
      for (int64_t at = 0; lengths_match && at < lengths[j]; at += kFloats) {
        pieces.push_back(
            {sources[j] + at, s.storage.data() + s.source_offset[j] + at, std::min(kFloats, lengths[j] - at)});
      }
    }
  }
  bool same(int64_t i) const {
    const Piece& p = pieces[static_cast<size_t>(i)];
    return std::memcmp(p.live, p.copy, p.length * sizeof(float)) == 0;
  }
};

// programSnapshotMatches(snapshot, sources) -> true when every source holds exactly (bit for bit)
// the values the snapshot copied: then the snapshot is the current weight version.
Napi::Value ProgramSnapshotMatches(const Napi::CallbackInfo& info) {
  return guarded(info, "programSnapshotMatches", [&]() -> Napi::Value {
    ArgReader a(info, "programSnapshotMatches", 2);
    const Snapshot& s = live_snapshot(a, holder_of(a, info[0], "programSnapshotMatches"), "programSnapshotMatches");
    std::vector<const float*> sources;
    std::vector<int64_t> lengths;
    read_arrays(a, info[1], "programSnapshotMatches", "sources", &sources, &lengths);
    const SourcePieces check(s, sources, lengths);
    bool same = check.lengths_match;
    for (size_t i = 0; same && i < check.pieces.size(); ++i) same = check.same(static_cast<int64_t>(i));
    return Napi::Boolean::New(info.Env(), same);
  });
}

// releaseProgramSnapshot(snapshot): drops the handle's share now (runs still in flight keep theirs).
Napi::Value ReleaseProgramSnapshot(const Napi::CallbackInfo& info) {
  return guarded(info, "releaseProgramSnapshot", [&]() -> Napi::Value {
    ArgReader a(info, "releaseProgramSnapshot", 1);
    SnapshotHolder& holder = holder_of(a, info[0], "releaseProgramSnapshot");
    if (holder.snapshot) Napi::MemoryManagement::AdjustExternalMemory(info.Env(), -holder.bytes);
    holder.snapshot.reset();
    return info.Env().Undefined();
  });
}

// The program of `code` (info[0]) checked against a snapshot's parameter lengths; throws on any problem.
Program snapshot_program(ArgReader& a, const Napi::Value& code_value, const Snapshot& snapshot, const char* op) {
  if (!code_value.IsTypedArray() || code_value.As<Napi::TypedArray>().TypedArrayType() != napi_int32_array) {
    throw_type(a.env(), std::string(op) + ": code must be an Int32Array, got " + kind_of(code_value));
  }
  const Napi::Int32Array code = code_value.As<Napi::Int32Array>();
  Program program;
  const std::string error =
      parse_program(code.Data(), static_cast<int64_t>(code.ElementLength()), snapshot.param_length, &program);
  if (!error.empty()) throw_range(a.env(), std::string(op) + ": code: " + error);
  return program;
}

// runProgramSnapshot(code, snapshot, input, output, n[, sources]) -> boolean: runProgram with a snapshot's weights, on
// this thread. With sources, the run first checks, on its threads, that they still hold the snapshot's values
// (programSnapshotMatches); when they do not, nothing runs and the result is false.
Napi::Value RunProgramSnapshot(const Napi::CallbackInfo& info) {
  return guarded(info, "runProgramSnapshot", [&]() -> Napi::Value {
    ArgReader a(info, "runProgramSnapshot", 5, 6);
    const Snapshot& snapshot = live_snapshot(a, holder_of(a, info[1], "runProgramSnapshot"), "runProgramSnapshot");
    const Program program = snapshot_program(a, info[0], snapshot, "runProgramSnapshot");
    const int64_t n = a.size(4, "n");
    const float* input = a.f32(2, "input", a.mul(n, program.in_size, "input"), "n*inSize", false);
    // With sources the run may write nothing (a failed check), and the output must then keep its contents: an
    // ordinary output (on wasm, copied into the heap), not one the call overwrites whole.
    const bool checked = a.count() == 6 && !info[5].IsUndefined();
    const int64_t out_count = a.mul(n, program.out_size, "output");
    float* output = checked ? a.f32(3, "output", out_count, "n*outSize", true)
                            : a.f32_overwritten(3, "output", out_count, "n*outSize");
    a.check_no_aliasing();
    if (!checked) {
      run_program(program, n, input, output, snapshot.params(), &snapshot.packed);
      return Napi::Boolean::New(info.Env(), true);
    }
    std::vector<const float*> sources;
    std::vector<int64_t> lengths;
    read_arrays(a, info[5], "runProgramSnapshot", "sources", &sources, &lengths);
    const SourcePieces pieces(snapshot, sources, lengths);
    if (!pieces.lengths_match) return Napi::Boolean::New(info.Env(), false);
    const WeightCheck check{static_cast<int64_t>(pieces.pieces.size()), [&](int64_t i) { return pieces.same(i); }};
    return Napi::Boolean::New(info.Env(),
                              run_program(program, n, input, output, snapshot.params(), &snapshot.packed, &check));
  });
}

// Runs a program on the libuv thread pool: shares the weight snapshot, owns a copy of the input (or, in place, holds
// the caller's input array and reads it there), and writes into an output array no JS code sees before the promise
// resolves.
class ProgramWorker : public Napi::AsyncWorker {
 public:
  ProgramWorker(Napi::Env env, Program program, std::shared_ptr<const Snapshot> snapshot, int64_t n)
      : Napi::AsyncWorker(env, "simdnet.runProgramAsync"),
        deferred_(Napi::Promise::Deferred::New(env)),
        program_(std::move(program)),
        snapshot_(std::move(snapshot)),
        n_(n) {
    Napi::Float32Array out = Napi::Float32Array::New(env, static_cast<size_t>(n * program_.out_size));
    output_data_ = out.Data();
    output_ = Napi::Persistent(static_cast<Napi::Object>(out));
  }

  // The input: copied now, or (in_place) read where it is while the worker holds a reference to its array.
  void take_input(const float* data, const Napi::Value& array, bool in_place) {
    if (in_place) {
      input_array_ = Napi::Persistent(array.As<Napi::Object>());
      input_data_ = data;
    } else {
      input_copy_.assign(data, data + n_ * program_.in_size);
      input_data_ = input_copy_.data();
    }
  }

  Napi::Promise promise() { return deferred_.Promise(); }

  void Execute() override {
    try {
      run_program(program_, n_, input_data_, output_data_, snapshot_->params(), &snapshot_->packed);
    } catch (const std::exception& e) {
      SetError(std::string("runProgramAsync: ") + e.what());
    }
  }

  void OnOK() override { deferred_.Resolve(output_.Value()); }

  void OnError(const Napi::Error& e) override { deferred_.Reject(e.Value()); }

 private:
  Napi::Promise::Deferred deferred_;
  Program program_;
  std::shared_ptr<const Snapshot> snapshot_;
  std::vector<float> input_copy_;
  Napi::ObjectReference input_array_;
  const float* input_data_ = nullptr;
  Napi::ObjectReference output_;
  float* output_data_ = nullptr;
  int64_t n_;
};

// runProgramAsync(code, snapshot, input, n) -> Promise<Float32Array [n * outSize]>, and runProgramAsyncInPlace (same
// arguments): the caller leaves the input unchanged until the promise settles, and the run reads it in place rather
// than copying it first (a batch of 32 LeNet images is 393 KB: the copy was about 30 us of the event loop's time per
// batch, docs/serving.md). The wasm build always copies: its input is a copy in the heap for this call only.
Napi::Value run_program_async(const Napi::CallbackInfo& info, const char* op, bool in_place) {
  return guarded(info, op, [&]() -> Napi::Value {
    ArgReader a(info, op, 4);
    const std::shared_ptr<const Snapshot> snapshot = holder_of(a, info[1], op).snapshot;
    if (!snapshot) throw_range(a.env(), std::string(op) + ": the snapshot was released");
    Program program = snapshot_program(a, info[0], *snapshot, op);
    const int64_t n = a.size(3, "n");
    const float* input = a.f32(2, "input", a.mul(n, program.in_size, "input"), "n*inSize", false);
    a.mul(n, program.out_size, "output");
#ifdef __EMSCRIPTEN__
    in_place = false;
#endif
    auto* worker = new ProgramWorker(info.Env(), std::move(program), snapshot, n);
    worker->take_input(input, info[2], in_place);
    Napi::Promise promise = worker->promise();
    worker->Queue();  // the worker deletes itself when done
    return promise;
  });
}

Napi::Value RunProgramAsync(const Napi::CallbackInfo& info) {
  return run_program_async(info, "runProgramAsync", false);
}

Napi::Value RunProgramAsyncInPlace(const Napi::CallbackInfo& info) {
  return run_program_async(info, "runProgramAsyncInPlace", true);
}

}  // namespace

void register_program_exports(Napi::Env env, Napi::Object exports) {
  exports.Set("runProgram", Napi::Function::New(env, RunProgram, "runProgram"));
  exports.Set("runProgramAsync", Napi::Function::New(env, RunProgramAsync, "runProgramAsync"));
  exports.Set("runProgramAsyncInPlace", Napi::Function::New(env, RunProgramAsyncInPlace, "runProgramAsyncInPlace"));
  exports.Set("runProgramSnapshot", Napi::Function::New(env, RunProgramSnapshot, "runProgramSnapshot"));
  exports.Set("createProgramSnapshot", Napi::Function::New(env, CreateProgramSnapshot, "createProgramSnapshot"));
  exports.Set("programSnapshotMatches", Napi::Function::New(env, ProgramSnapshotMatches, "programSnapshotMatches"));
  exports.Set("releaseProgramSnapshot", Napi::Function::New(env, ReleaseProgramSnapshot, "releaseProgramSnapshot"));
}

}  // namespace simdnet
