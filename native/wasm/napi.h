// SPDX-License-Identifier: MIT
// The subset of node-addon-api (napi.h) that native/binding*.cc use, for the WebAssembly build: the
// binding files compile unchanged, so the wasm backend runs the same argument checks and messages.
// JS values live in a handle table on the JS side (lib/backend/wasm-host.ts); these classes hold a
// handle and call the host through the imports declared in napi_host.h. Not a general N-API.
#pragma once
#include <cstddef>
#include <cstdint>
#include <exception>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "napi_host.h"

typedef enum {
  napi_undefined,
  napi_null,
  napi_boolean,
  napi_number,
  napi_string,
  napi_symbol,
  napi_object,
  napi_function,
  napi_external,
  napi_bigint,
} napi_valuetype;

typedef enum {
  napi_int8_array,
  napi_uint8_array,
  napi_uint8_clamped_array,
  napi_int16_array,
  napi_uint16_array,
  napi_int32_array,
  napi_uint32_array,
  napi_float32_array,
  napi_float64_array,
  napi_bigint64_array,
  napi_biguint64_array,
} napi_typedarray_type;

typedef enum { napi_ok, napi_invalid_arg } napi_status;
typedef struct {
  uint64_t lower;
  uint64_t upper;
} napi_type_tag;
typedef struct napi_env__* napi_env;
typedef struct napi_value__* napi_value;  // the handle + 1, so that 0 stays "no value"

namespace Napi {

class Env {
 public:
  operator napi_env() const { return nullptr; }
  class Value Undefined() const;
};

class Value {
 public:
  Value() = default;
  Value(Env, int handle) : handle_(handle) {}
  operator napi_value() const { return reinterpret_cast<napi_value>(static_cast<uintptr_t>(handle_) + 1); }
  int handle() const { return handle_; }
  Napi::Env Env() const { return {}; }
  napi_valuetype Type() const { return static_cast<napi_valuetype>(sn_js_type(handle_)); }
  bool IsUndefined() const { return Type() == napi_undefined; }
  bool IsNull() const { return Type() == napi_null; }
  bool IsNumber() const { return Type() == napi_number; }
  bool IsString() const { return Type() == napi_string; }
  bool IsTypedArray() const { return sn_js_typedarray_type(handle_) >= 0; }
  bool IsArray() const { return sn_js_is_array(handle_) != 0; }
  bool IsArrayBuffer() const { return sn_js_is_arraybuffer(handle_) != 0; }
  bool IsExternal() const { return Type() == napi_external; }
  template <typename T>
  T As() const {
    return T(Napi::Env(), handle_);
  }

 protected:
  int handle_ = 0;
};

inline Value Env::Undefined() const { return Value(*this, sn_js_undefined()); }

class Number : public Value {
 public:
  using Value::Value;
  static Number New(Napi::Env env, double v) { return Number(env, sn_js_new_number(v)); }
  double DoubleValue() const { return sn_js_number(handle_); }
};

class Boolean : public Value {
 public:
  using Value::Value;
  static Boolean New(Napi::Env env, bool v) { return Boolean(env, sn_js_new_bool(v ? 1 : 0)); }
};

class String : public Value {
 public:
  using Value::Value;
  static String New(Napi::Env env, const std::string& s) {
    return String(env, sn_js_new_string(s.data(), static_cast<int>(s.size())));
  }
  std::string Utf8Value() const {
    std::string s(static_cast<size_t>(sn_js_string_length(handle_)), '\0');
    if (!s.empty()) sn_js_string_read(handle_, &s[0], static_cast<int>(s.size()));
    return s;
  }
};

// Converts what Object::Set and Array::Set take into a handle.
inline int to_handle(Env, const Value& v) { return v.handle(); }
inline int to_handle(Env, const char* s) {
  return sn_js_new_string(s, static_cast<int>(std::char_traits<char>::length(s)));
}
inline int to_handle(Env, const std::string& s) { return sn_js_new_string(s.data(), static_cast<int>(s.size())); }
inline int to_handle(Env, bool b) { return sn_js_new_bool(b ? 1 : 0); }
template <typename T, typename = std::enable_if_t<std::is_arithmetic<T>::value && !std::is_same<T, bool>::value>>
int to_handle(Env, T v) {
  return sn_js_new_number(static_cast<double>(v));
}

class Object : public Value {
 public:
  using Value::Value;
  static Object New(Napi::Env env) { return Object(env, sn_js_new_object()); }
  template <typename T>
  void Set(const char* key, const T& v) {
    sn_js_set_named(handle_, key, to_handle(Napi::Env(), v));
  }
};

// Typed arrays read through Get() are treated as read-only (the host does not copy them back after the call):
// the binding only reads through Array elements (program params, snapshot sources). Write through arguments.
class Array : public Object {
 public:
  using Object::Object;
  static Array New(Napi::Env env) { return Array(env, sn_js_new_array()); }
  uint32_t Length() const { return static_cast<uint32_t>(sn_js_length(handle_)); }
  Value Get(uint32_t i) const { return Value(Napi::Env(), sn_js_get_index(handle_, i)); }
  template <typename T>
  void Set(uint32_t i, const T& v) {
    sn_js_set_index(handle_, i, to_handle(Napi::Env(), v));
  }
};

class TypedArray : public Object {
 public:
  using Object::Object;
  napi_typedarray_type TypedArrayType() const {
    return static_cast<napi_typedarray_type>(sn_js_typedarray_type(handle_));
  }
  size_t ElementLength() const { return static_cast<size_t>(sn_js_length(handle_)); }
  size_t ByteLength() const { return static_cast<size_t>(sn_js_byte_length(handle_)); }
};

// Data() is a copy of the array's bytes in the wasm heap, written back to the array after the call.
template <typename T, napi_typedarray_type kType>
class TypedArrayOf : public TypedArray {
 public:
  using TypedArray::TypedArray;
  static TypedArrayOf New(Napi::Env env, size_t length) {
    return TypedArrayOf(env, sn_js_new_typedarray(kType, static_cast<double>(length)));
  }
  T* Data() const { return static_cast<T*>(sn_js_data(handle_)); }
};
using Float32Array = TypedArrayOf<float, napi_float32_array>;
using Int32Array = TypedArrayOf<int32_t, napi_int32_array>;

// A JS error object; thrown as a C++ exception and handed to JS by the call trampoline (napi_shim.cc).
class Error : public Object, public std::exception {
 public:
  Error(Napi::Env env, int handle) : Object(env, handle) {}
  static Error New(Napi::Env env, const std::string& msg) { return make(env, kError, msg); }
  Napi::Value Value() const { return *this; }
  const char* what() const noexcept override { return "JavaScript error"; }

