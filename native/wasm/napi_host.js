// SPDX-License-Identifier: MIT
// Emscripten JS library of the WebAssembly build: each import of napi_host.h calls the same-named
// method (camelCase, without sn_js_) of Module.snHost, the host object of lib/backend/wasm-host.ts.
mergeInto(LibraryManager.library, {
  sn_js_type: function (h) {
    return Module['snHost'].type(h);
  },
  sn_js_typedarray_type: function (h) {
    return Module['snHost'].typedArrayType(h);
  },
  sn_js_is_array: function (h) {
    return Module['snHost'].isArray(h);
  },
  sn_js_is_arraybuffer: function (h) {
    return Module['snHost'].isArrayBuffer(h);
  },
  sn_js_length: function (h) {
    return Module['snHost'].length(h);
  },
  sn_js_byte_length: function (h) {
    return Module['snHost'].byteLength(h);
  },
  sn_js_data: function (h) {
    return Module['snHost'].data(h);
  },
  sn_js_input_data: function (h) {
    return Module['snHost'].inputData(h);
  },
  sn_js_output_data: function (h) {
    return Module['snHost'].outputData(h);
  },
  sn_js_number: function (h) {
    return Module['snHost'].number(h);
  },
  sn_js_string_length: function (h) {
    return Module['snHost'].stringLength(h);
  },
  sn_js_string_read: function (h, buf, len) {
    return Module['snHost'].stringRead(h, buf, len);
  },
  sn_js_get_index: function (h, i) {
    return Module['snHost'].getIndex(h, i);
  },
  sn_js_undefined: function () {
    return Module['snHost'].undef();
  },
  sn_js_new_number: function (v) {
    return Module['snHost'].newNumber(v);
  },
  sn_js_new_bool: function (v) {
    return Module['snHost'].newBool(v);
  },
  sn_js_new_string: function (s, len) {
    return Module['snHost'].newString(s, len);
  },
  sn_js_new_object: function () {
    return Module['snHost'].newObject();
  },
  sn_js_new_array: function () {
    return Module['snHost'].newArray();
  },
  sn_js_new_typedarray: function (type, length) {
    return Module['snHost'].newTypedArray(type, length);
  },
  sn_js_new_error: function (kind, msg, len) {
    return Module['snHost'].newError(kind, msg, len);
  },
  sn_js_new_function: function (index, name) {
    return Module['snHost'].newFunction(index, name);
  },
  sn_js_new_deferred: function () {
    return Module['snHost'].newDeferred();
  },
  sn_js_deferred_promise: function (d) {
    return Module['snHost'].deferredPromise(d);
  },
  sn_js_deferred_settle: function (d, resolve, value) {
    return Module['snHost'].deferredSettle(d, resolve, value);
  },
  sn_js_set_named: function (obj, key, value) {
    return Module['snHost'].setNamed(obj, key, value);
  },
  sn_js_set_index: function (arr, i, value) {
    return Module['snHost'].setIndex(arr, i, value);
  },
  sn_js_throw: function (error) {
    return Module['snHost'].throwError(error);
  },
  sn_js_new_external: function (box) {
    return Module['snHost'].newExternal(box);
  },
  sn_js_external_box: function (h) {
    return Module['snHost'].externalBox(h);
  },
  sn_js_ref_new: function (h) {
    return Module['snHost'].refNew(h);
  },
  sn_js_ref_value: function (ref) {
    return Module['snHost'].refValue(ref);
  },
  sn_js_ref_delete: function (ref) {
    return Module['snHost'].refDelete(ref);
  },
  sn_js_adjust_external_memory: function (change) {
    return Module['snHost'].adjustExternalMemory(change);
  },
});
