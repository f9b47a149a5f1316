// SPDX-License-Identifier: MIT
// Types of Emscripten's glue for the browser bundle: scripts/build-browser.js resolves './wasm-glue' to
// build-wasm/simdnet.js. There is no ./wasm-glue.js in Node: Node loads the glue from a path (wasm-node.ts).
import type { WasmFactory } from './wasm-load';

declare const createSimdnetWasm: WasmFactory;
export default createSimdnetWasm;