 protected:
  enum Kind { kError = 0, kTypeError = 1, kRangeError = 2 };
  static Error make(Napi::Env env, Kind kind, const std::string& msg) {
    return Error(env, sn_js_new_error(kind, msg.data(), static_cast<int>(msg.size())));
  }
};

class TypeError : public Error {
 public:
  using Error::Error;
  TypeError(const Error& e) : Error(e) {}
  static TypeError New(Napi::Env env, const std::string& msg) { return make(env, kTypeError, msg); }
};

class RangeError : public Error {
 public:
  using Error::Error;
  RangeError(const Error& e) : Error(e) {}
  static RangeError New(Napi::Env env, const std::string& msg) { return make(env, kRangeError, msg); }
};

// What an External's JS object stands for (the host maps the object to this box): the data pointer, its
// type tag, and the finalizer, which the host calls (sn_external_finalize) when JS has dropped the object.
struct ExternalBox {
  explicit ExternalBox(void* d) : data(d) {}
  virtual ~ExternalBox() = default;
  virtual void Finalize() {}
  void* data;
  napi_type_tag tag = {0, 0};
  bool tagged = false;
};

template <typename T>
class External : public Value {
 public:
  using Value::Value;
  static External New(Napi::Env env, T* data) { return External(env, sn_js_new_external(new ExternalBox(data))); }
  template <typename Finalizer>
  static External New(Napi::Env env, T* data, Finalizer finalizer) {
    struct Box : ExternalBox {
      Box(T* d, Finalizer f) : ExternalBox(d), finalizer(std::move(f)) {}
      void Finalize() override { finalizer(Napi::Env(), static_cast<T*>(data)); }
      Finalizer finalizer;
    };
    return External(env, sn_js_new_external(new Box(data, std::move(finalizer))));
  }
  T* Data() const { return static_cast<T*>(box()->data); }
  // As napi_type_tag_object: an object is tagged once; a second tag is an error.
  void TypeTag(const napi_type_tag* tag) const;
  bool CheckTypeTag(const napi_type_tag* tag) const {
    const ExternalBox* b = box();
    return b->tagged && b->tag.lower == tag->lower && b->tag.upper == tag->upper;
  }

 private:
  ExternalBox* box() const { return static_cast<ExternalBox*>(sn_js_external_box(handle_)); }
};

// A reference that outlives the call (a slot in the host's reference table), freed with this object.
class ObjectReference {
 public:
  ObjectReference() = default;
  explicit ObjectReference(int ref) : ref_(ref) {}
  ObjectReference(const ObjectReference&) = delete;
  ObjectReference& operator=(const ObjectReference&) = delete;
  ObjectReference(ObjectReference&& other) noexcept : ref_(other.ref_) { other.ref_ = 0; }
  ObjectReference& operator=(ObjectReference&& other) noexcept {
    if (this != &other) {
      Reset();
      ref_ = other.ref_;
      other.ref_ = 0;
    }
    return *this;
  }
  ~ObjectReference() { Reset(); }
  bool IsEmpty() const { return ref_ == 0; }
  Object Value() const { return Object(Napi::Env(), IsEmpty() ? sn_js_undefined() : sn_js_ref_value(ref_)); }
  void Reset() {
    if (ref_ != 0) sn_js_ref_delete(ref_);
    ref_ = 0;
  }

