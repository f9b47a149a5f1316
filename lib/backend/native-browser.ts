// SPDX-License-Identifier: MIT
// The browser's lib/native.ts (scripts/build-browser.js maps every import of lib/native.ts here): `native`
// has no functions until `await init()` has instantiated the WebAssembly build; calling one before says so.
// init() picks the threaded build (simdnet-threads-web, Emscripten pthreads) where the page may share memory
// with workers (crossOriginIsolated), else the one-thread build (docs/wasm.md, Threads).
import type { KernelInfo, NativeBinding } from '../native';
import createSimdnetWasm from './wasm-glue';
import createSimdnetWasmThreads from './wasm-glue-threads';
import { instantiateWasm, type WebThreads } from './wasm-load';

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

export interface InitOptions {
  /**
   * "threads": the threaded build, which needs a crossOriginIsolated page (served with the headers
   * `Cross-Origin-Opener-Policy: same-origin` and `Cross-Origin-Embedder-Policy: require-corp`) and its files
   * (simdnet-threads-web.js, .wasm and .worker.js) beside simdnet.wasm; "single": one thread. Default: threads
   * when the page is crossOriginIsolated and `wasm` is a URL, else one thread.
   */
  build?: 'single' | 'threads';
  /** Threads of the threaded build, all started inside init() (default: navigator.hardwareConcurrency). */
  threads?: number;
}

/** The URL of the threaded build's file `name`, beside simdnet.wasm. */
function besideWasm(wasm: string | URL, name: string): string {
  const base = (globalThis as { location?: { href: string } }).location?.href;
  return new URL(name, new URL(String(wasm), base)).href;
}

async function fetchBytes(url: string | URL): Promise<ArrayBuffer> {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`simdnet: could not fetch ${String(url)}: HTTP ${response.status}`);
  return response.arrayBuffer();
}

function chooseBuild(wasm: string | URL | ArrayBuffer | Uint8Array, options: InitOptions): 'single' | 'threads' {
  const { build, threads } = options;
  if (build !== undefined && build !== 'single' && build !== 'threads')
    throw new TypeError(`simdnet: init's build must be "single" or "threads", got ${String(build)}`);
  if (threads !== undefined && !(Number.isInteger(threads) && threads >= 1))
    throw new RangeError(`simdnet: init's threads must be an integer >= 1, got ${String(threads)}`);
  const isolated = (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated === true;
  const byUrl = typeof wasm === 'string' || wasm instanceof URL;
  if (build === 'threads' && !isolated) {
    throw new Error(
      'simdnet: the threaded build needs a crossOriginIsolated page (serve it with the headers ' +
        'Cross-Origin-Opener-Policy: same-origin and Cross-Origin-Embedder-Policy: require-corp)',
    );
  }
  if (build === 'threads' && !byUrl)
    throw new TypeError(
      'simdnet: the threaded build needs the URL of simdnet.wasm, not bytes (its workers load files)',
    );
  return build ?? (isolated && byUrl ? 'threads' : 'single');
}

let ready: Promise<KernelInfo> | null = null;

/**
 * Loads simdnet.wasm (default: "simdnet.wasm" beside the page; or a URL, or its bytes) or the threaded build
 * beside it (InitOptions) and makes every simdnet function usable. Resolves to kernelInfo(), whose wasmBuild
 * and threads say which build runs on how many threads; later calls return the same promise.
 */
export function init(
  wasm: string | URL | ArrayBuffer | Uint8Array = 'simdnet.wasm',
  options: InitOptions = {},
): Promise<KernelInfo> {
  ready ??= (async () => {
    let binding: NativeBinding;
    if (chooseBuild(wasm, options) === 'threads') {
      const url = wasm as string | URL;
      const web: WebThreads = {
        locate: (file) => besideWasm(url, file),
        glue: besideWasm(url, 'simdnet-threads-web.js'),
      };
      const env: Record<string, string> = options.threads ? { SIMDNET_NUM_THREADS: String(options.threads) } : {};
      const bytes = await fetchBytes(besideWasm(url, 'simdnet-threads-web.wasm'));
      binding = await instantiateWasm(createSimdnetWasmThreads, bytes, env, web);
    } else {
      const bytes = typeof wasm === 'string' || wasm instanceof URL ? await fetchBytes(wasm) : wasm;
      binding = await instantiateWasm(createSimdnetWasm, bytes);
    }
    Object.assign(native, binding);
    return native.kernelInfo();
  })();
  ready.catch(() => (ready = null)); // a failed load may be retried
  return ready;
}
