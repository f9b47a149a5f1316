// SPDX-License-Identifier: MIT
// The threaded WebAssembly build (build-wasm/simdnet-threads, Emscripten pthreads; SIMDNET_WASM_BUILD=threads):
// its pool threads start inside a synchronous call, and results are bit-identical on 1, 2 and 3 threads and
// to the one-thread build's.
import * as fs from 'fs';
import * as path from 'path';
import { WASM_HOST, type WasmHost } from '../../lib/backend/wasm-host';
import { loadWasmBinding, wasmBuildName, wasmDir } from '../../lib/backend/wasm-node';
import type { NativeBinding } from '../../lib/native';
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

  test('SIMDNET_WASM_BUILD=threads picks it (not the default yet), and the variable is checked', () => {
    const saved = process.env.SIMDNET_WASM_BUILD;
    try {
      delete process.env.SIMDNET_WASM_BUILD;
      expect(wasmBuildName()).toBe('simdnet');
      process.env.SIMDNET_WASM_BUILD = 'threads';
      expect(wasmBuildName()).toBe('simdnet-threads');
      process.env.SIMDNET_WASM_BUILD = 'two';
      expect(() => wasmBuildName()).toThrow('SIMDNET_WASM_BUILD must be "single" or "threads", got "two"');
    } finally {
      if (saved === undefined) delete process.env.SIMDNET_WASM_BUILD;
      else process.env.SIMDNET_WASM_BUILD = saved;
    }
    expect(wasm.kernelInfo()).toMatchObject({ backend: 'wasm', isa: 'simd128' });
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

  // Emscripten 3.1.6's -pthread build matches no typed C++ catch clause: the binding's TypeError escapes as a
  // WebAssembly.Exception. Why the threaded build is not Node's default; this test passes once that is fixed.
  test.failing("a bad argument is the addon's TypeError", () => {
    expect(() => wasm.setNumThreads('two' as never)).toThrow(TypeError);
  });

  (WASM_BUILT ? test : test.skip)('bit-identical to the one-thread build', () => {
    const single = load('single');
    wasm.setNumThreads(2);
    expectSame(lenetSteps(single, 2), lenetSteps(wasm, 2));
    wasm.setNumThreads('auto');
  });
});