 private:
  int ref_ = 0;
};

inline ObjectReference Persistent(const Object& value) { return ObjectReference(sn_js_ref_new(value.handle())); }

// The wasm heap is not V8's: the host only keeps the count (for tests and diagnostics).
namespace MemoryManagement {
inline int64_t AdjustExternalMemory(Napi::Env, int64_t change) {
  return static_cast<int64_t>(sn_js_adjust_external_memory(static_cast<double>(change)));
}
}  // namespace MemoryManagement

class CallbackInfo {
 public:
  explicit CallbackInfo(int argc) : argc_(argc) {}
  size_t Length() const { return static_cast<size_t>(argc_); }
  // Arguments are handles 1..argc; a missing one reads as undefined, as in N-API.
  Value operator[](size_t i) const {
    return Value(Napi::Env(), i < Length() ? static_cast<int>(i) + 1 : sn_js_undefined());
  }
  Napi::Env Env() const { return {}; }

 private:
  int argc_;
};

using Callback = Value (*)(const CallbackInfo&);

// The callbacks behind exported functions, by index (napi_shim.cc calls them).
std::vector<Callback>& callbacks();

class Function : public Object {
 public:
  using Object::Object;
  static Function New(Napi::Env env, Callback cb, const char* name) {
    callbacks().push_back(cb);
    return Function(env, sn_js_new_function(static_cast<int>(callbacks().size() - 1), name));
  }
};

class Promise : public Object {
 public:
  using Object::Object;
  class Deferred {
   public:
    static Deferred New(Napi::Env) { return Deferred(sn_js_new_deferred()); }
    Napi::Promise Promise() const { return Napi::Promise(Napi::Env(), sn_js_deferred_promise(handle_)); }
    void Resolve(const Napi::Value& v) const { sn_js_deferred_settle(handle_, 1, v.handle()); }
    void Reject(const Napi::Value& v) const { sn_js_deferred_settle(handle_, 0, v.handle()); }

   private:
    explicit Deferred(int handle) : handle_(handle) {}
    int handle_;
  };
};

// Without threads there is no pool: Queue() runs the work at once, then OnOK/OnError, then deletes
// the worker, so the promise it settles is already settled when the call returns.
class AsyncWorker {
 public:
  AsyncWorker(Napi::Env, const char*) {}
  virtual ~AsyncWorker() = default;
  virtual void Execute() = 0;
  virtual void OnOK() {}
  virtual void OnError(const Error&) {}
  void SetError(const std::string& msg) {
    failed_ = true;
    error_ = msg;
  }
  Napi::Env Env() const { return {}; }
  void Queue() {
    Execute();
    if (failed_) {
      OnError(Error::New(Env(), error_));
    } else {
      OnOK();
    }
    delete this;
  }

 private:
  bool failed_ = false;
  std::string error_;
};

template <typename T>
void External<T>::TypeTag(const napi_type_tag* tag) const {
  ExternalBox* b = box();
  if (b->tagged) throw Error::New(Napi::Env(), "Invalid argument");
  b->tag = *tag;
  b->tagged = true;
}

}  // namespace Napi

inline napi_status napi_get_typedarray_info(napi_env, napi_value value, napi_typedarray_type* type, size_t* length,
                                            void** data, void* arraybuffer, size_t* byte_offset) {
  const int handle = static_cast<int>(reinterpret_cast<uintptr_t>(value)) - 1;
  const int kind = sn_js_typedarray_type(handle);
  if (kind < 0 || arraybuffer != nullptr || byte_offset != nullptr) return napi_invalid_arg;
  if (type != nullptr) *type = static_cast<napi_typedarray_type>(kind);
  if (length != nullptr) *length = static_cast<size_t>(sn_js_length(handle));
  if (data != nullptr) *data = sn_js_data(handle);
  return napi_ok;
}

// Not N-API: the data of a typed array the call only reads (ArgReader's inputs). The host copies it into the heap
// like napi_get_typedarray_info's data but does not write that copy back after the call.
inline napi_status sn_get_typedarray_input_data(napi_value value, void** data) {
  const int handle = static_cast<int>(reinterpret_cast<uintptr_t>(value)) - 1;
  if (sn_js_typedarray_type(handle) < 0) return napi_invalid_arg;
  *data = sn_js_input_data(handle);
  return napi_ok;
}

// Not N-API: the data of a typed array the call overwrites whole before reading it (ArgReader's overwritten outputs).
// The host writes the copy back after the call like napi_get_typedarray_info's, but need not copy the array's bytes in.
inline napi_status sn_get_typedarray_output_data(napi_value value, void** data) {
  const int handle = static_cast<int>(reinterpret_cast<uintptr_t>(value)) - 1;
  if (sn_js_typedarray_type(handle) < 0) return napi_invalid_arg;
  *data = sn_js_output_data(handle);
  return napi_ok;
}

// Defines the entry the JS host calls once to build the exports object.
#define NODE_API_MODULE(name, init)                                              \
  extern "C" __attribute__((used, visibility("default"))) int sn_module_init() { \
    Napi::Env env;                                                               \
    return init(env, Napi::Object::New(env)).handle();                           \
  }
