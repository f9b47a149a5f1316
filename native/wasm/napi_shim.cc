// SPDX-License-Identifier: MIT
// The call trampoline of the WebAssembly build: the JS host puts a call's arguments at handles
// 1..argc and calls sn_call(index, argc); C++ errors become JS errors here, as node-addon-api does.
#include <napi.h>

#include <new>
#include <string>

namespace Napi {
std::vector<Callback>& callbacks() {
  static std::vector<Callback> table;
  return table;
}
}  // namespace Napi

namespace {
void throw_message(const std::string& msg) { sn_js_throw(Napi::Error::New(Napi::Env(), msg).handle()); }
}  // namespace

// Returns the result's handle; after sn_js_throw the host throws instead of returning.
extern "C" __attribute__((used, visibility("default"))) int sn_call(int index, int argc) {
  try {
    const Napi::CallbackInfo info(argc);
    return Napi::callbacks().at(static_cast<size_t>(index))(info).handle();
  } catch (const Napi::Error& e) {
    sn_js_throw(e.handle());
  } catch (const std::bad_alloc&) {
    throw_message("out of memory");
  } catch (const std::exception& e) {
    throw_message(e.what());
  }
  return 0;
}

// Called by the host once JS has dropped an External (FinalizationRegistry): runs its finalizer, frees the box.
// Never inside another call, so the finalizer may use the imports that need no handles of a call.
extern "C" __attribute__((used, visibility("default"))) void sn_external_finalize(Napi::ExternalBox* box) {
  try {
    box->Finalize();
  } catch (...) {
    // A finalizer has no caller to report to; node-addon-api would abort here, we keep the module running.
  }
  delete box;
}
