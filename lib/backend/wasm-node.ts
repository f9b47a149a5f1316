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
 * Whether this Node can run the threaded build: shared WebAssembly memory (SharedArrayBuffer) and
 * worker_threads for Emscripten's pthreads.
 */
export function threadsSupported(): boolean {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    require('worker_threads');
    // (lib "ES2022" declares no WebAssembly.) Throws where shared memory is missing.
    const wasm = (globalThis as unknown as { WebAssembly: { Memory: new (desc: object) => object } }).WebAssembly;
    new wasm.Memory({ initial: 1, maximum: 1, shared: true });
    return typeof SharedArrayBuffer === 'function';
  } catch {
    return false;
  }
}

/**
 * The build to load: SIMDNET_WASM_BUILD ("single" or "threads") when set; else simdnet-threads (pthreads)
 * when it is built and this Node can run it (`canThread`), else simdnet (one thread).
 */
export function wasmBuildName(canThread: () => boolean = threadsSupported): string {
  const choice = process.env.SIMDNET_WASM_BUILD || undefined;
  if (choice !== undefined && choice !== 'single' && choice !== 'threads')
    throw new Error(`simdnet: SIMDNET_WASM_BUILD must be "single" or "threads", got "${choice}"`);
  if (choice === 'threads' && !canThread()) {
    throw new Error(
      'simdnet: SIMDNET_WASM_BUILD=threads, but this Node has no shared WebAssembly memory or worker_threads',
    );
  }
  if (choice !== undefined) return choice === 'threads' ? 'simdnet-threads' : 'simdnet';
  return fs.existsSync(path.join(wasmDir(), 'simdnet-threads.wasm')) && canThread() ? 'simdnet-threads' : 'simdnet';
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
