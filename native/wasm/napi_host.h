// SPDX-License-Identifier: MIT
// What the WebAssembly build imports from JavaScript (native/wasm/napi_host.js forwards each to the host
// object of lib/backend/wasm-host.ts): reads and creates JS values by handle. Used only by napi.h.
#pragma once
#include <cstdint>

extern "C" {
int sn_js_type(int h);             // a napi_valuetype
int sn_js_typedarray_type(int h);  // a napi_typedarray_type, or -1 when h is not a typed array
int sn_js_is_array(int h);
int sn_js_is_arraybuffer(int h);
double sn_js_length(int h);  // elements of a typed array or Array
double sn_js_byte_length(int h);
void* sn_js_data(int h);         // the typed array's bytes copied into the heap (null when it has none)
void* sn_js_input_data(int h);   // the same, for an input only read: the copy is not written back after the call
void* sn_js_output_data(int h);  // the same, for an output overwritten whole: the array's bytes need not be copied in
double sn_js_number(int h);
int sn_js_string_length(int h);  // UTF-8 bytes
void sn_js_string_read(int h, char* buf, int len);
int sn_js_get_index(int h, uint32_t i);
int sn_js_undefined();
int sn_js_new_number(double v);
int sn_js_new_bool(int v);
int sn_js_new_string(const char* s, int len);
int sn_js_new_object();
int sn_js_new_array();
int sn_js_new_typedarray(int type, double length);
int sn_js_new_error(int kind, const char* msg, int len);  // kind: 0 Error, 1 TypeError, 2 RangeError
int sn_js_new_function(int index, const char* name);
int sn_js_new_deferred();
int sn_js_deferred_promise(int d);
void sn_js_deferred_settle(int d, int resolve, int value);
void sn_js_set_named(int obj, const char* key, int value);
void sn_js_set_index(int arr, uint32_t i, int value);
void sn_js_throw(int error);  // the value the current call throws
// Externals: a new JS object standing for `box` (a Napi::ExternalBox*), and the box of a handle (null when
// the value is no External of this module). The host calls sn_external_finalize(box) when JS drops it.
int sn_js_new_external(void* box);
void* sn_js_external_box(int h);
// References that outlive a call: a slot holding the value, the value back as a handle, and freeing the slot.
int sn_js_ref_new(int h);
int sn_js_ref_value(int ref);
void sn_js_ref_delete(int ref);
double sn_js_adjust_external_memory(double change);  // returns the new total
}
