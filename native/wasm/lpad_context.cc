// SPDX-License-Identifier: MIT
// The threaded WebAssembly build's replacement for Emscripten's libunwind/src/Unwind-wasm.c (3.1.6), with the
// same functions; only __wasm_lpad_context differs. Linked only into simdnet-threads (scripts/build-wasm.js);
// with every symbol of that file defined here, the linker never takes the library's copy.
//
// Why: a catch clause with a type calls _Unwind_CallPersonality from its landing pad, after writing the
// landing pad's index and LSDA into __wasm_lpad_context; the personality function reads them back from there
// and writes the matching clause's selector. Emscripten 3.1.6's -pthread libunwind (libunwind-mt-except.a)
// declares that variable thread_local, but Debian's clang 14 still refers to it as a plain global (its
// WasmEHPrepare predates the thread-local context), and wasm-ld 14 links the two without a word. The landing
// pads then wrote to a fixed address while the personality function read the thread's own, empty, copy:
// no LSDA, no typed clause matched, and only catch (...) caught (the binding's TypeError escaped to JS as a
// WebAssembly.Exception). Here the variable is the plain global both sides use.
//
// One context for all threads is safe here because only the thread that called into the module (the JS
// thread) runs typed catch clauses: the ops' pool threads catch with catch (...) alone (ops/parallel.h,
// ops/thread_pool.cc), and the compiler calls the personality function only for clauses with a type.
#include <stdint.h>
#include <unwind.h>

extern "C" {

_Unwind_Reason_Code __gxx_personality_wasm0(int version, _Unwind_Action actions, uint64_t exception_class,
                                            _Unwind_Exception* exception, _Unwind_Context* context);

struct _Unwind_LandingPadContext {
  uintptr_t lpad_index;  // in: the landing pad's index
  uintptr_t lsda;        // in: the function's LSDA
  uintptr_t selector;    // out: the matching clause, set by the personality function
};

_Unwind_LandingPadContext __wasm_lpad_context;

static _Unwind_LandingPadContext* lpad(_Unwind_Context* context) {
  return reinterpret_cast<_Unwind_LandingPadContext*>(context);
}

// Called from landing pads with typed clauses (the VM unwinds, so there is only the cleanup phase).
_Unwind_Reason_Code _Unwind_CallPersonality(void* exception_ptr) {
  auto* exception = static_cast<_Unwind_Exception*>(exception_ptr);
  __wasm_lpad_context.selector = 0;
  return __gxx_personality_wasm0(1, _UA_CLEANUP_PHASE, exception->exception_class, exception,
                                 reinterpret_cast<_Unwind_Context*>(&__wasm_lpad_context));
}

_Unwind_Reason_Code _Unwind_RaiseException(_Unwind_Exception* exception) { __builtin_wasm_throw(0, exception); }

void _Unwind_DeleteException(_Unwind_Exception* exception) {
  if (exception->exception_cleanup != nullptr) exception->exception_cleanup(_URC_FOREIGN_EXCEPTION_CAUGHT, exception);
}

// The personality function sets only the selector (register 1).
void _Unwind_SetGR(_Unwind_Context* context, int index, _Unwind_Word value) {
  if (index == 1) lpad(context)->selector = value;
}

// Used as a 1-based index after subtracting 1, hence + 2 (as in libunwind).
_Unwind_Word _Unwind_GetIP(_Unwind_Context* context) { return lpad(context)->lpad_index + 2; }

void _Unwind_SetIP(_Unwind_Context*, _Unwind_Word) {}

void* _Unwind_GetLanguageSpecificData(_Unwind_Context* context) { return reinterpret_cast<void*>(lpad(context)->lsda); }

_Unwind_Ptr _Unwind_GetRegionStart(_Unwind_Context*) { return 0; }

}  // extern "C"
