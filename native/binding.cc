// SPDX-License-Identifier: MIT
// The addon's entry point: registration only (as lovell/sharp's src/sharp.cc). Each family's exports
// live in binding_<family>.cc (see binding.h); they are the only files that include napi.h, and their
// argument order follows the kernels: outputs, saved buffers, inputs, then sizes.
#include <napi.h>

#include "binding.h"

namespace {

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  simdnet::register_conv_exports(env, exports);
  simdnet::register_conv_transpose_exports(env, exports);
  simdnet::register_pool_exports(env, exports);
  simdnet::register_upsample_exports(env, exports);
  simdnet::register_dense_exports(env, exports);
  simdnet::register_norm_exports(env, exports);
  simdnet::register_activation_exports(env, exports);
  simdnet::register_loss_exports(env, exports);
  simdnet::register_optim_exports(env, exports);
  simdnet::register_program_exports(env, exports);
  simdnet::register_runtime_exports(env, exports);
  simdnet::register_image_exports(env, exports);
  simdnet::register_slice_exports(env, exports);
  return exports;
}

}  // namespace

NODE_API_MODULE(simdnet, Init)
