// SPDX-License-Identifier: MIT
// Types of the threaded browser build's glue: scripts/build-browser.js resolves './wasm-glue-threads' to
// build-wasm/simdnet-threads-web.js. Like ./wasm-glue, it exists only in the browser bundle.
import type { WasmFactory } from './wasm-load';

declare const createSimdnetWasm: WasmFactory;
export default createSimdnetWasm;
