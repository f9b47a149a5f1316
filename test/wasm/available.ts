// SPDX-License-Identifier: MIT
// Whether the WebAssembly build (and the native addon, to compare with) exist here. A fresh clone without
// Emscripten skips the wasm tests; CI builds it (.ci/wasm.sh) and sets SIMDNET_REQUIRE_WASM=1, which
// turns a missing build into a failure instead.
import * as fs from 'fs';
import * as path from 'path';
import { wasmDir } from '../../lib/backend/wasm-node';

export const WASM_BUILT = fs.existsSync(path.join(wasmDir(), 'simdnet.wasm'));
export const ADDON_FILE = [
  process.env.SIMDNET_ADDON_PATH ?? '',
  path.join(__dirname, '..', '..', 'build', 'Release', 'simdnet.node'),
].find((f) => f !== '' && fs.existsSync(f));

if (process.env.SIMDNET_REQUIRE_WASM === '1' && !WASM_BUILT) {
  throw new Error(`SIMDNET_REQUIRE_WASM=1 but there is no WebAssembly build in ${wasmDir()} (npm run build:wasm)`);
}

/** describe, or describe.skip with the reason in the title when the wasm build is missing. */
export const describeWasm = (title: string, body: () => void): void =>
  WASM_BUILT
    ? describe(title, body)
    : describe.skip(`${title} (skipped: no build-wasm/; npm run build:wasm needs Emscripten)`, body);
