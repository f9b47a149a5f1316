// SPDX-License-Identifier: MIT
// The browser's lib/native.ts (scripts/build-browser.js maps every import of lib/native.ts here): `native`
// has no functions until `await init()` has instantiated the WebAssembly build; calling one before says so.
import type { KernelInfo, NativeBinding } from '../native';
import createSimdnetWasm from './wasm-glue';
import { instantiateWasm } from './wasm-load';

const notReady = new Proxy(
  {},
  {
    get: (_target, name) => () => {
      throw new Error(`simdnet: ${String(name)}() needs the WebAssembly backend: call \`await init()\` first`);
    },
  },
);

/** The binding: own properties after init() shadow the not-ready prototype. */
export const native = Object.create(notReady) as NativeBinding;

let ready: Promise<KernelInfo> | null = null;

/**
 * Loads simdnet.wasm (default: "simdnet.wasm" beside the page; or a URL, or its bytes) and makes every
 * simdnet function usable. Resolves to kernelInfo(); later calls return the same promise.
 */
export function init(wasm: string | URL | ArrayBuffer | Uint8Array = 'simdnet.wasm'): Promise<KernelInfo> {
  ready ??= (async () => {
    let bytes: ArrayBuffer | Uint8Array;
    if (typeof wasm === 'string' || wasm instanceof URL) {
      const response = await fetch(wasm);
      if (!response.ok) throw new Error(`simdnet: could not fetch ${String(wasm)}: HTTP ${response.status}`);
      bytes = await response.arrayBuffer();
    } else {
      bytes = wasm;
    }
    Object.assign(native, await instantiateWasm(createSimdnetWasm, bytes));
    return native.kernelInfo();
  })();
  ready.catch(() => (ready = null)); // a failed load may be retried
  return ready;
}
