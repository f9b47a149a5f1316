// SPDX-License-Identifier: MIT
// Instantiates the WebAssembly build (Emscripten's factory + the .wasm bytes) and returns its binding,
// synchronously (Node) or asynchronously (browsers limit synchronous compiles on the main thread).
// The bytes are always handed over here, so Emscripten's glue never fetches or reads files itself.
// No Node built-ins: the browser bundle uses this file too.
import type { KernelInfo, NativeBinding } from '../native';
import { WASM_HOST, WasmHost, type WasmModule } from './wasm-host';

/** Emscripten's MODULARIZE factory (build-wasm/simdnet.js): fills in and returns the module object. */
export type WasmFactory = (module: object) => unknown;

// The few WebAssembly JS API members used here (lib "ES2022" declares none, and dist's .d.ts stay DOM-free).
interface WasmInstance {
  exports: object;
}
declare const WebAssembly: {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => WasmInstance;
  instantiate(bytes: ArrayBuffer | Uint8Array, imports: object): Promise<{ instance: WasmInstance; module: object }>;
};

// The compiled module goes with the instance: the threaded build sends it to its workers.
type Instantiate = (imports: object, receive: (instance: WasmInstance, module: object) => void) => object;

/** A worker as the threaded glue (3.1.6) makes it: a Web Worker, or a worker_threads Worker in Node. */
interface PThreadWorker {
  loaded?: boolean;
  unref?: () => void;
  addEventListener?: (type: 'error', listener: (event: { message?: string }) => void) => void;
}

/** What the threaded build's glue (3.1.6) keeps of its workers (Module.PThread). */
interface PThreads {
  unusedWorkers: PThreadWorker[];
  allocateUnusedWorker(): void;
  loadWasmModuleToWorker(worker: PThreadWorker, onLoaded?: () => void): void;
  getNewWorker(): object | undefined;
}

/** Browser settings of the threaded build (simdnet-threads-web): its workers' scripts, and threads to start. */
export interface WebThreads {
  /** The URL of a file of build-wasm/ by name: the workers load the glue and the .worker.js script from there. */
  locate: (file: string) => string;
  /** The glue's own URL: each worker loads it with importScripts (it cannot know it inside the bundle). */
  glue: string;
}

/**
 * Lets the threaded build start its threads without a turn of the event loop. Emscripten 3.1.6 makes a
 * worker when pthread_create finds none, but holds the thread's start until the worker has reported
 * "loaded" to this thread, a message only the event loop delivers: the pool's threads (started inside an
 * op, with the caller busy) would then join only after the op. A worker handles its messages in order, so
 * the start may follow "load" at once: the worker is marked loaded when made. Nothing a pool thread runs
 * needs this thread. unref(): the pool's threads live as long as the process and must not keep Node alive.
 */
function startThreadsWithoutEventLoop(pthreads: PThreads): void {
  pthreads.getNewWorker = () => {
    if (pthreads.unusedWorkers.length === 0) {
      pthreads.allocateUnusedWorker();
      const worker = pthreads.unusedWorkers[0];
      pthreads.loadWasmModuleToWorker(worker);
      worker.loaded = true;
      worker.unref?.();
    }
    return pthreads.unusedWorkers.pop();
  };
}

/**
 * Makes and loads `count` workers and resolves once each has reported "loaded". In a browser a worker starts
 * only after its creator returns to the event loop, so threads the pool starts inside a synchronous op would
 * join only after it: they must be waiting, loaded, before the first op (init() awaits this).
 */
function preloadWorkers(pthreads: PThreads, count: number): Promise<void> {
  const loads = Array.from(
    { length: count },
    () =>
      new Promise<void>((resolve, reject) => {
        pthreads.allocateUnusedWorker();
        const worker = pthreads.unusedWorkers[pthreads.unusedWorkers.length - 1];
        // A missing script or a failed importScripts never reports "loaded": fail instead of waiting forever.
        worker.addEventListener?.('error', (event) =>
          reject(new Error(`simdnet: a WebAssembly thread failed to load: ${event.message ?? 'worker error'}`)),
        );
        pthreads.loadWasmModuleToWorker(worker, resolve);
      }),
  );
  return Promise.all(loads).then(() => undefined);
}

