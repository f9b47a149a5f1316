// SPDX-License-Identifier: MIT
// Chooses the backend lib/native.ts exports in Node: the native addon, or the WebAssembly build when
// SIMDNET_BACKEND=wasm or when the addon cannot load. kernelInfo().backend says which one runs.
import type { NativeBinding } from '../native';
import { withBackend } from './wasm-load';
import { loadWasmBinding } from './wasm-node';

export const BACKENDS = ['native', 'wasm'] as const;
/** The kernel tables of every build (native/dispatch.cc), and "auto". */
export const ISA_NAMES = ['auto', 'ref', 'avx2', 'avx512', 'neon', 'simd128'] as const;

/**
 * SIMDNET_ISA must name a table: one this CPU or build lacks falls back to the widest it has (kernelInfo() says
 * which runs), but a misspelt one would silently run other kernels than asked for.
 */
function checkIsaEnv(): void {
  const isa = process.env.SIMDNET_ISA || undefined;
  if (isa !== undefined && !(ISA_NAMES as readonly string[]).includes(isa)) {
    throw new RangeError(`simdnet: SIMDNET_ISA must be one of ${ISA_NAMES.join(', ')}, got "${isa}"`);
  }
}

export function selectBackend(loadAddon: () => NativeBinding): NativeBinding {
  checkIsaEnv();
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
