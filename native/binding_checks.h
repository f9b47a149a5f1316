// SPDX-License-Identifier: MIT
// Argument checks shared by the binding_*.cc files: typed-array kinds and lengths, integer sizes,
// aliasing, and guarded(), every export's catch-all. Every failure throws a JS TypeError (wrong kind)
// or RangeError (bad value) naming op and argument.
#pragma once
#include <napi.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <new>
#include <stdexcept>
#include <cstdint>
#include <string>

namespace simdnet {

// Largest size we accept for one dimension or a product of dimensions: far beyond any real
// tensor, small enough that products of two never overflow int64.
constexpr int64_t kMaxElements = int64_t{1} << 40;

[[noreturn]] inline void throw_type(Napi::Env env, const std::string& msg) { throw Napi::TypeError::New(env, msg); }
[[noreturn]] inline void throw_range(Napi::Env env, const std::string& msg) { throw Napi::RangeError::New(env, msg); }

// A number as error messages show it: JavaScript's names for NaN and the infinities, else %.10g.
inline std::string format_number(double d) {
  if (std::isnan(d)) return "NaN";
  if (std::isinf(d)) return d > 0 ? "Infinity" : "-Infinity";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.10g", d);
  return buf;
}

inline std::string kind_of(const Napi::Value& v) {
  switch (v.Type()) {
    case napi_undefined:
      return "undefined";
    case napi_null:
      return "null";
    case napi_boolean:
      return "boolean";
    case napi_number:
      return "number";
    case napi_string:
      return "string";
    case napi_bigint:
      return "bigint";
    case napi_function:
      return "function";
    default:
      break;
  }
  if (v.IsTypedArray()) {
    switch (v.As<Napi::TypedArray>().TypedArrayType()) {
      case napi_float32_array:
        return "Float32Array";
      case napi_float64_array:
        return "Float64Array";
      case napi_int32_array:
        return "Int32Array";
      case napi_uint8_array:
        return "Uint8Array";
      default:
        return "another TypedArray";
    }
  }
  if (v.IsArray()) return "Array";
  if (v.IsArrayBuffer()) return "ArrayBuffer";
  return "object";
}

// One catch-all per export: JS errors pass through, C++ failures become JS errors, nothing aborts.
template <typename Fn>
Napi::Value guarded(const Napi::CallbackInfo& info, const char* op, Fn&& fn) {
  try {
    return fn();
  } catch (const Napi::Error&) {
    throw;
  } catch (const std::bad_alloc&) {
    throw Napi::Error::New(info.Env(), std::string(op) + ": out of memory");
  } catch (const std::exception& e) {
    throw Napi::Error::New(info.Env(), std::string(op) + ": " + e.what());
  }
}

// Reads the arguments of one call in order and records buffer ranges to reject aliasing.
class ArgReader {
 public:
  // Accepts between `arity` and `max_arity` arguments (trailing ones optional; default: exactly arity).
  ArgReader(const Napi::CallbackInfo& info, const char* op, size_t arity, size_t max_arity = 0) : info_(info), op_(op) {
    if (max_arity < arity) max_arity = arity;
    if (info.Length() < arity || info.Length() > max_arity) {
      const std::string expected =
          max_arity == arity ? std::to_string(arity) : std::to_string(arity) + " to " + std::to_string(max_arity);
      throw_type(info.Env(),
                 std::string(op) + ": expected " + expected + " arguments, got " + std::to_string(info.Length()));
    }
  }

  size_t count() const { return info_.Length(); }

  // An integer size >= min (and <= kMaxElements).
  int64_t size(size_t i, const char* name, int64_t min = 1) {
    const Napi::Value v = info_[i];
    if (!v.IsNumber()) throw_type(env(), prefix(name) + " must be a number, got " + kind_of(v));
    const double d = v.As<Napi::Number>().DoubleValue();
    if (!std::isfinite(d) || d != std::floor(d) || d < static_cast<double>(min) ||
        d > static_cast<double>(kMaxElements)) {
      throw_range(env(), prefix(name) + " must be an integer >= " + std::to_string(min) + ", got " + format_number(d));
    }
    return static_cast<int64_t>(d);
  }

  // A finite number, optionally within [lo, hi].
  double number(size_t i, const char* name, double lo = -INFINITY, double hi = INFINITY) {
    const Napi::Value v = info_[i];
    if (!v.IsNumber()) throw_type(env(), prefix(name) + " must be a number, got " + kind_of(v));
    const double d = v.As<Napi::Number>().DoubleValue();
    if (!std::isfinite(d) || d < lo || d > hi) {
      throw_range(env(), prefix(name) + " must be a finite number in [" + format_number(lo) + ", " + format_number(hi) +
                             "], got " + format_number(d));
    }
    return d;
  }

  // A Float32Array of exactly `expected` elements (`shape` names the product for the message).
  // `output` buffers may not overlap any other buffer of the call. Null allowed if `optional`.
  float* f32(size_t i, const char* name, int64_t expected, const char* shape, bool output, bool optional = false) {
    return static_cast<float*>(typed(i, name, napi_float32_array, "Float32Array", expected, shape, output, optional));
  }

  int32_t* i32(size_t i, const char* name, int64_t expected, const char* shape, bool output) {
    return static_cast<int32_t*>(typed(i, name, napi_int32_array, "Int32Array", expected, shape, output, false));
  }

  // A Uint8Array (a Buffer is one) of exactly `expected` bytes.
  uint8_t* u8(size_t i, const char* name, int64_t expected, const char* shape, bool output) {
    return static_cast<uint8_t*>(typed(i, name, napi_uint8_array, "Uint8Array", expected, shape, output, false));
  }

