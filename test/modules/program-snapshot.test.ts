// SPDX-License-Identifier: MIT
// The native weight snapshots behind predictAsync(): a snapshot is a copy (later writes to the arrays do not reach it),
// programSnapshotMatches (and runProgramSnapshot given the sources) sees any changed bit, a released snapshot refuses to
// run, and bad arguments get clear errors.
import { native, type ProgramSnapshot } from '../../lib/native';
import { expectErrorNamed } from '../helpers';

// linear 3 -> 2 with weight params[0] and bias params[1].
const LINEAR = Int32Array.from([3, 3, 2, 0, 0, 1]);

function linearSnapshot(): { weight: Float32Array; bias: Float32Array; snapshot: ProgramSnapshot } {
  const weight = Float32Array.from([1, 2, 3, 4, 5, 6]);
  const bias = Float32Array.from([0.5, -0.5]);
  return { weight, bias, snapshot: native.createProgramSnapshot([weight, bias], [weight, bias]) };
}

describe('program snapshots', () => {
  test('runs on its copy of the weights; matches() sees any change, bit for bit', async () => {
    const { weight, bias, snapshot } = linearSnapshot();
    const input = Float32Array.from([1, 1, 1]);
    const pending = native.runProgramAsync(LINEAR, snapshot, input, 1);
    weight.fill(0); // after the call: the run reads the snapshot
    expect(Array.from(await pending)).toEqual([6.5, 14.5]);
    expect(native.programSnapshotMatches(snapshot, [weight, bias])).toBe(false);
    expect(Array.from(await native.runProgramAsync(LINEAR, snapshot, input, 1))).toEqual([6.5, 14.5]);
    weight.set([1, 2, 3, 4, 5, 6]);
    expect(native.programSnapshotMatches(snapshot, [weight, bias])).toBe(true);
    bias.set([0, -0]); // -0 and 0 differ in their bits: a change
    const zero = native.createProgramSnapshot([weight, Float32Array.from([0, 0])], [weight, Float32Array.from([0, 0])]);
    expect(native.programSnapshotMatches(zero, [weight, bias])).toBe(false);
    expect(native.programSnapshotMatches(snapshot, [weight])).toBe(false); // another list of arrays
  });

  test('params that are not sources (folded copies) are copied too', async () => {
    const weight = Float32Array.from([1, 0, 0, 0, 1, 0]);
    const folded = Float32Array.from([2, 2]);
    const s = native.createProgramSnapshot([weight, folded], [weight]);
    folded.fill(100);
    expect(Array.from(await native.runProgramAsync(LINEAR, s, Float32Array.from([3, 4, 5]), 1))).toEqual([5, 6]);
  });

  test('a released snapshot refuses to run; runs already queued finish', async () => {
    const { snapshot } = linearSnapshot();
    const pending = native.runProgramAsync(LINEAR, snapshot, Float32Array.from([1, 0, 0]), 1);
    native.releaseProgramSnapshot(snapshot);
    expect(Array.from(await pending)).toEqual([1.5, 3.5]);
    expectErrorNamed(() => native.runProgramAsync(LINEAR, snapshot, new Float32Array(3), 1), 'RangeError', /released/);
    expectErrorNamed(() => native.programSnapshotMatches(snapshot, []), 'RangeError', /released/);
    native.releaseProgramSnapshot(snapshot); // twice is harmless
  });

  test('runProgramSnapshot runs on this thread from the copy, conv weights packed once, equal to runProgram', () => {
    // conv 3 -> 32 channels (the channel-vectorised path, whose packed weights the snapshot keeps), 6x6, padding 1.
    const code = Int32Array.from([1, 3, 6, 6, 32, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1]);
    const weight = Float32Array.from({ length: 32 * 27 }, (_, i) => Math.sin(i));
    const bias = Float32Array.from({ length: 32 }, (_, i) => i / 32 - 0.5);
    const input = Float32Array.from({ length: 108 }, (_, i) => Math.cos(i));
    const want = new Float32Array(32 * 36);
    native.runProgram(code, [weight, bias], input, want, 1);
    const snapshot = native.createProgramSnapshot([weight, bias], [weight, bias]);
    weight.fill(0); // the snapshot keeps its copy
    for (let run = 0; run < 2; run++) {
      const got = new Float32Array(32 * 36);
      native.runProgramSnapshot(code, snapshot, input, got, 1);
      expect(got).toEqual(want);
    }
    expectErrorNamed(
      () => native.runProgramSnapshot(code, snapshot, input, new Float32Array(5), 1),
      'RangeError',
      /output/,
    );
    native.releaseProgramSnapshot(snapshot);
    expectErrorNamed(() => native.runProgramSnapshot(code, snapshot, input, want, 1), 'RangeError', /released/);
  });

  test('runProgramSnapshot with sources runs only while they hold the copied values, on 1 or 3 threads', () => {
    // linear 20,000 -> 1: the weight is two pieces of the in-run comparison; batch 1 runs in one region, 64 by chunks.
    const length = 20000;
    const code = Int32Array.from([3, length, 1, 0, 0, 1]);
    const weight = Float32Array.from({ length }, (_, i) => ((i % 7) - 3) / 8);
    const bias = Float32Array.from([0.25]);
    const snapshot = native.createProgramSnapshot([weight, bias], [weight, bias]);
    try {
      for (const threads of [1, 3]) {
        native.setNumThreads(threads);
        for (const n of [1, 64]) {
          const input = Float32Array.from({ length: n * length }, (_, i) => (i % 5) - 2);
          const want = new Float32Array(n);
          native.runProgram(code, [weight, bias], input, want, n);
          const got = new Float32Array(n);
          expect(native.runProgramSnapshot(code, snapshot, input, got, n, [weight, bias])).toBe(true);
          expect(got).toEqual(want);
          weight[length - 1] = -weight[length - 1] - 1; // the last piece only
          const untouched = new Float32Array(n).fill(7);
          expect(native.runProgramSnapshot(code, snapshot, input, untouched, n, [weight, bias])).toBe(false);
          expect(untouched).toEqual(new Float32Array(n).fill(7));
          weight[length - 1] = -weight[length - 1] - 1;
          expect(native.runProgramSnapshot(code, snapshot, input, got, n, [weight])).toBe(false); // another list
          expect(native.runProgramSnapshot(code, snapshot, input, got, n, [bias, weight])).toBe(false);
          expectErrorNamed(
            () => native.runProgramSnapshot(code, snapshot, input, got, n, {} as never),
            'TypeError',
            /runProgramSnapshot: sources must be an Array/,
          );
        }
      }
    } finally {
      native.setNumThreads('auto');
      native.releaseProgramSnapshot(snapshot);
    }
  });

  test('bad arguments get TypeError or RangeError naming them', () => {
    const { snapshot } = linearSnapshot();
    expectErrorNamed(() => native.createProgramSnapshot({} as never, []), 'TypeError', /params must be an Array/);
    expectErrorNamed(
      () => native.createProgramSnapshot([[1]] as never, []),
      'TypeError',
      /params\[0\] must be a Float32Array/,
    );
    expectErrorNamed(() => native.createProgramSnapshot([], [new Int32Array(2)] as never), 'TypeError', /sources\[0\]/);
    for (const fake of [{}, null, 3, new Float32Array(2)]) {
      expectErrorNamed(
        () => native.runProgramAsync(LINEAR, fake as never, new Float32Array(3), 1),
        'TypeError',
        /snapshot must come from createProgramSnapshot/,
      );
    }
    expectErrorNamed(() => native.runProgramAsync([3] as never, snapshot, new Float32Array(3), 1), 'TypeError', /code/);
    expectErrorNamed(
      () => native.runProgramAsync(Int32Array.from([3, 3, 2, 0, 0, 5]), snapshot, new Float32Array(3), 1),
      'RangeError',
      /not a parameter/,
    );
    expectErrorNamed(
      () => native.runProgramAsync(Int32Array.from([3, 2, 3, 0, 0, 1]), snapshot, new Float32Array(2), 1),
      'RangeError',
      /linear bias length 2 != 3/,
    );
    expectErrorNamed(
      () => native.runProgramAsync(LINEAR, snapshot, new Float32Array(4), 1),
      'RangeError',
      /input length 4/,
    );
    expectErrorNamed(() => native.runProgramAsync(LINEAR, snapshot, new Float32Array(3), 0), 'RangeError', /n must be/);
  });
});
