// SPDX-License-Identifier: MIT
// The WebAssembly backend against the native addon (LeNet steps buffer by buffer) and the JS host's copies
// into and out of the wasm heap. test/native/*.test.ts run on it too with SIMDNET_BACKEND=wasm (.ci/wasm.sh).
import * as path from 'path';
import { instantiateWasm, instantiateWasmSync, type WasmFactory } from '../../lib/backend/wasm-load';
import { loadWasmBinding, wasmBuildName, wasmDir } from '../../lib/backend/wasm-node';
import type { NativeBinding } from '../../lib/native';
import { expectErrorNamed } from '../helpers';
import { ADDON_FILE, describeWasm } from './available';
import { lenetSteps } from './lenet-steps';

/** Names of buffers that differ by more than tol * max(1, largest magnitude of the buffer), with the difference. */
function differences(a: Map<string, Float32Array>, b: Map<string, Float32Array>, tol: number, only?: RegExp): string[] {
  const bad: string[] = [];
  for (const [name, x] of a) {
    if (only && !only.test(name)) continue;
    const y = b.get(name)!;
    let diff = 0,
      scale = 1;
    for (let i = 0; i < x.length; i++) {
      diff = Math.max(diff, Math.abs(x[i] - y[i]));
      scale = Math.max(scale, Math.abs(x[i]));
    }
    if (!(diff <= tol * scale)) bad.push(`${name}: max diff ${diff} (scale ${scale})`);
  }
  return bad;
}

describeWasm('WebAssembly backend', () => {
  let wasm: NativeBinding;
  beforeAll(() => {
    wasm = loadWasmBinding();
  });

  test('kernelInfo names the backend and the simd128 kernels; one thread unless threaded (threads.test.ts)', () => {
    const info = wasm.kernelInfo();
    expect(info).toMatchObject({ backend: 'wasm', isa: 'simd128', supportedIsas: ['ref', 'simd128'], openmp: false });
    expect(info.kernels.conv2d).toBe('simd128');
    if (wasmBuildName() === 'simdnet') expect(info.threads).toBe(1);
  });

  describe('against the native addon', () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const addon = ADDON_FILE ? (require(ADDON_FILE) as NativeBinding) : null;
    const withAddon = addon ? test : test.skip;
    afterAll(() => {
      addon?.setIsa('auto');
      wasm.setIsa('auto');
    });

    withAddon(
      'reference kernels: two LeNet training steps are bit-identical (every activation, gradient, parameter)',
      () => {
        addon!.setIsa('ref');
        wasm.setIsa('ref');
        const a = lenetSteps(addon!, 2);
        const w = lenetSteps(wasm, 2);
        expect(differences(a.buffers, w.buffers, 0)).toEqual([]);
        expect(w.losses).toEqual(a.losses);
      },
    );

    withAddon('simd128 vs the widest native ISA: logits, loss and gradients within 1e-5', () => {
      addon!.setIsa('auto');
      wasm.setIsa('simd128');
      const a = lenetSteps(addon!, 1);
      const w = lenetSteps(wasm, 1);
      // Parameters after Adam are left out: Adam divides by sqrt(v), so a gradient near 0 whose sign differs in
      // the last bit moves its parameter by lr either way (the reference-kernel test above covers Adam exactly).
      expect(differences(a.buffers, w.buffers, 1e-5, /logits|grad/)).toEqual([]);
      expect(Math.abs(w.losses[0] - a.losses[0])).toBeLessThanOrEqual(1e-5);
    });
  });

  test('bytes that do not compile: an error that names the SIMD128 requirement, sync and async', async () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const factory = require(path.join(wasmDir(), 'simdnet.js')) as WasmFactory;
    const bad = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 0xff]); // a wasm header, then garbage
    expectErrorNamed(() => instantiateWasmSync(factory, bad, {}), 'Error', /needs WebAssembly SIMD128/);
    await expect(instantiateWasm(factory, bad)).rejects.toThrow(/needs WebAssembly SIMD128/);
  });

  test('views of one buffer keep their overlap: out over input is refused, out === input runs in place', () => {
    const buf = new Float32Array([1, -2, 3, -4, 5, -6]);
    const err = expectErrorNamed(() => wasm.reluForward(buf.subarray(0, 4), buf.subarray(2, 6)), 'RangeError');
    expect(err.message).toBe('reluForward: out overlaps input in memory; pass separate buffers');
    const x = buf.subarray(1, 5);
    wasm.reluForward(x, x);
    expect(Array.from(buf)).toEqual([1, 0, 3, 0, 5, -6]);
  });

  test('SharedArrayBuffer views and offset views are read and written back; inputs stay as they were', () => {
    const shared = new Float32Array(new SharedArrayBuffer(4 * 8));
    shared.set([1, 2, 3, 4, 5, 6, 7, 8]);
    const out = shared.subarray(4, 8);
    const weight = new Float32Array([1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1]); // identity 4x4
    wasm.linearForward(out, shared.subarray(0, 4), weight, new Float32Array([0.5, 0.5, 0.5, 0.5]), 1, 4, 4);
    expect(Array.from(shared)).toEqual([1, 2, 3, 4, 1.5, 2.5, 3.5, 4.5]);
    expect(weight[0]).toBe(1);
  });

  test('typed arrays inside Array arguments are read, never copied back: a write JS makes meanwhile stays', () => {
    // linear 3 -> 2 (weight params[0], bias params[1]); the Proxy sets weight[0] when the wasm code reads params[1].
    const code = Int32Array.from([3, 3, 2, 0, 0, 1]);
    const weight = Float32Array.from([1, 2, 3, 4, 5, 6]);
    const bias = Float32Array.from([0.5, -0.5]);
    let reads = 0;
    const params = new Proxy([weight, bias], {
      get(target, key, receiver) {
        if (key === '1' && ++reads === 2) weight[0] = 42; // the first read is the host's, before the call
        return Reflect.get(target, key, receiver);
      },
    });
    const out = new Float32Array(2);
    wasm.runProgram(code, params, Float32Array.from([1, 1, 1]), out, 1);
    expect(Array.from(out)).toEqual([6.5, 14.5]); // computed from the copy made before the write
    expect(weight[0]).toBe(42);
  });

  test('calls that grow the wasm heap still return the right numbers', () => {
    const n = 1 << 22; // 16 MB per buffer, past the initial 32 MB heap with the copies
    const input = new Float32Array(n).fill(-1);
    input[n - 1] = 7;
    const out = new Float32Array(n);
    wasm.reluForward(out, input);
    expect(out[n - 1]).toBe(7);
    expect(out[0]).toBe(0);
  });

  test('an argument whose accessor calls simdnet during a call is refused, and the module stays usable', () => {
    const inner = new Float32Array(4);
    let reads = 0;
    // The host reads params[0] once before the call; the second read comes from inside the wasm code.
    const params = new Proxy([new Float32Array(1)], {
      get(target, key, receiver) {
        if (key === '0' && ++reads % 2 === 0) wasm.reluForward(inner, inner);
        return Reflect.get(target, key, receiver);
      },
    });
    const err = expectErrorNamed(
      () => wasm.runProgram(new Int32Array(0), params, new Float32Array(1), new Float32Array(1), 1),
      'Error',
    );
    expect(err.message).toMatch(/^reluForward: called from inside another simdnet call/);
    expect(reads).toBe(2);
    // The error unwound through wasm frames; the module still works (the host put its stack pointer back).
    const out = new Float32Array(3);
    wasm.reluForward(out, new Float32Array([-1, 2, -3]));
    expect(Array.from(out)).toEqual([0, 2, 0]);
  });
});
