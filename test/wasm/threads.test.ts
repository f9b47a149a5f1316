// SPDX-License-Identifier: MIT
// The threaded WebAssembly build (build-wasm/simdnet-threads, Emscripten pthreads; Node's default where it can
// run): its pool threads start inside a synchronous call, results are bit-identical on 1, 2 and 3 threads and
// to the one-thread build's, and bad arguments throw the addon's errors.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { WASM_HOST, type WasmHost } from '../../lib/backend/wasm-host';
import { loadWasmBinding, threadsSupported, wasmBuildName, wasmDir } from '../../lib/backend/wasm-node';
import type { NativeBinding } from '../../lib/native';
import { expectErrorNamed } from '../helpers';
import { WASM_BUILT } from './available';
import { lenetSteps, type StepsResult } from './lenet-steps';

const THREADS_BUILT = fs.existsSync(path.join(wasmDir(), 'simdnet-threads.wasm'));
if (process.env.SIMDNET_REQUIRE_WASM === '1' && !THREADS_BUILT) {
  throw new Error(`SIMDNET_REQUIRE_WASM=1 but ${wasmDir()} has no simdnet-threads.wasm (npm run build:wasm)`);
}

/** Loads one of the two builds (SIMDNET_WASM_BUILD, read by wasm-node.ts). */
function load(build: 'single' | 'threads'): NativeBinding {
  const saved = process.env.SIMDNET_WASM_BUILD;
  process.env.SIMDNET_WASM_BUILD = build;
  try {
    return loadWasmBinding();
  } finally {
    if (saved === undefined) delete process.env.SIMDNET_WASM_BUILD;
    else process.env.SIMDNET_WASM_BUILD = saved;
  }
}

function expectSame(a: StepsResult, b: StepsResult): void {
  expect(b.losses).toEqual(a.losses);
  for (const [name, x] of a.buffers) expect([name, b.buffers.get(name)]).toEqual([name, x]);
}

const describeThreads = (title: string, body: () => void): void =>
  THREADS_BUILT
    ? describe(title, body)
    : describe.skip(`${title} (skipped: no simdnet-threads.wasm; npm run build:wasm needs Emscripten)`, body);

describeThreads('threaded WebAssembly build', () => {
  let wasm: NativeBinding;
  beforeAll(() => {
    wasm = load('threads');
  });

  test('the default where it can run, else the one-thread build; SIMDNET_WASM_BUILD picks one and is checked', () => {
    const savedBuild = process.env.SIMDNET_WASM_BUILD;
    const savedDir = process.env.SIMDNET_WASM_DIR;
    const noThreads = (): boolean => false;
    try {
      delete process.env.SIMDNET_WASM_BUILD;
      expect(threadsSupported()).toBe(true); // Node >= 16: SharedArrayBuffer, shared memory, worker_threads
      expect(wasmBuildName()).toBe('simdnet-threads');
      expect(wasmBuildName(noThreads)).toBe('simdnet');
      process.env.SIMDNET_WASM_DIR = fs.mkdtempSync(path.join(os.tmpdir(), 'simdnet-wasm-')); // no threaded build
      expect(wasmBuildName()).toBe('simdnet');
      fs.rmdirSync(process.env.SIMDNET_WASM_DIR);
      process.env.SIMDNET_WASM_DIR = savedDir ?? '';
      process.env.SIMDNET_WASM_BUILD = 'single';
      expect(wasmBuildName()).toBe('simdnet');
      process.env.SIMDNET_WASM_BUILD = 'threads';
      expect(wasmBuildName()).toBe('simdnet-threads');
      expect(() => wasmBuildName(noThreads)).toThrow('SIMDNET_WASM_BUILD=threads, but this Node has no shared');
      process.env.SIMDNET_WASM_BUILD = 'two';
      expect(() => wasmBuildName()).toThrow('SIMDNET_WASM_BUILD must be "single" or "threads", got "two"');
    } finally {
      for (const [name, value] of [
        ['SIMDNET_WASM_BUILD', savedBuild],
        ['SIMDNET_WASM_DIR', savedDir],
      ] as const) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
    }
    expect(wasm.kernelInfo()).toMatchObject({ backend: 'wasm', isa: 'simd128', wasmBuild: 'threads' });
  });

  test('two LeNet steps: a pool thread starts inside the synchronous call; 1, 2, 3 threads bit-identical', () => {
    const host = (wasm as unknown as Record<symbol, WasmHost>)[WASM_HOST];
    wasm.setNumThreads(1);
    const one = lenetSteps(wasm, 2);
    expect(host.threadWorkers()).toBe(0);
    for (const n of [2, 3]) {
      wasm.setNumThreads(n);
      expectSame(one, lenetSteps(wasm, 2));
      expect(host.threadWorkers()).toBe(n - 1);
    }
    wasm.setNumThreads('auto');
  });

  // Before native/wasm/lpad_context.cc no typed C++ catch clause matched in this build: these escaped to JS as
  // WebAssembly.Exception.
  test("bad arguments throw the addon's TypeError and RangeError, with its messages", () => {
    expectErrorNamed(() => wasm.setNumThreads('two' as never), 'TypeError', /^setNumThreads: n must be a number, got/);
    expectErrorNamed(() => wasm.setNumThreads(0), 'RangeError', /n must be an integer >= 1/);
    expectErrorNamed(() => wasm.setIsa('sse9'), 'RangeError', /choose one of: auto, ref/);
    expectErrorNamed(() => wasm.reluForward(new Float32Array(3), new Float32Array(4)), 'RangeError');
    expect(wasm.kernelInfo().isa).toBe('simd128');
  });

  (WASM_BUILT ? test : test.skip)('the same errors as the one-thread build', () => {
    const single = load('single');
    const calls: ((b: NativeBinding) => unknown)[] = [
      (b) => b.setNumThreads('two' as never),
      (b) => b.setNumThreads(4096),
      (b) => b.setIsa(3 as never),
      (b) => b.reluForward(new Float32Array(3), new Float32Array(4)),
      (b) => b.add(new Float32Array(2), new Float32Array(2), [] as never),
    ];
    const thrown = (b: NativeBinding, call: (b: NativeBinding) => unknown): string => {
      try {
        call(b);
      } catch (err) {
        return `${(err as Error).name}: ${(err as Error).message}`;
      }
      return 'no error';
    };
    for (const call of calls) {
      const expected = thrown(single, call);
      expect(expected).toMatch(/^(TypeError|RangeError): /);
      expect(thrown(wasm, call)).toBe(expected);
    }
  });

  (WASM_BUILT ? test : test.skip)('bit-identical to the one-thread build', () => {
    const single = load('single');
    wasm.setNumThreads(2);
    expectSame(lenetSteps(single, 2), lenetSteps(wasm, 2));
    wasm.setNumThreads('auto');
  });
});