  // An output the op writes whole without reading it first (forward outputs, overwritten gradients): f32 / i32
  // with output true, but on wasm the host need not copy its old contents into the heap (native/wasm/napi.h).
  float* f32_overwritten(size_t i, const char* name, int64_t expected, const char* shape, bool optional = false) {
    return static_cast<float*>(
        typed(i, name, napi_float32_array, "Float32Array", expected, shape, true, optional, kOverwritten));
  }

  int32_t* i32_overwritten(size_t i, const char* name, int64_t expected, const char* shape) {
    return static_cast<int32_t*>(
        typed(i, name, napi_int32_array, "Int32Array", expected, shape, true, false, kOverwritten));
  }

  // A Float64Array of exactly `expected` elements (per-output divisors and other double-precision data).
  double* f64(size_t i, const char* name, int64_t expected, const char* shape, bool output) {
    return static_cast<double*>(typed(i, name, napi_float64_array, "Float64Array", expected, shape, output, false));
  }

  // The element count of a Float32Array argument, for element-wise ops whose sizes come from their buffers.
  int64_t f32_length(size_t i, const char* name) const {
    const Napi::Value v = info_[i];
    if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_float32_array) {
      throw_type(env(), prefix(name) + " must be a Float32Array, got " + kind_of(v));
    }
    return static_cast<int64_t>(v.As<Napi::TypedArray>().ElementLength());
  }

  // Allows out and inp to be the very same memory (element-wise ops may run in place).
  void allow_in_place(const char* out_name, const char* in_name) {
    allowed_out_ = out_name;
    allowed_in_ = in_name;
  }

  // Rejects overlaps between an output and any other buffer of the call.
  void check_no_aliasing() {
    for (int a = 0; a < n_spans_; ++a) {
      for (int b = 0; b < n_spans_; ++b) {
        if (a == b || !spans_[a].output || (spans_[b].output && b < a)) continue;
        const Span &x = spans_[a], &y = spans_[b];
        if (x.begin < y.end && y.begin < x.end && !same_allowed(x, y)) {
          throw_range(env(),
                      std::string(op_) + ": " + x.name + " overlaps " + y.name + " in memory; pass separate buffers");
        }
      }
    }
  }

  Napi::Env env() const { return info_.Env(); }
  std::string prefix(const char* name) const { return std::string(op_) + ": " + name; }

  // a * b with both >= 0, or a RangeError naming `what` when it would exceed kMaxElements.
  int64_t mul(int64_t a, int64_t b, const char* what) {
    if (a != 0 && b > kMaxElements / a) throw_range(env(), std::string(op_) + ": " + what + " is too large");
    return a * b;
  }

 private:
  struct Span {
    const char* name;
    uintptr_t begin, end;
    bool output;
  };

  bool same_allowed(const Span& x, const Span& y) const {
    if (allowed_out_ == nullptr) return false;
    const bool names = (std::strcmp(allowed_out_, x.name) == 0 && std::strcmp(allowed_in_, y.name) == 0) ||
                       (std::strcmp(allowed_out_, y.name) == 0 && std::strcmp(allowed_in_, x.name) == 0);
    return names && x.begin == y.begin && x.end == y.end;
  }

  enum Contents { kKept, kOverwritten };

  void* typed(size_t i, const char* name, napi_typedarray_type type, const char* type_name, int64_t expected,
              const char* shape, bool output, bool optional, Contents contents = kKept) {
    const Napi::Value v = info_[i];
    if (optional && (v.IsNull() || v.IsUndefined())) return nullptr;
    if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != type) {
      throw_type(env(),
                 prefix(name) + " must be a " + type_name + (optional ? " or null" : "") + ", got " + kind_of(v));
    }
    const Napi::TypedArray arr = v.As<Napi::TypedArray>();
    const int64_t length = static_cast<int64_t>(arr.ElementLength());
    if (length != expected) {
      throw_range(env(), prefix(name) + " length " + std::to_string(length) + " != " + shape + " = " +
                             std::to_string(expected));
    }
    // The data pointer (offset included) straight from N-API: works for SharedArrayBuffer views
    // too, where ArrayBuffer() would fail. A detached buffer has length 0 and no data.
    void* raw = nullptr;
#ifdef __EMSCRIPTEN__
    // The wasm host copies arrays into and out of the heap: an input's copy need not be written back, an
    // overwritten output's old contents need not be copied in (napi.h).
    const napi_status status = !output ? sn_get_typedarray_input_data(v, &raw)
                               : contents == kOverwritten
                                   ? sn_get_typedarray_output_data(v, &raw)
                                   : napi_get_typedarray_info(env(), v, nullptr, nullptr, &raw, nullptr, nullptr);
#else
    (void)contents;
    const napi_status status = napi_get_typedarray_info(env(), v, nullptr, nullptr, &raw, nullptr, nullptr);
#endif
    if (status != napi_ok || raw == nullptr) {
      throw_range(env(), prefix(name) + " has no memory (detached buffer?)");
    }
    uint8_t* data = static_cast<uint8_t*>(raw);
    if (n_spans_ == kMaxSpans) throw std::logic_error("ArgReader: too many buffers");
    spans_[n_spans_++] = {name, reinterpret_cast<uintptr_t>(data),
                          reinterpret_cast<uintptr_t>(data) + static_cast<uintptr_t>(arr.ByteLength()), output};
    return data;
  }

  // Fixed storage: argument checks allocate nothing on the success path.
  static constexpr int kMaxSpans = 12;
  const Napi::CallbackInfo& info_;
  const char* op_;
  Span spans_[kMaxSpans];
  int n_spans_ = 0;
  const char* allowed_out_ = nullptr;
  const char* allowed_in_ = nullptr;
};

}  // namespace simdnet