/** A compile failure is most likely an engine without SIMD128: say so, keeping the engine's message. */
function explain(err: unknown): Error {
  if ((err as Error | null)?.name !== 'CompileError') return err as Error;
  return new Error(
    'simdnet: this JavaScript engine cannot compile the WebAssembly build; it needs WebAssembly SIMD128 ' +
      `(Node >= 16.4, Chrome >= 91, Firefox >= 89, Safari >= 16.4): ${(err as Error).message}`,
  );
}
type Done = (err: unknown, binding?: NativeBinding) => void;

/**
 * Runs the factory; `done` is called once, with the binding or an error. Emscripten calls
 * onRuntimeInitialized as soon as `instantiate` hands over the instance: within this call when that is
 * synchronous. `env` holds variables the C++ code reads through getenv (SIMDNET_ISA, SIMDNET_NUM_THREADS).
 */
function start(
  factory: WasmFactory,
  instantiate: Instantiate,
  env: Record<string, string>,
  done: Done,
  web?: WebThreads,
): void {
  const host = new WasmHost();
  let finished = false;
  const finish: Done = (err, binding) => {
    if (!finished) done(err, binding);
    finished = true;
  };
  const module: Record<string, unknown> = {
    snHost: host,
    instantiateWasm: instantiate,
    preRun: [(m: { ENV: Record<string, string> }) => Object.assign(m.ENV, env)],
    onAbort: (what: unknown) => finish(new Error(`simdnet: the WebAssembly module aborted: ${String(what)}`)),
    // Emscripten reports its own failures here; the thrown error carries the message.
    printErr: () => undefined,
  };
  if (web) Object.assign(module, { locateFile: web.locate, mainScriptUrlOrBlob: web.glue });
  module.onRuntimeInitialized = () => {
    try {
      const pthreads = module.PThread as PThreads | undefined;
      if (pthreads) startThreadsWithoutEventLoop(pthreads);
      const binding = withBackend(host.attach(module as unknown as WasmModule) as unknown as NativeBinding, 'wasm', {
        wasmBuild: pthreads ? 'threads' : 'single',
      });
      Object.defineProperty(binding, WASM_HOST, { value: host });
      if (!pthreads || !web) finish(null, binding);
      // One worker per thread beyond this one (the count SIMDNET_NUM_THREADS or the core count gives).
      else preloadWorkers(pthreads, binding.kernelInfo().threads - 1).then(() => finish(null, binding), finish);
    } catch (err) {
      finish(err);
    }
  };
  factory(module);
}

/** Instantiates synchronously (Node): the binding is ready when this returns. */
export function instantiateWasmSync(
  factory: WasmFactory,
  bytes: Uint8Array,
  env: Record<string, string>,
): NativeBinding {
  let result: { err: unknown; binding?: NativeBinding } | null = null;
  let failure: unknown = null;
  const instantiate: Instantiate = (imports, receive) => {
    try {
      const compiled = new WebAssembly.Module(bytes);
      const instance = new WebAssembly.Instance(compiled, imports);
      receive(instance, compiled);
      return instance.exports;
    } catch (err) {
      failure = explain(err);
      throw err;
    }
  };
  start(factory, instantiate, env, (err, binding) => (result = { err, binding }));
  const r = result as { err: unknown; binding?: NativeBinding } | null;
  if (r?.binding) return r.binding;
  throw r?.err ?? failure ?? new Error('simdnet: the WebAssembly module did not start');
}

/**
 * Instantiates asynchronously (browsers, or Node when waiting is fine). `web`: the threaded browser build,
 * whose threads are all started and loaded before this resolves.
 */
export function instantiateWasm(
  factory: WasmFactory,
  bytes: ArrayBuffer | Uint8Array,
  env: Record<string, string> = {},
  web?: WebThreads,
): Promise<NativeBinding> {
  return new Promise((resolve, reject) => {
    const instantiate: Instantiate = (imports, receive) => {
      WebAssembly.instantiate(bytes, imports).then(
        (r) => receive(r.instance, r.module),
        (err) => reject(explain(err)),
      );
      return {};
    };
    start(factory, instantiate, env, (err, binding) => (binding ? resolve(binding) : reject(err)), web);
  });
}

/** The binding with kernelInfo() saying which backend runs ("native" addon or "wasm"), and which wasm build. */
export function withBackend(
  binding: NativeBinding,
  backend: KernelInfo['backend'],
  extra: Pick<KernelInfo, 'wasmBuild'> = {},
): NativeBinding {
  const kernelInfo = binding.kernelInfo;
  return { ...binding, kernelInfo: () => ({ ...kernelInfo(), backend, ...extra }) };
}
