// SPDX-License-Identifier: MIT
// The napi shim's Externals and references on the WebAssembly build (native/wasm/napi.h, lib/backend/wasm-host.ts),
// through the program snapshots that use them: type tags refuse forged or foreign handles, the finalizer runs when
// JS drops a snapshot (FinalizationRegistry) and the explicit release frees its memory at once, and a
// runProgramAsync holds no reference after it settles. The snapshot semantics themselves are
// test/modules/program-snapshot.test.ts, which .ci/wasm.sh runs on this backend too.
import * as v8 from 'v8';
import * as vm from 'vm';
import { loadWasmBinding } from '../../lib/backend/wasm-node';
import { WASM_HOST, type WasmHost } from '../../lib/backend/wasm-host';
import type { NativeBinding } from '../../lib/native';
import { expectErrorNamed } from '../helpers';
import { describeWasm } from './available';

// linear 3 -> 2 with weight params[0] and bias params[1] (as in test/modules/program-snapshot.test.ts).
const LINEAR = Int32Array.from([3, 3, 2, 0, 0, 1]);
const weight = () => Float32Array.from([1, 2, 3, 4, 5, 6]);
const bias = () => Float32Array.from([0.5, -0.5]);

// gc() for this process: V8 exposes it to new contexts once the flag is set.
v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

describeWasm('WebAssembly externals and references', () => {
  let wasm: NativeBinding;
  let host: WasmHost;
  beforeAll(() => {
    wasm = loadWasmBinding();
    host = (wasm as unknown as Record<symbol, WasmHost>)[WASM_HOST];
  });

  test('a snapshot is an opaque object without prototype; forged and foreign handles are refused', () => {
    const w = weight();
    const snapshot = wasm.createProgramSnapshot([w, bias()], [w]);
    expect(typeof snapshot).toBe('object');
    expect(Object.getPrototypeOf(snapshot)).toBeNull();
    expect(Object.keys(snapshot)).toEqual([]);
    const other = loadWasmBinding(); // another module instance: its handles mean nothing here
    const foreign = other.createProgramSnapshot([w, bias()], [w]);
    for (const fake of [Object.freeze(Object.create(null)), {}, foreign]) {
      expectErrorNamed(
        () => wasm.programSnapshotMatches(fake as never, [w]),
        'TypeError',
        /^programSnapshotMatches: snapshot must come from createProgramSnapshot, got object$/,
      );
    }
    expect(wasm.programSnapshotMatches(snapshot, [w])).toBe(true);
    wasm.releaseProgramSnapshot(snapshot);
  });

  test('release frees the copy at once; runs settle asynchronously and keep no reference', async () => {
    const before = host.externalMemory;
    const w = weight();
    const snapshot = wasm.createProgramSnapshot([w, bias()], [w]);
    expect(host.externalMemory - before).toBe(8 * 4); // weight (a source) stored once, plus the bias
    let settled = false;
    const pending = wasm.runProgramAsync(LINEAR, snapshot, Float32Array.from([1, 1, 1]), 1).then((out) => {
      settled = true;
      return out;
    });
    expect(settled).toBe(false);
    expect(host.liveReferences()).toBe(0);
    wasm.releaseProgramSnapshot(snapshot);
    expect(host.externalMemory).toBe(before);
    expect(Array.from(await pending)).toEqual([6.5, 14.5]);
    expectErrorNamed(() => wasm.runProgramAsync(LINEAR, snapshot, new Float32Array(3), 1), 'RangeError', /released/);
  });

  test('snapshots JS drops are finalized: their memory and boxes are freed', async () => {
    const live = host.liveExternals;
    const memory = host.externalMemory;
    for (let i = 0; i < 20; i++) wasm.createProgramSnapshot([weight(), bias()], []);
    expect(host.liveExternals).toBe(live + 20);
    expect(host.externalMemory).toBe(memory + 20 * 8 * 4);
    // FinalizationRegistry callbacks run in later tasks after a collection: collect and yield until they have.
    for (let round = 0; round < 100 && host.liveExternals > live; round++) {
      gc();
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect(host.liveExternals).toBeLessThanOrEqual(live); // earlier tests' dropped snapshots may go too
    expect(host.externalMemory).toBe(memory);
    // The module still works after running the finalizers.
    const w = weight();
    expect(
      Array.from(await wasm.runProgramAsync(LINEAR, wasm.createProgramSnapshot([w, bias()], [w]), w.subarray(0, 3), 1)),
    ).toEqual([14.5, 31.5]);
  });
});
