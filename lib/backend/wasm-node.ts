// SPDX-License-Identifier: MIT
// Loads the WebAssembly build in Node from build-wasm/ (npm run build:wasm), synchronously, so that
// lib/native.ts can hand it out like the addon.
import * as fs from 'fs';
import * as path from 'path';
import type { NativeBinding } from '../native';
import { instantiateWasmSync, type WasmFactory } from './wasm-load';

/** The folder holding simdnet.js and simdnet.wasm: SIMDNET_WASM_DIR, else the package's build-wasm/. */
export function wasmDir(): string {
  return path.resolve(process.env.SIMDNET_WASM_DIR || path.join(__dirname, '..', '..', 'build-wasm'));
}

/**
 * The build to load: simdnet (one thread), or simdnet-threads (pthreads) with SIMDNET_WASM_BUILD=threads.
 * Not the default yet: in Emscripten 3.1.6's -pthread build no typed C++ catch clause matches (only
 * catch (...) does), so the binding's argument errors escape as WebAssembly.Exception (docs/wasm.md).
 */
export function wasmBuildName(): string {
  const choice = process.env.SIMDNET_WASM_BUILD || undefined;
  if (choice !== undefined && choice !== 'single' && choice !== 'threads')
    throw new Error(`simdnet: SIMDNET_WASM_BUILD must be "single" or "threads", got "${choice}"`);
  return choice === 'threads' ? 'simdnet-threads' : 'simdnet';
}

/** Environment variables the C++ code reads (the wasm heap has no environment of its own). */
const PASSED_ENV = ['SIMDNET_ISA', 'SIMDNET_NUM_THREADS'];

export function loadWasmBinding(): NativeBinding {
  const dir = wasmDir();
  const name = wasmBuildName();
  const glue = path.join(dir, `${name}.js`);
  const wasm = path.join(dir, `${name}.wasm`);
  for (const file of [glue, wasm]) {
    if (!fs.existsSync(file)) {
      throw new Error(
        `simdnet: the WebAssembly build is missing (${file}); build it with: npm run build:wasm (needs Emscripten)`,
      );
    }
  }
  const env: Record<string, string> = {};
  for (const name of PASSED_ENV) {
    const value = process.env[name];
    if (value !== undefined) env[name] = value;
  }
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const factory = require(glue) as WasmFactory;
  return instantiateWasmSync(factory, fs.readFileSync(wasm), env);
}
