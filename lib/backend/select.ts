// SPDX-License-Identifier: MIT
// Chooses the backend lib/native.ts exports in Node: the native addon, or the WebAssembly build when
// SIMDNET_BACKEND=wasm or when the addon cannot load. kernelInfo().backend says which one runs.
import type { NativeBinding } from '../native';
import { withBackend } from './wasm-load';
import { loadWasmBinding } from './wasm-node';

export const BACKENDS = ['native', 'wasm'] as const;

export function selectBackend(loadAddon: () => NativeBinding): NativeBinding {
  const choice = process.env.SIMDNET_BACKEND || undefined;
  if (choice !== undefined && !(BACKENDS as readonly string[]).includes(choice)) {
    throw new Error(`simdnet: SIMDNET_BACKEND must be "native" or "wasm", got "${choice}"`);
  }
  if (choice === 'wasm') return loadWasmBinding();
  try {
    return withBackend(loadAddon(), 'native');
  } catch (addonError) {
    if (choice === 'native') throw addonError;
    try {
      return loadWasmBinding();
    } catch (wasmError) {
      (addonError as Error).message +=
        `\nThe WebAssembly fallback did not load either: ${(wasmError as Error).message}`;
      throw addonError;
    }
  }
}
